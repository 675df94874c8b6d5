"""The roll (出席簿): who is present, in the room or online, absent, late or gone.

Every change is kept in ``AttendanceChange`` and audited; the quorum follows from the roll
(``meetings.attendance.quorum``).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from council.audit import audit_record
from council.models import Person
from council.permissions import person_of
from meetings.attendance.models import Attendance, AttendanceChange, RemoteAttendanceRequest
from meetings.attendance.quorum import body_member_ids
from meetings.models import Sitting
from meetings.voting import selectors
from meetings.voting.errors import VotingError
from meetings.voting.services.common import LIVE_STATUSES, broadcast, lock_sitting


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
        broadcast(sitting, "attendance")  # other consoles show the new rows without a reload
    return len(missing)


def roll_mark_all_present(*, sitting: Sitting, by=None) -> list[int]:
    """「全員出席」: every member of the body not yet marked is recorded present in the room, in one
    action; the clerk then marks the exceptions (absent with a reason, late, online).

    Puts the body's members on the roll first. A line the clerk or a check-in has already marked
    (any ``AttendanceChange``) is left as it is, so the exceptions can come before or after. One
    audit entry lists who was marked; the consoles get the new roll and quorum in one broadcast.
    Returns the ids of the people marked present.
    """
    if sitting.status in (Sitting.Status.CLOSED, Sitting.Status.CANCELLED):
        raise VotingError(_("This sitting is closed."), code="sitting_closed")
    now = timezone.now()
    user = by if getattr(by, "is_authenticated", False) else None
    with transaction.atomic():
        sitting = lock_sitting(sitting.pk)
        roll_prepare(sitting=sitting, by=by)
        members = body_member_ids(sitting)
        marked_before = AttendanceChange.objects.filter(attendance=OuterRef("pk"))
        rows = list(
            Attendance.objects.select_for_update(of=("self",))
            .filter(
                sitting=sitting,
                role=Attendance.Role.MEMBER,
                person_id__in=members,
                status=Attendance.Status.ABSENT,
            )
            .filter(~Exists(marked_before))  # a subquery: PostgreSQL locks no outer join
            .order_by("person__seat_number", "person_id")
        )
        for row in rows:
            row.status = Attendance.Status.PRESENT_ROOM
            row.absence_reason = ""
            row.arrived_at = now
            row.left_at = None
            row.updated_at = now
        Attendance.objects.bulk_update(
            rows, ["status", "absence_reason", "arrived_at", "left_at", "updated_at"]
        )
        AttendanceChange.objects.bulk_create(
            [
                AttendanceChange(attendance=row, status=row.status, at=now, by=user, source="all-present")
                for row in rows
            ]
        )
        marked = [row.person_id for row in rows]
        audit_record(
            action="attendance.all_present",
            actor=by,
            target=sitting,
            data={"sitting": sitting.pk, "marked": marked},
        )
        broadcast(sitting, "attendance", "quorum")
    return marked


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
        raise VotingError(_("Unknown attendance status."), code="invalid", field="status")
    if absence_reason not in Attendance.AbsenceReason.values:
        raise VotingError(_("Unknown reason for absence."), code="invalid", field="reason")
    if person.council_id != sitting.body.council_id:
        raise VotingError(_("This person belongs to another council."), code="invalid", field="person_id")
    role = _role_for(person)
    if role == Attendance.Role.MEMBER and person.pk not in body_member_ids(sitting):
        raise VotingError(
            _("%(name)s is not a member of %(body)s.") % {"name": person, "body": sitting.body},
            code="not_member",
        )
    if status == Attendance.Status.PRESENT_ONLINE:
        if role != Attendance.Role.MEMBER:
            raise VotingError(_("Only members attend online."), code="invalid", field="status")
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
        lock_sitting(sitting.pk)
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


def record_status(row: Attendance, status: str, *, by, source: str) -> None:
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
