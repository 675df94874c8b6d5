"""Every change to the roll, remote attendance, exclusions, the floor, motions and polls.

Each service is keyword-only, runs in one transaction, appends an audit entry and publishes the
live update through ``meetings.events`` (sent on commit). Refusals raise ``VotingError`` with a
translated message; nothing is written except, for refused votes, an audit entry of the refusal.

Concurrency: casting, closing and entering counts lock the poll row (``select_for_update`` on
PostgreSQL; on SQLite every transaction begins IMMEDIATE, so writers are serialized). A ballot is
therefore either committed before the close (and counted) or sees the poll closed (and refused);
the unique constraint per poll and member makes a second ballot impossible either way.

Secret ballots: the voter's participation row and the poll's totals change in one transaction,
but no row, audit entry, log line or broadcast holds the choice next to the voter.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from council.audit import AuditItem, audit_record, audit_record_many
from council.models import Person
from council.permissions import person_of
from meetings.models import AgendaItem, Sitting
from meetings.voting import rules, selectors
from meetings.voting._live import publish_many
from meetings.voting.errors import VotingError
from meetings.voting.models import (
    Attendance,
    AttendanceChange,
    AttendanceSuggestion,
    Ballot,
    Choice,
    Exclusion,
    FloorTurn,
    IdentityCheck,
    Motion,
    Objection,
    Poll,
    RemoteAttendanceRequest,
    SecretParticipation,
)
from meetings.voting.quorum import body_member_ids, present_now, quorum_status, remote_counts_here, roll_count

logger = logging.getLogger(__name__)

LIVE_STATUSES = (Sitting.Status.OPEN, Sitting.Status.RECESS)


# --- broadcasting -----------------------------------------------------------------------------

# The console receives the members' and the clerks' streams: parts with a richer clerks' view
# go to both and the console keeps the clerks' one; the others go to members and public only.
PART_AUDIENCES = {
    "attendance": ("members", "public", "clerks"),
    "quorum": ("members", "public"),
    "floor": ("members", "public"),
    "poll": ("members", "public", "clerks"),
}


def broadcast(sitting: Sitting, *parts: str) -> None:
    """Publish the named state parts to their audiences (one payload per audience)."""
    events = []
    for part in parts:
        for audience in PART_AUDIENCES[part]:
            payload = selectors.part(part, sitting=sitting, audience=audience)
            if payload is not None:
                events.append((f"voting.{part}", payload, audience))
    publish_many(sitting_id=sitting.pk, events=events)


def _lock_sitting(sitting_id: int) -> Sitting:
    return Sitting.objects.select_for_update().select_related("body", "body__council").get(pk=sitting_id)


# --- the roll ---------------------------------------------------------------------------------


def _role_for(person: Person) -> str:
    return {
        Person.Kind.OFFICIAL: Attendance.Role.OFFICIAL,
        Person.Kind.SECRETARIAT: Attendance.Role.SECRETARIAT,
    }.get(person.kind, Attendance.Role.MEMBER)


def roll_prepare(*, sitting: Sitting, by=None) -> int:
    """Put every member of the body on the roll (as not yet present). Idempotent."""
    members = body_member_ids(sitting)
    existing = set(Attendance.objects.filter(sitting=sitting).values_list("person_id", flat=True))
    missing = sorted(members - existing)
    if not missing:
        return 0
    with transaction.atomic():
        for person_id in missing:
            Attendance.objects.get_or_create(
                sitting=sitting, person_id=person_id, defaults={"role": Attendance.Role.MEMBER}
            )
        audit_record(action="attendance.roll_prepared", actor=by, target=sitting, data={"added": missing})
    return len(missing)


def attendance_mark(
    *,
    sitting: Sitting,
    person: Person,
    status: str,
    by=None,
    absence_reason: str = "",
    note: str = "",
    source: str = "clerk",
) -> Attendance:
    """Record a line of the roll: present in the room or online, absent (with reason), late
    (arrived now) or left (now). Every change is kept in ``AttendanceChange`` and audited."""
    if status not in Attendance.Status.values:
        raise VotingError(_("Unknown attendance status."), code="invalid")
    if absence_reason not in Attendance.AbsenceReason.values:
        raise VotingError(_("Unknown reason for absence."), code="invalid")
    if person.council_id != sitting.body.council_id:
        raise VotingError(_("This person belongs to another council."), code="invalid")
    role = _role_for(person)
    if role == Attendance.Role.MEMBER and person.pk not in body_member_ids(sitting):
        raise VotingError(
            _("%(name)s is not a member of %(body)s.") % {"name": person, "body": sitting.body},
            code="not_member",
        )
    if status == Attendance.Status.PRESENT_ONLINE:
        if role != Attendance.Role.MEMBER:
            raise VotingError(_("Only members attend online."), code="invalid")
        if not sitting.body.is_plenary and not sitting.body.allows_remote_attendance:
            raise VotingError(
                _("%(body)s does not allow remote attendance.") % {"body": sitting.body},
                code="remote_not_allowed",
            )
        if person.pk not in selectors.remote_cleared(sitting):
            raise VotingError(
                _(
                    "%(name)s cannot be marked present online before the chair has approved the request and "
                    "the identity check has passed."
                )
                % {"name": person},
                code="remote_not_cleared",
            )
    now = timezone.now()
    with transaction.atomic():
        _lock_sitting(sitting.pk)
        row, _created = Attendance.objects.select_for_update().get_or_create(
            sitting=sitting, person=person, defaults={"role": role}
        )
        previous = row.status
        row.status = status
        row.role = role
        row.absence_reason = absence_reason if status == Attendance.Status.ABSENT else ""
        row.note = note
        if status in (
            Attendance.Status.PRESENT_ROOM,
            Attendance.Status.PRESENT_ONLINE,
            Attendance.Status.LATE,
        ):
            if (
                status == Attendance.Status.LATE
                or row.arrived_at is None
                or previous == Attendance.Status.LEFT
            ):
                row.arrived_at = now
            row.left_at = None
        elif status == Attendance.Status.LEFT:
            row.left_at = now
        row.updated_at = now
        row.save()
        AttendanceChange.objects.create(
            attendance=row,
            status=status,
            absence_reason=row.absence_reason,
            at=now,
            by=by if getattr(by, "is_authenticated", False) else None,
            source=source,
        )
        audit_record(
            action="attendance.mark",
            actor=by,
            target=row,
            data={
                "sitting": sitting.pk,
                "person": person.pk,
                "from": previous,
                "status": status,
                "reason": row.absence_reason,
                "source": source,
            },
        )
        broadcast(sitting, "attendance", "quorum")
    return row


def attendance_check_in(*, sitting: Sitting, user) -> Attendance:
    """A remote member checks in from the tablet (counted only where remote attendance counts)."""
    person = person_of(user)
    if person is None or person.pk not in body_member_ids(sitting):
        raise VotingError(_("You are not a member of %(body)s.") % {"body": sitting.body}, code="not_member")
    if sitting.status not in (Sitting.Status.SCHEDULED, *LIVE_STATUSES):
        raise VotingError(_("This sitting is closed."), code="sitting_closed")
    request = RemoteAttendanceRequest.objects.filter(sitting=sitting, person=person).first()
    if request is None or request.decision != RemoteAttendanceRequest.Decision.APPROVED:
        raise VotingError(
            _("Your request to attend online has not been approved by the chair."), code="remote_not_approved"
        )
    if request.disconnected_at is not None:
        raise VotingError(
            _("The chair has disconnected you; ask the chair to readmit you."), code="remote_disconnected"
        )
    if person.pk not in selectors.remote_cleared(sitting):
        raise VotingError(
            _("The clerk has not yet completed your connection and identity check."),
            code="remote_not_checked",
        )
    return attendance_mark(
        sitting=sitting, person=person, status=Attendance.Status.PRESENT_ONLINE, by=user, source="check-in"
    )


def attendance_check_out(*, sitting: Sitting, user) -> Attendance:
    person = person_of(user)
    row = Attendance.objects.filter(sitting=sitting, person=person).first() if person else None
    if row is None or row.status != Attendance.Status.PRESENT_ONLINE:
        raise VotingError(_("You are not checked in online."), code="not_checked_in")
    return attendance_mark(
        sitting=sitting, person=person, status=Attendance.Status.LEFT, by=user, source="check-out"
    )


# --- remote attendance ------------------------------------------------------------------------


def remote_apply(*, sitting: Sitting, person: Person, reason: str, by=None) -> RemoteAttendanceRequest:
    """A member applies in advance to attend online, with a reason."""
    body = sitting.body
    if person.pk not in body_member_ids(sitting):
        raise VotingError(_("You are not a member of %(body)s.") % {"body": body}, code="not_member")
    if not body.is_plenary and not body.allows_remote_attendance:
        raise VotingError(
            _("%(body)s does not allow remote attendance.") % {"body": body}, code="remote_not_allowed"
        )
    reason = (reason or "").strip()
    if not reason:
        raise VotingError(_("Give the reason for attending online."), code="invalid")
    if sitting.status in (Sitting.Status.CLOSED, Sitting.Status.CANCELLED):
        raise VotingError(_("This sitting is closed."), code="sitting_closed")
    with transaction.atomic():
        request, created = RemoteAttendanceRequest.objects.select_for_update().get_or_create(
            sitting=sitting, person=person, defaults={"reason": reason}
        )
        if not created:
            if request.decision in (
                RemoteAttendanceRequest.Decision.PENDING,
                RemoteAttendanceRequest.Decision.APPROVED,
            ):
                raise VotingError(
                    _("You have already applied to attend this sitting online."), code="already_applied"
                )
            request.reason = reason
            request.decision = RemoteAttendanceRequest.Decision.PENDING
            request.applied_at = timezone.now()
            request.decided_at = None
            request.decided_by = None
            request.save()
        audit_record(
            action="remote.apply",
            actor=by,
            target=request,
            data={"sitting": sitting.pk, "person": person.pk, "reason": reason},
        )
        broadcast(sitting, "attendance")
    return request


def remote_decide(*, request: RemoteAttendanceRequest, approve: bool, by) -> RemoteAttendanceRequest:
    """The chair approves or refuses (approving again readmits a disconnected member)."""
    with transaction.atomic():
        request = (
            RemoteAttendanceRequest.objects.select_for_update()
            .select_related("sitting__body")
            .get(pk=request.pk)
        )
        if request.decision == RemoteAttendanceRequest.Decision.WITHDRAWN:
            raise VotingError(_("The member has withdrawn this request."), code="withdrawn")
        request.decision = (
            RemoteAttendanceRequest.Decision.APPROVED if approve else RemoteAttendanceRequest.Decision.REFUSED
        )
        request.decided_by = by
        request.decided_at = timezone.now()
        if approve:
            request.disconnected_at = None
            request.disconnected_by = None
        request.save()
        audit_record(
            action="remote.decide",
            actor=by,
            target=request,
            data={"sitting": request.sitting_id, "person": request.person_id, "decision": request.decision},
        )
        broadcast(request.sitting, "attendance")
    return request


def identity_check_record(
    *, request: RemoteAttendanceRequest, method: str, passed: bool, by, note: str = ""
) -> IdentityCheck:
    """The clerk's connection and identity check (本人確認): who checked, when, how."""
    if method not in IdentityCheck.Method.values:
        raise VotingError(_("Unknown identity check method."), code="invalid")
    with transaction.atomic():
        request = (
            RemoteAttendanceRequest.objects.select_for_update()
            .select_related("sitting__body")
            .get(pk=request.pk)
        )
        if request.decision != RemoteAttendanceRequest.Decision.APPROVED:
            raise VotingError(_("The chair has not approved this request yet."), code="remote_not_approved")
        check = IdentityCheck.objects.create(
            request=request, checked_by=by, method=method, passed=passed, note=note
        )
        audit_record(
            action="remote.identity_check",
            actor=by,
            target=check,
            data={"request": request.pk, "person": request.person_id, "method": method, "passed": passed},
        )
        if not passed:
            row = Attendance.objects.filter(
                sitting=request.sitting, person_id=request.person_id, status=Attendance.Status.PRESENT_ONLINE
            ).first()
            if row:
                _set_status(row, Attendance.Status.LEFT, by=by, source="identity-check-failed")
        broadcast(request.sitting, "attendance", "quorum")
    return check


def _set_status(row: Attendance, status: str, *, by, source: str) -> None:
    now = timezone.now()
    row.status = status
    if status == Attendance.Status.LEFT:
        row.left_at = now
    row.updated_at = now
    row.save()
    AttendanceChange.objects.create(attendance=row, status=status, at=now, by=by, source=source)
    audit_record(
        action="attendance.mark",
        actor=by,
        target=row,
        data={"sitting": row.sitting_id, "person": row.person_id, "status": status, "source": source},
    )


def remote_disconnect(*, sitting: Sitting, person: Person, by) -> RemoteAttendanceRequest:
    """The chair cuts a remote member's connection to keep order; they stop counting at once."""
    with transaction.atomic():
        request = (
            RemoteAttendanceRequest.objects.select_for_update().filter(sitting=sitting, person=person).first()
        )
        if request is None or request.decision != RemoteAttendanceRequest.Decision.APPROVED:
            raise VotingError(_("%(name)s is not attending online.") % {"name": person}, code="not_remote")
        request.disconnected_at = timezone.now()
        request.disconnected_by = by
        request.save()
        audit_record(
            action="remote.disconnect",
            actor=by,
            target=request,
            data={"sitting": sitting.pk, "person": person.pk},
        )
        row = Attendance.objects.filter(
            sitting=sitting, person=person, status=Attendance.Status.PRESENT_ONLINE
        ).first()
        if row:
            _set_status(row, Attendance.Status.LEFT, by=by, source="disconnect")
        broadcast(sitting, "attendance", "quorum")
    return request


# --- Jitsi suggestions ------------------------------------------------------------------------


def suggestion_add(
    *, sitting: Sitting, event: str, display_name: str, person_id: int | None = None, by=None
) -> AttendanceSuggestion:
    """A join/leave event from the video call, offered to the clerk; the roll is not touched."""
    if event not in AttendanceSuggestion.Event.values:
        raise VotingError(_("Unknown event."), code="invalid")
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
        raise VotingError(_("This suggestion has already been handled."), code="invalid")
    if accept and suggestion.person is None:
        raise VotingError(
            _("The call participant could not be matched to a member; mark the roll by hand."), code="invalid"
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


# --- exclusions (除斥) ------------------------------------------------------------------------


def exclusion_add(*, agenda_item: AgendaItem, person: Person, reason: str, by) -> Exclusion:
    """除斥 (§117): the member takes no part in this item; recorded before its vote opens."""
    sitting = agenda_item.sitting
    reason = (reason or "").strip()
    if not reason:
        raise VotingError(_("Give the reason for the exclusion."), code="invalid")
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
                _("%(name)s is already excluded from this item.") % {"name": person}, code="invalid"
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


# --- the floor --------------------------------------------------------------------------------


def _present_person(sitting: Sitting, person: Person) -> Attendance | None:
    row = Attendance.objects.filter(sitting=sitting, person=person).first()
    if row and (row.in_room or row.status == Attendance.Status.PRESENT_ONLINE):
        return row
    return None


def floor_request(*, sitting: Sitting, user, agenda_item: AgendaItem | None = None) -> FloorTurn:
    """A member asks for the floor (発言の許可を求める) from the tablet."""
    person = person_of(user)
    if person is None or person.pk not in body_member_ids(sitting):
        raise VotingError(
            _("Only members of %(body)s can ask for the floor.") % {"body": sitting.body}, code="not_member"
        )
    if sitting.status != Sitting.Status.OPEN:
        raise VotingError(_("The sitting is not in progress."), code="sitting_not_open")
    row = _present_person(sitting, person)
    if row is None:
        raise VotingError(_("You are not recorded as present."), code="not_present")
    with transaction.atomic():
        if FloorTurn.objects.filter(
            sitting=sitting, person=person, status__in=[FloorTurn.Status.WAITING, FloorTurn.Status.SPEAKING]
        ).exists():
            raise VotingError(_("You have already asked for the floor."), code="already_waiting")
        try:
            with transaction.atomic():
                turn = FloorTurn.objects.create(
                    sitting=sitting,
                    person=person,
                    agenda_item=agenda_item,
                    remote=row.status == Attendance.Status.PRESENT_ONLINE,
                )
        except IntegrityError:
            raise VotingError(_("You have already asked for the floor."), code="already_waiting") from None
        audit_record(
            action="floor.request", actor=user, target=turn, data={"sitting": sitting.pk, "person": person.pk}
        )
        broadcast(sitting, "floor")
    return turn


def floor_withdraw(*, sitting: Sitting, user) -> FloorTurn:
    person = person_of(user)
    with transaction.atomic():
        turn = (
            FloorTurn.objects.select_for_update()
            .filter(sitting=sitting, person=person, status=FloorTurn.Status.WAITING)
            .first()
        )
        if turn is None:
            raise VotingError(_("You are not waiting for the floor."), code="not_waiting")
        turn.status = FloorTurn.Status.WITHDRAWN
        turn.ended_at = timezone.now()
        turn.save()
        audit_record(action="floor.withdraw", actor=user, target=turn, data={"sitting": sitting.pk})
        broadcast(sitting, "floor")
    return turn


def _end_current(sitting: Sitting, *, by, now) -> FloorTurn | None:
    current = (
        FloorTurn.objects.select_for_update()
        .filter(sitting=sitting, status=FloorTurn.Status.SPEAKING)
        .first()
    )
    if current:
        current.status = FloorTurn.Status.DONE
        current.ended_at = now
        current.save()
        audit_record(action="floor.end", actor=by, target=current, data={"sitting": sitting.pk})
    return current


def floor_grant(*, turn: FloorTurn, by) -> FloorTurn:
    """The chair gives the floor to a waiting member (ending the current turn)."""
    with transaction.atomic():
        sitting = _lock_sitting(turn.sitting_id)
        turn = FloorTurn.objects.select_for_update().get(pk=turn.pk)
        if turn.status != FloorTurn.Status.WAITING:
            raise VotingError(_("This request is no longer waiting."), code="not_waiting")
        now = timezone.now()
        _end_current(sitting, by=by, now=now)
        turn.status = FloorTurn.Status.SPEAKING
        turn.granted_at = now
        turn.granted_by = by
        turn.save()
        audit_record(
            action="floor.grant",
            actor=by,
            target=turn,
            data={"sitting": sitting.pk, "person": turn.person_id},
        )
        broadcast(sitting, "floor")
    return turn


def floor_give(*, sitting: Sitting, person: Person, by, agenda_item: AgendaItem | None = None) -> FloorTurn:
    """The chair gives the floor directly (an official explaining a bill, a member named)."""
    if person.council_id != sitting.body.council_id:
        raise VotingError(_("This person belongs to another council."), code="invalid")
    with transaction.atomic():
        sitting = _lock_sitting(sitting.pk)
        now = timezone.now()
        _end_current(sitting, by=by, now=now)
        waiting = (
            FloorTurn.objects.select_for_update()
            .filter(sitting=sitting, person=person, status=FloorTurn.Status.WAITING)
            .first()
        )
        if waiting:
            turn = waiting
        else:
            turn = FloorTurn(sitting=sitting, person=person, agenda_item=agenda_item, requested_at=now)
        turn.status = FloorTurn.Status.SPEAKING
        turn.granted_at = now
        turn.granted_by = by
        turn.save()
        audit_record(
            action="floor.grant",
            actor=by,
            target=turn,
            data={"sitting": sitting.pk, "person": person.pk, "direct": waiting is None},
        )
        broadcast(sitting, "floor")
    return turn


def floor_skip(*, turn: FloorTurn, by) -> FloorTurn:
    with transaction.atomic():
        turn = FloorTurn.objects.select_for_update().select_related("sitting").get(pk=turn.pk)
        if turn.status != FloorTurn.Status.WAITING:
            raise VotingError(_("This request is no longer waiting."), code="not_waiting")
        turn.status = FloorTurn.Status.SKIPPED
        turn.ended_at = timezone.now()
        turn.save()
        audit_record(action="floor.skip", actor=by, target=turn, data={"sitting": turn.sitting_id})
        broadcast(turn.sitting, "floor")
    return turn


def floor_end(*, sitting: Sitting, by) -> FloorTurn:
    with transaction.atomic():
        sitting = _lock_sitting(sitting.pk)
        ended = _end_current(sitting, by=by, now=timezone.now())
        if ended is None:
            raise VotingError(_("Nobody has the floor."), code="nobody_speaking")
        broadcast(sitting, "floor")
    return ended


# --- motions ----------------------------------------------------------------------------------


def motion_create(
    *,
    agenda_item: AgendaItem,
    title: str,
    by,
    text: str = "",
    bill_number: str = "",
    preset: str = "",
    attendance: Fraction | None = None,
    approval: Fraction | None = None,
) -> Motion:
    """A question on an agenda item. ``preset`` names a special majority (council's own table
    first, then the statute's); explicit fractions give a custom special majority."""
    title = (title or "").strip()
    if not title:
        raise VotingError(_("Give the motion a title."), code="invalid")
    council = agenda_item.sitting.body.council
    if preset and preset != "ordinary":
        presets = selectors.presets_for(council)
        if preset not in presets:
            raise VotingError(_("Unknown special majority."), code="invalid")
        requirement = presets[preset]
    elif approval is not None:
        try:
            requirement = rules.Requirement(
                rules.SPECIAL, attendance, approval, "custom", _("Special majority")
            )
        except ValueError:
            raise VotingError(
                _("The fractions of a special majority must be between 0 and 1."), code="invalid"
            ) from None
    else:
        requirement = rules.ORDINARY_MAJORITY
    with transaction.atomic():
        motion = Motion.objects.create(
            agenda_item=agenda_item,
            title=title,
            text=text,
            bill_number=bill_number or agenda_item.bill_number,
            requirement=requirement.kind,
            preset=requirement.key,
            attendance_num=requirement.attendance.numerator if requirement.attendance else None,
            attendance_den=requirement.attendance.denominator if requirement.attendance else None,
            approval_num=requirement.approval.numerator if requirement.approval else None,
            approval_den=requirement.approval.denominator if requirement.approval else None,
            requirement_label=requirement.label,
            created_by=by,
        )
        audit_record(
            action="motion.create",
            actor=by,
            target=motion,
            data={"agenda_item": agenda_item.pk, "title": title, "requirement": requirement.as_dict()},
        )
    return motion


def motion_requirement(motion: Motion) -> rules.Requirement:
    if motion.requirement == Motion.Requirement.ORDINARY:
        return rules.ORDINARY_MAJORITY
    attendance = (
        Fraction(motion.attendance_num, motion.attendance_den)
        if motion.attendance_num and motion.attendance_den
        else None
    )
    return rules.Requirement(
        rules.SPECIAL,
        attendance,
        Fraction(motion.approval_num, motion.approval_den),
        motion.preset,
        motion.requirement_label,
    )


# --- polls ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    poll_id: int
    member_id: int
    receipt: str
    voted: int
    entitled: int
    choice: str | None = None  # never set for a secret ballot
    repeated: bool = False

    def as_dict(self) -> dict:
        data = {
            "poll": self.poll_id,
            "receipt": self.receipt,
            "voted": self.voted,
            "entitled": self.entitled,
            "repeated": self.repeated,
        }
        if self.choice is not None:
            data["choice"] = self.choice
        return data


def presiding(sitting: Sitting, present: set[int]) -> int | None:
    """The chair presides; when absent, the vice-chair."""
    from council.models import Membership

    roles = dict(
        Membership.objects.filter(
            body=sitting.body, role__in=[Membership.Role.CHAIR, Membership.Role.VICE_CHAIR]
        )
        .active(on=sitting.date)
        .values_list("role", "person_id")
    )
    for role in (Membership.Role.CHAIR, Membership.Role.VICE_CHAIR):
        if roles.get(role) in present:
            return roles[role]
    return None


def poll_open(*, motion: Motion, method: str, by) -> Poll:
    """The chair puts the question. Refused without quorum; freezes the members entitled now."""
    if method not in Poll.Method.values:
        raise VotingError(_("Unknown vote method."), code="invalid")
    agenda_item = motion.agenda_item
    with transaction.atomic():
        sitting = _lock_sitting(agenda_item.sitting_id)
        if sitting.status != Sitting.Status.OPEN:
            raise VotingError(
                _("No vote can be taken: the sitting is not in progress."), code="sitting_not_open"
            )
        if Poll.objects.filter(sitting=sitting, state=Poll.State.OPEN).exists():
            raise VotingError(_("Another vote is open; close it first."), code="poll_open")
        if (
            Poll.objects.filter(motion=motion, state__in=[Poll.State.CLOSED, Poll.State.DECLARED])
            .exclude(outcome=Poll.Outcome.OBJECTED)
            .exists()
        ):
            raise VotingError(_("This motion has already been decided."), code="decided")
        quorum = quorum_status(sitting=sitting, agenda_item=agenda_item)
        if not quorum.met:
            raise VotingError(
                _("No vote can start: %(reason)s") % {"reason": quorum.reason}, code="no_quorum"
            )
        requirement = motion_requirement(motion)
        count = roll_count(sitting=sitting, agenda_item=agenda_item)
        present = set(count.present)
        seats = sitting.body.size
        if requirement.attendance is not None and not rules.at_least(
            len(present), seats, requirement.attendance
        ):
            raise VotingError(
                _(
                    "This question needs at least %(needed)d members present (%(label)s); %(present)d are present."
                )
                % {
                    "needed": rules.minimum_for(seats, requirement.attendance),
                    "label": requirement.label,
                    "present": len(present),
                },
                code="attendance_short",
            )
        chair = presiding(sitting, present)
        entitled = set(present)
        if not requirement.chair_votes and chair is not None:
            entitled.discard(chair)
        poll = Poll.objects.create(
            motion=motion,
            sitting=sitting,
            method=method,
            requirement=requirement.as_dict(),
            seats=seats,
            quorum_required=quorum.required,
            present_count=len(present),
            excluded_count=len(count.excluded_present),
            entitled=sorted(entitled),
            chair_id=chair,
            opened_by=by,
        )
        audit_record(
            action="poll.open",
            actor=by,
            target=poll,
            data={
                "motion": motion.pk,
                "method": method,
                "requirement": poll.requirement,
                "entitled": poll.entitled,
                "present": poll.present_count,
                "chair": chair,
                "excluded": sorted(count.excluded_present),
            },
        )
        broadcast(sitting, "poll")
    return poll


def _refuse_cast(*, poll_id: int, person: Person | None, user, code: str, message: str) -> VotingError:
    """Audit a refused ballot in its own transaction (the ballot's transaction was rolled back)."""
    with transaction.atomic():
        audit_record(
            action="vote.refused",
            actor=user,
            target_type="voting.poll",
            target_id=poll_id,
            data={"person": person.pk if person else None, "code": code},
        )
    return VotingError(message, code=code)


@dataclass(frozen=True)
class CastRequest:
    """One ballot for ``vote_cast_many``: the arguments of ``vote_cast``."""

    poll_id: int
    user: Any
    choice: str
    client_token: str
    member: Person | None = None  # given when the clerk records a room member's ballot


def vote_cast(
    *,
    poll_id: int,
    user,
    choice: str,
    client_token: str,
    member: Person | None = None,
    sitting_id: int | None = None,
) -> Receipt:
    """Cast one ballot. ``member`` is given when the clerk records a room member's ballot.

    Idempotent: the same member and client token return the same receipt. Every refusal is
    audited and raises ``VotingError``; nothing else is written.
    """
    request = CastRequest(poll_id=poll_id, user=user, choice=choice, client_token=client_token, member=member)
    outcome = vote_cast_many(requests=[request], sitting_id=sitting_id)[0]
    if isinstance(outcome, VotingError):
        raise outcome
    return outcome


def vote_cast_many(*, requests: Sequence[CastRequest], sitting_id: int | None = None) -> list[Receipt | VotingError]:
    """Cast ballots that arrived together; each gets the outcome it would get from ``vote_cast``
    alone, taken in the order given, and a refusal is returned (not raised) in its place.

    The ballots of one poll share one transaction: one lock of the poll, one read of the roll and
    of the earlier ballots, one insert, one update of the counters, one append to the audit chain
    and one tally frame for the console. Sixty members voting at the same moment therefore cost
    about as much as a few ballots one after another (``bench.voting``). A refused ballot writes
    only its audit entry, as alone.
    """
    outcomes: list[Receipt | VotingError | None] = [None] * len(requests)
    by_poll: dict[int, list[int]] = {}
    for index, request in enumerate(requests):
        by_poll.setdefault(request.poll_id, []).append(index)
    for poll_id, indexes in by_poll.items():
        batch = [requests[i] for i in indexes]
        try:
            with transaction.atomic():
                results = _cast_batch(poll_id=poll_id, requests=batch, sitting_id=sitting_id)
        except IntegrityError:
            # Another writer inserted a ballot between our read and our insert (the poll's row
            # lock prevents that on PostgreSQL, SQLite's single writer does too; this is the last
            # line). The constraint has decided: retry each ballot alone, which then finds it.
            if len(batch) > 1:
                results = [vote_cast_many(requests=[r], sitting_id=sitting_id)[0] for r in batch]
            else:
                results = [_after_conflict(batch[0])]
        for index, result in zip(indexes, results, strict=True):
            outcomes[index] = result
    return outcomes  # type: ignore[return-value]


def _after_conflict(request: CastRequest) -> Receipt | VotingError:
    member = request.member if request.member is not None else person_of(request.user)
    try:
        with transaction.atomic():
            poll = Poll.objects.get(pk=request.poll_id)
            model = SecretParticipation if poll.is_secret else Ballot
            row = model.objects.filter(poll=poll, member=member).order_by().first()
            existing = _existing_receipt(poll, member, request.client_token, row, poll.voted_count)
            if existing is not None:
                return existing
    except VotingError:
        pass
    return _refuse_cast(
        poll_id=request.poll_id,
        person=member,
        user=request.user,
        code="already_voted",
        message=_("You have already voted; a vote cannot be changed."),
    )


def _existing_receipt(poll: Poll, member: Person, client_token: str, row, voted: int) -> Receipt | None:
    """The receipt of the member's earlier ballot when this is its retry; refused when it is not."""
    if row is None:
        return None
    if row.client_token != client_token:
        raise VotingError(_("You have already voted; a vote cannot be changed."), code="already_voted")
    return Receipt(
        poll_id=poll.pk,
        member_id=member.pk,
        receipt=row.receipt,
        voted=voted,
        entitled=len(poll.entitled),
        choice=None if poll.is_secret else row.choice,
        repeated=True,
    )


def _refusal(request: CastRequest, member: Person | None, exc: VotingError) -> AuditItem:
    return AuditItem(
        action="vote.refused",
        actor=request.user,
        target_type="voting.poll",
        target_id=request.poll_id,
        data={"person": member.pk if member else None, "code": exc.code},
    )


def _cast_batch(*, poll_id: int, requests: list[CastRequest], sitting_id: int | None) -> list[Receipt | VotingError]:
    # The hot path of a vote: few queries, and the locks others wait for (the poll row, the audit
    # head, the live counters) are taken as late as possible.
    poll = (
        Poll.objects.select_for_update(of=("self",))
        .select_related("motion", "sitting__body")
        .filter(pk=poll_id)
        .first()
    )
    members = [r.member if r.member is not None else person_of(r.user) for r in requests]
    results: list[Receipt | VotingError] = []
    audits: list[AuditItem] = []
    if poll is None or (sitting_id is not None and poll.sitting_id != sitting_id):
        for request, member in zip(requests, members, strict=True):
            error = VotingError(_("There is no such vote."), code="no_poll")
            results.append(error)
            audits.append(_refusal(request, member, error))
        audit_record_many(entries=audits)
        return results

    model = SecretParticipation if poll.is_secret else Ballot
    earlier = {
        row.member_id: row
        for row in model.objects.filter(poll=poll, member_id__in={m.pk for m in members if m is not None}).order_by()
    }
    roll: list = []  # read once, when the first ballot needs it

    def present():
        if not roll:
            roll.append(present_now(sitting=poll.sitting, agenda_item_id=poll.motion.agenda_item_id))
        return roll[0]

    voted = poll.voted_count
    counts = {"yes_count": 0, "no_count": 0}
    new_rows = []
    voters: list[int] = []
    for request, member in zip(requests, members, strict=True):
        recorded_by = request.user if request.member is not None else None
        try:
            existing = _admit(poll=poll, member=member, request=request, recorded_by=recorded_by,
                              earlier=earlier, voted=voted, present=present)
        except VotingError as exc:
            results.append(exc)
            audits.append(_refusal(request, member, exc))
            continue
        if existing is not None:
            results.append(existing)
            continue
        receipt = secrets.token_hex(8)
        choice = request.choice
        if poll.is_secret:
            row = SecretParticipation(poll=poll, member=member, client_token=request.client_token, receipt=receipt)
            data = {"person": member.pk, "method": poll.method, "recorded_by_clerk": recorded_by is not None}
        else:
            row = Ballot(
                poll=poll,
                member=member,
                choice=choice,
                client_token=request.client_token,
                receipt=receipt,
                recorded_by=recorded_by,
            )
            data = {
                "person": member.pk,
                "method": poll.method,
                "choice": choice,
                "recorded_by_clerk": recorded_by is not None,
            }
        earlier[member.pk] = row  # a second ballot of the same member in this batch finds this one
        new_rows.append(row)
        counts["yes_count" if choice == Choice.YES else "no_count"] += 1
        voted += 1
        voters.append(member.pk)
        audits.append(AuditItem(action="vote.cast", actor=request.user, target=poll, data=data))
        results.append(
            Receipt(
                poll_id=poll.pk,
                member_id=member.pk,
                receipt=receipt,
                voted=voted,
                entitled=len(poll.entitled),
                choice=None if poll.is_secret else choice,
            )
        )
    if new_rows:
        model.objects.bulk_create(new_rows)
        Poll.objects.filter(pk=poll.pk).update(
            voted_count=F("voted_count") + len(new_rows),
            **{name: F(name) + n for name, n in counts.items() if n},
        )
        _publish_tally(poll, voted, voters)
    audit_record_many(entries=audits)
    return results


def _admit(*, poll: Poll, member: Person | None, request: CastRequest, recorded_by, earlier: dict, voted: int,
           present) -> Receipt | None:
    """May this ballot be counted? ``None`` when it may; the earlier receipt for a retry; else
    ``VotingError`` with the reason."""
    if member is None:
        raise VotingError(_("You are not entitled to vote on this question."), code="not_entitled")
    if not poll.members_vote:
        raise VotingError(
            _("This vote is taken by %(method)s; members do not cast ballots on the tablet.")
            % {"method": poll.get_method_display()},
            code="wrong_method",
        )
    if request.client_token:
        existing = _existing_receipt(poll, member, request.client_token, earlier.get(member.pk), voted)
        if existing is not None:
            return existing
    if poll.state != Poll.State.OPEN:
        raise VotingError(_("This vote is closed; your ballot was not counted."), code="poll_closed")
    if request.choice not in Choice.values:
        raise VotingError(_("Unknown choice: vote yes or no."), code="unknown_choice")
    if not request.client_token:
        raise VotingError(_("The ballot has no client token."), code="invalid")
    sitting = poll.sitting
    agenda_item_id = poll.motion.agenda_item_id
    if member.pk not in poll.entitled:
        row = Attendance.objects.filter(sitting=sitting, person=member).first()
        if (
            row is not None
            and row.status == Attendance.Status.PRESENT_ONLINE
            and not remote_counts_here(sitting)
        ):
            if sitting.body.is_plenary:
                raise VotingError(
                    _(
                        "Members attending online cannot vote in the plenary: plenary votes must "
                        "be taken in the chamber."
                    ),
                    code="remote_plenary",
                )
            raise VotingError(
                _("%(body)s does not allow remote attendance, so you cannot vote online.")
                % {"body": sitting.body},
                code="remote_not_allowed",
            )
        if Exclusion.objects.filter(agenda_item_id=agenda_item_id, person=member).exists():
            raise VotingError(_("You are excluded (除斥) from this item and cannot vote."), code="excluded")
        if member.pk == poll.chair_id:
            raise VotingError(_("The chair does not vote under the ordinary rule (§116)."), code="chair")
        raise VotingError(_("You are not entitled to vote on this question."), code="not_entitled")
    count = present()
    if recorded_by is not None and member.pk in count.online:
        raise VotingError(_("Members attending online vote on their own tablet."), code="online_member")
    if member.pk not in count.present:
        raise VotingError(
            _("You are no longer recorded as present; only members present may vote."), code="not_present"
        )
    met, _proviso = rules.quorum_met(
        quorum=poll.quorum_required, present=len(count.present), excluded=len(count.excluded_present)
    )
    if not met:
        raise VotingError(
            _(
                "No quorum: no vote can be taken until it is restored (%(present)d present, "
                "%(required)d needed)."
            )
            % {"present": len(count.present), "required": poll.quorum_required},
            code="no_quorum",
        )
    return None


def _publish_tally(poll: Poll, voted: int, voter_ids: list[int]) -> None:
    """To the console only: how many have voted, never how (the running split is not shown while a
    vote is open), and who has just voted, to strike them off its "not yet voted" list. Tablets
    learn their own ballot from the receipt and everyone's result when it is declared; one frame
    per batch of ballots keeps sixty simultaneous ballots fast."""
    publish_many(
        sitting_id=poll.sitting_id,
        events=[
            (
                "voting.tally",
                {"poll": poll.pk, "voted": voted, "entitled": len(poll.entitled), "voters": voter_ids},
                "clerks",
            ),
        ],
    )


def _lock_poll(poll_id: int) -> Poll:
    poll = Poll.objects.select_for_update().filter(pk=poll_id).first()
    if poll is None:
        raise VotingError(_("There is no such vote."), code="no_poll")
    return poll


def _close(poll: Poll, *, by, extra: dict | None = None) -> Poll:
    decision = poll.decide()
    poll.state = Poll.State.CLOSED
    poll.closed_at = timezone.now()
    poll.closed_by = by
    poll.outcome = decision.outcome
    poll.save()
    data = {
        "yes": poll.yes_count,
        "no": poll.no_count,
        "voted": poll.voted_count,
        "outcome": poll.outcome,
        "requirement": poll.requirement,
        "present": poll.present_count,
        "entitled": poll.entitled,
    }
    data.update(extra or {})
    audit_record(action="poll.close", actor=by, target=poll, data=data)
    sitting = Sitting.objects.select_related("body", "body__council").get(pk=poll.sitting_id)
    broadcast(sitting, "poll")
    return poll


def poll_close(*, poll: Poll, by) -> Poll:
    """The chair closes a ballot (or a no-objection question nobody objected to)."""
    with transaction.atomic():
        poll = _lock_poll(poll.pk)
        if poll.state != Poll.State.OPEN:
            raise VotingError(_("This vote is already closed."), code="poll_closed")
        if poll.method in (Poll.Method.STANDING, Poll.Method.HANDS):
            raise VotingError(
                _("Enter the counts to close a standing or show-of-hands vote."), code="counts_needed"
            )
        if poll.method == Poll.Method.NO_OBJECTION:
            # 異議なしと認めます: everyone entitled is taken to agree.
            poll.yes_count = len(poll.entitled)
            poll.no_count = 0
            poll.voted_count = len(poll.entitled)
        return _close(poll, by=by)


def poll_enter_counts(*, poll: Poll, yes: int, no: int, by) -> Poll:
    """The clerk enters the counts of a standing or show-of-hands vote; they must add up to the
    members present and entitled."""
    with transaction.atomic():
        poll = _lock_poll(poll.pk)
        if poll.state != Poll.State.OPEN:
            raise VotingError(_("This vote is already closed."), code="poll_closed")
        if poll.method not in (Poll.Method.STANDING, Poll.Method.HANDS):
            raise VotingError(
                _("Counts are entered only for standing and show-of-hands votes."), code="wrong_method"
            )
        if yes < 0 or no < 0:
            raise VotingError(_("Counts cannot be negative."), code="invalid")
        entitled = len(poll.entitled)
        if yes + no != entitled:
            raise VotingError(
                _(
                    "The counts do not add up: %(yes)d in favour and %(no)d against make %(total)d, but "
                    "%(entitled)d members present are entitled to vote."
                )
                % {"yes": yes, "no": no, "total": yes + no, "entitled": entitled},
                code="counts_mismatch",
            )
        poll.yes_count, poll.no_count, poll.voted_count = yes, no, entitled
        return _close(poll, by=by, extra={"entered_by_clerk": True})


def poll_casting_vote(*, poll: Poll, choice: str, by) -> Poll:
    """可否同数: the chair decides a tie under the ordinary rule; recorded as a casting vote."""
    if choice not in Choice.values:
        raise VotingError(_("Unknown choice: vote yes or no."), code="unknown_choice")
    with transaction.atomic():
        poll = _lock_poll(poll.pk)
        if poll.outcome != Poll.Outcome.TIE or poll.state != Poll.State.CLOSED:
            raise VotingError(_("There is no tie to decide."), code="no_tie")
        decision = poll.decide(casting_vote=choice)
        poll.casting_vote = choice
        poll.outcome = decision.outcome
        poll.save()
        audit_record(
            action="poll.casting_vote",
            actor=by,
            target=poll,
            data={"choice": choice, "chair": poll.chair_id, "outcome": poll.outcome},
        )
        broadcast(poll.sitting, "poll")
    return poll


def poll_declare(*, poll: Poll, by) -> Poll:
    """The chair declares the result (宣告); tablets and the public view show it."""
    with transaction.atomic():
        poll = _lock_poll(poll.pk)
        if poll.state != Poll.State.CLOSED:
            raise VotingError(_("Close the vote before declaring the result."), code="not_closed")
        if poll.outcome == Poll.Outcome.TIE:
            raise VotingError(
                _("The votes are tied: the chair must decide before the result is declared."), code="tie"
            )
        poll.state = Poll.State.DECLARED
        poll.declared_at = timezone.now()
        poll.save()
        audit_record(
            action="poll.declare",
            actor=by,
            target=poll,
            data={
                "outcome": poll.outcome,
                "yes": poll.yes_count,
                "no": poll.no_count,
                "casting_vote": poll.casting_vote,
            },
        )
        broadcast(poll.sitting, "poll")
    return poll


def objection_raise(*, poll_id: int, user, sitting_id: int | None = None) -> Poll:
    """A member objects to a no-objection question (「異議あり」): it becomes a formal vote."""
    member = person_of(user)
    try:
        with transaction.atomic():
            poll = _lock_poll(poll_id)
            if sitting_id is not None and poll.sitting_id != sitting_id:
                raise VotingError(_("There is no such vote."), code="no_poll")
            if poll.method != Poll.Method.NO_OBJECTION:
                raise VotingError(
                    _("Objections are raised only when the chair asks for objections."), code="wrong_method"
                )
            if poll.state != Poll.State.OPEN:
                raise VotingError(
                    _("This vote is closed; your objection was not recorded."), code="poll_closed"
                )
            if member is None or member.pk not in poll.entitled:
                raise VotingError(_("You are not entitled to vote on this question."), code="not_entitled")
            Objection.objects.create(poll=poll, member=member)
            poll.state = Poll.State.CLOSED
            poll.closed_at = timezone.now()
            poll.outcome = Poll.Outcome.OBJECTED
            poll.save()
            audit_record(
                action="vote.objection",
                actor=user,
                target=poll,
                data={"person": member.pk, "outcome": poll.outcome},
            )
            broadcast(poll.sitting, "poll")
            return poll
    except VotingError as exc:
        raise _refuse_cast(
            poll_id=poll_id, person=member, user=user, code=exc.code, message=exc.text
        ) from None
