"""Reads for meeting pages: what a user sees, with the queries it needs in one place."""

from __future__ import annotations

import datetime

from django.db.models import Max, Prefetch, Q, QuerySet
from django.utils import timezone

from council import permissions as org
from council.models import Body
from meetings.models import AgendaItem, AgendaItemDocument, Session, Sitting


def upcoming_sittings_for(user, *, today: datetime.date | None = None, limit: int = 20) -> list[Sitting]:
    """Sittings from today on of the bodies the user follows; agenda items attached as ``visible_items``.

    Members see only published orders of business; the secretariat sees drafts too.
    """
    day = today or timezone.localdate()
    bodies = org.bodies_for(user)
    if org.is_official(user):
        council_id = org.person_of(user).council_id
        sittings = Sitting.objects.filter(body__council_id=council_id)
    else:
        sittings = Sitting.objects.filter(body__in=bodies)
    sittings = (
        sittings.filter(date__gte=day)
        .select_related("session", "body", "body__council")
        .prefetch_related(Prefetch("agenda_items", queryset=AgendaItem.objects.order_by("position", "id")))
        .order_by("date", "start_time", "body__order")[:limit]
    )
    clerk = org.is_clerk(user)
    result = list(sittings)
    for sitting in result:
        sitting.visible_items = (
            list(sitting.agenda_items.all()) if (clerk or sitting.agenda_published_at) else []
        )
    return result


def next_sitting_number(*, session: Session, body) -> int:
    """The next 第n号 of a body in a session: sittings are numbered per body within the session
    (the plenary's 第2号 and a committee's 第1号 can fall on the same day)."""
    numbers = Sitting.objects.filter(session=session, body=body).values_list("number", flat=True)
    return max(numbers, default=0) + 1


def next_sitting_numbers(session: Session) -> dict[int, int]:
    """``next_sitting_number`` for every body of the session's council, for the new-sitting form."""
    taken = dict(
        Sitting.objects.filter(session=session)
        .values("body_id")
        .annotate(top=Max("number"))
        .values_list("body_id", "top")
    )
    bodies = Body.objects.filter(council_id=session.council_id).values_list("pk", flat=True)
    return {pk: (taken.get(pk) or 0) + 1 for pk in bodies}


def upcoming_documents_for(user, today: datetime.date) -> dict[int, Sitting]:
    """The documents on the agenda of the user's upcoming sittings (scheduled or under way), each
    with its earliest sitting from ``today`` on; never a document linked to a closed-session item
    (秘密会). Registered with ``documents.annotations.selectors`` for the offline packet."""
    closed = AgendaItemDocument.objects.filter(agenda_item__closed_session=True).values("document_id")
    wanted = (
        AgendaItemDocument.objects.filter(
            agenda_item__sitting__date__gte=today,
            agenda_item__sitting__status__in=[
                Sitting.Status.SCHEDULED,
                Sitting.Status.OPEN,
                Sitting.Status.RECESS,
            ],
            agenda_item__sitting__body__in=org.bodies_for(user),
        )
        .exclude(document_id__in=closed)
        .values("document_id")
    )
    links = (
        AgendaItemDocument.objects.filter(document_id__in=wanted, agenda_item__sitting__date__gte=today)
        .select_related("agenda_item__sitting", "agenda_item__sitting__body", "agenda_item__sitting__session")
        .order_by("agenda_item__sitting__date", "pk")
    )
    found: dict[int, Sitting] = {}
    for link in links:
        found.setdefault(link.document_id, link.agenda_item.sitting)
    return found


def sessions_for_clerk() -> QuerySet[Session]:
    return Session.objects.select_related("council").prefetch_related(
        Prefetch("sittings", queryset=Sitting.objects.select_related("body").order_by("date", "start_time"))
    )


def sitting_detail(pk: int) -> Sitting:
    return Sitting.objects.select_related("session", "body", "body__council").get(pk=pk)


def agenda_items(sitting: Sitting) -> list[AgendaItem]:
    return list(sitting.agenda_items.order_by("position", "id").prefetch_related("document_links__document"))


def body_calendar_sittings(body) -> QuerySet[Sitting]:
    """Every sitting of a body for its calendar feed, cancelled ones included."""
    return (
        Sitting.objects.filter(body=body)
        .select_related("session", "body")
        .prefetch_related(
            Prefetch(
                "agenda_items",
                queryset=AgendaItem.objects.filter(~Q(closed_session=True)).order_by("position"),
            )
        )
        .order_by("date", "start_time")
    )


def sittings_in_session_for(user) -> list[Sitting]:
    """Sittings now open or in recess (開会中・休憩中) of the bodies the user follows, for the start page.

    Each carries ``current_item`` (the agenda item on the floor, from the live state) when the order of
    business is published, else None.
    """
    from meetings.live.models import LiveState

    if org.is_official(user):
        sittings = Sitting.objects.filter(body__council_id=org.person_of(user).council_id)
    else:
        sittings = Sitting.objects.filter(body__in=org.bodies_for(user))
    result = list(
        sittings.filter(status__in=[Sitting.Status.OPEN, Sitting.Status.RECESS])
        .select_related("session", "body", "body__council")
        .order_by("date", "start_time", "body__order")
    )
    live = {
        s.sitting_id: s for s in LiveState.objects.filter(sitting__in=result).select_related("agenda_item")
    }
    for sitting in result:
        state = live.get(sitting.pk)
        item = state.agenda_item if state else None
        sitting.current_item = item if (item and sitting.agenda_published_at) else None
    return result
