"""Atom feed of new matters and decisions (Django's syndication framework): what the clerk
published, so the town's website and news apps pick it up."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed

from meetings.matters import rules
from meetings.matters.models import Matter, MatterStep


@dataclass
class Entry:
    guid: str
    title: str
    description: str
    matter: Matter
    at: datetime.datetime


def _at(day: datetime.date, fallback: datetime.datetime) -> datetime.datetime:
    return max(fallback, timezone.make_aware(datetime.datetime.combine(day, datetime.time(17, 0))))


class MattersFeed(Feed):
    feed_type = Atom1Feed
    title = "議会 議案・議決結果"
    subtitle = "新たに提出された議案等と議決結果"
    limit = 50

    def link(self):
        return reverse("meetings:matters:public_index")

    def items(self) -> list[Entry]:
        entries: list[Entry] = []
        published = (
            Matter.objects.filter(published_at__isnull=False)
            .select_related("session", "amends")
            .order_by("-published_at")[: self.limit]
        )
        for matter in published:
            entries.append(
                Entry(
                    f"matter-{matter.pk}",
                    f"{matter.label_ja} {matter.title}",
                    f"{matter.session.title}に提出(提出日 {matter.submitted_on.isoformat()})",
                    matter,
                    matter.published_at,
                )
            )
        decisions = (
            MatterStep.objects.filter(kind=rules.DECIDED, matter__published_at__isnull=False)
            .select_related("matter__session", "matter__amends")
            .order_by("-at")[: self.limit]
        )
        for step in decisions:
            result = rules.RESULT_JA.get(step.outcome, step.outcome)
            entries.append(
                Entry(
                    f"decision-{step.pk}",
                    f"{step.matter.label_ja} {step.matter.title}: {result}",
                    f"{step.date.isoformat()} {result}",
                    step.matter,
                    max(step.at, step.matter.published_at),
                )
            )
        entries.sort(key=lambda e: e.at, reverse=True)
        return entries[: self.limit]

    def item_title(self, item: Entry) -> str:
        return item.title

    def item_description(self, item: Entry) -> str:
        return item.description

    def item_link(self, item: Entry) -> str:
        return reverse("meetings:matters:public_matter", args=[item.matter.pk]) + f"#{item.guid}"

    def item_guid(self, item: Entry) -> str:
        return item.guid

    item_guid_is_permalink = False

    def item_pubdate(self, item: Entry) -> datetime.datetime:
        return item.at

    def item_updateddate(self, item: Entry) -> datetime.datetime:
        return item.at
