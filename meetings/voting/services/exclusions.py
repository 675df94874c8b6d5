"""Exclusions (除斥, §117): a member takes no part in an agenda item; recorded before its vote."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from council.audit import audit_record
from council.models import Person
from meetings.attendance.models import Exclusion
from meetings.attendance.quorum import body_member_ids
from meetings.models import AgendaItem
from meetings.voting.errors import VotingError
from meetings.voting.models import Poll
from meetings.voting.services.common import broadcast


def exclusion_add(*, agenda_item: AgendaItem, person: Person, reason: str, by) -> Exclusion:
    """除斥 (§117): the member takes no part in this item; recorded before its vote opens."""
    sitting = agenda_item.sitting
    reason = (reason or "").strip()
    if not reason:
        raise VotingError(_("Give the reason for the exclusion."), code="invalid", field="reason")
    if Poll.objects.filter(motion__agenda_item=agenda_item, state=Poll.State.OPEN).exists():
        raise VotingError(
            _("A vote on this item is open; record exclusions before it opens."), code="poll_open"
        )
    if person.pk not in body_member_ids(sitting):
        raise VotingError(
            _("%(name)s is not a member of %(body)s.") % {"name": person, "body": sitting.body},
            code="not_member",
        )
    with transaction.atomic():
        exclusion, created = Exclusion.objects.get_or_create(
            agenda_item=agenda_item, person=person, defaults={"reason": reason, "recorded_by": by}
        )
        if not created:
            raise VotingError(
                _("%(name)s is already excluded from this item.") % {"name": person},
                code="invalid",
                field="person_id",
            )
        audit_record(
            action="exclusion.add",
            actor=by,
            target=exclusion,
            data={"agenda_item": agenda_item.pk, "person": person.pk, "reason": reason},
        )
        broadcast(sitting, "quorum", "attendance")
    return exclusion


def exclusion_remove(*, exclusion: Exclusion, by) -> None:
    sitting = exclusion.agenda_item.sitting
    if Poll.objects.filter(motion__agenda_item=exclusion.agenda_item, state=Poll.State.OPEN).exists():
        raise VotingError(
            _("A vote on this item is open; record exclusions before it opens."), code="poll_open"
        )
    with transaction.atomic():
        audit_record(
            action="exclusion.remove",
            actor=by,
            target=exclusion,
            data={"agenda_item": exclusion.agenda_item_id, "person": exclusion.person_id},
        )
        exclusion.delete()
        broadcast(sitting, "quorum", "attendance")
