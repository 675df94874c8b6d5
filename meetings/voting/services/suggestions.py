"""Join and leave events from the video call, offered to the clerk as suggestions for the roll."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from council.audit import audit_record
from council.models import Person
from meetings.attendance.models import Attendance, AttendanceSuggestion
from meetings.attendance.quorum import body_member_ids
from meetings.models import Sitting
from meetings.voting.errors import VotingError
from meetings.voting.services.common import broadcast
from meetings.voting.services.roll import attendance_mark


def suggestion_add(
    *, sitting: Sitting, event: str, display_name: str, person_id: int | None = None, by=None
) -> AttendanceSuggestion:
    """A join/leave event from the video call, offered to the clerk; the roll is not touched."""
    if event not in AttendanceSuggestion.Event.values:
        raise VotingError(_("Unknown event."), code="invalid", field="event")
    person = None
    if person_id is not None:
        person = Person.objects.filter(pk=person_id, council_id=sitting.body.council_id).first()
    else:
        person = match_member(sitting, display_name)
    with transaction.atomic():
        suggestion = AttendanceSuggestion.objects.create(
            sitting=sitting, person=person, event=event, display_name=(display_name or "")[:100]
        )
        audit_record(
            action="attendance.suggestion",
            actor=by,
            target=suggestion,
            data={
                "sitting": sitting.pk,
                "event": event,
                "person": person_id,
                "display_name": suggestion.display_name,
            },
        )
        broadcast(sitting, "attendance")
    return suggestion


def match_member(sitting: Sitting, display_name: str) -> Person | None:
    """The member a video-call name belongs to: "3番 山田 太郎" (as our tablets set it) or the name."""
    import re

    text = re.sub(r"\s+", "", display_name or "")
    members = list(Person.objects.filter(pk__in=body_member_ids(sitting)))
    seat = re.match(r"^(\d+)番", text)
    if seat:
        found = [p for p in members if p.seat_number == int(seat.group(1))]
        name = text[seat.end() :]
        if len(found) == 1 and (not name or re.sub(r"\s+", "", found[0].full_name) == name):
            return found[0]
    found = [p for p in members if re.sub(r"\s+", "", p.full_name) == text]
    return found[0] if len(found) == 1 else None


def suggestion_decide(*, suggestion: AttendanceSuggestion, accept: bool, by) -> AttendanceSuggestion:
    if suggestion.state != AttendanceSuggestion.State.PENDING:
        raise VotingError(
            _("This suggestion has already been handled."), code="invalid", field="suggestion_id"
        )
    if accept and suggestion.person is None:
        raise VotingError(
            _("The call participant could not be matched to a member; mark the roll by hand."),
            code="invalid",
            field="accept",
        )
    sitting = suggestion.sitting
    if accept:
        status = (
            Attendance.Status.PRESENT_ONLINE
            if suggestion.event == AttendanceSuggestion.Event.JOINED
            else Attendance.Status.LEFT
        )
        attendance_mark(sitting=sitting, person=suggestion.person, status=status, by=by, source="jitsi")
    with transaction.atomic():
        suggestion.state = (
            AttendanceSuggestion.State.ACCEPTED if accept else AttendanceSuggestion.State.DISMISSED
        )
        suggestion.decided_by = by
        suggestion.save(update_fields=["state", "decided_by"])
        audit_record(
            action="attendance.suggestion_decided",
            actor=by,
            target=suggestion,
            data={"state": suggestion.state},
        )
        broadcast(sitting, "attendance")
    return suggestion
