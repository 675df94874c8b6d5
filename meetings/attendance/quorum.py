"""Quorum (定足数, §113; docs/procedure.md#quorum) computed live from the roll.

Who counts as present:
- members of the body on the sitting's date whose roll line says present in the room, or late
  and arrived (the chair counts like any member: the chair is one of the members present);
- members present online only where the body allows remote attendance (never the plenary, whose
  votes and debate must be in the chamber), whose request the chair approved, whose latest
  identity check passed, and whom the chair has not disconnected;
- for an agenda item, members excluded from it (除斥, §117) are not counted. When the exclusion
  alone leaves the body short, the sitting may continue (§113 proviso): the status is then "met"
  and the reason says so. Votes on such an item use the members present for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from council.models import Membership, Person
from meetings.attendance.models import Attendance, Exclusion, IdentityCheck, RemoteAttendanceRequest
from meetings.attendance.rules import quorum_met
from meetings.models import AgendaItem, Sitting


@dataclass
class RollCount:
    members: set[int]  # person ids of the body's members on the sitting's date
    present: set[int]  # counted present for this matter (after exclusions)
    excluded_present: set[int]  # present but excluded (除斥) from this matter
    online: set[int]  # counted present through remote attendance
    online_not_counted: set[int]  # online, but remote attendance does not count here
    chair_id: int | None = None


@dataclass
class QuorumStatus:
    required: int
    present: int
    met: bool
    reason: str
    excluded: int = 0
    by_proviso: bool = False
    online_not_counted: int = 0
    seats: int = 0
    present_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "required": self.required,
            "present": self.present,
            "met": self.met,
            "reason": self.reason,
            "excluded": self.excluded,
            "by_proviso": self.by_proviso,
            "online_not_counted": self.online_not_counted,
            "seats": self.seats,
        }


def body_member_ids(sitting: Sitting) -> set[int]:
    body = sitting.body
    ids = set(
        Membership.objects.filter(body=body).active(on=sitting.date).values_list("person_id", flat=True)
    )
    if body.is_plenary:
        ids |= set(
            Person.objects.filter(
                council_id=body.council_id, kind=Person.Kind.COUNCILLOR, active=True
            ).values_list("id", flat=True)
        )
    return ids


def members_in_office(sitting: Sitting) -> int:
    """議員数: the body's members in office on the sitting's day (not its seats, 定数)."""
    return sitting.body.memberships.active(on=sitting.date).values("person").distinct().count()


def chair_id(sitting: Sitting) -> int | None:
    return (
        Membership.objects.filter(body=sitting.body, role=Membership.Role.CHAIR)
        .active(on=sitting.date)
        .values_list("person_id", flat=True)
        .first()
    )


def remote_counts_here(sitting: Sitting) -> bool:
    """Remote attendance counts for quorum and votes only in committees that allow it."""
    return (not sitting.body.is_plenary) and sitting.body.allows_remote_attendance


def remote_cleared_ids(sitting: Sitting) -> set[int]:
    """Members whose remote attendance was approved, identity-checked and not cut off."""
    requests = {
        r.pk: r.person_id
        for r in RemoteAttendanceRequest.objects.filter(
            sitting=sitting, decision=RemoteAttendanceRequest.Decision.APPROVED, disconnected_at__isnull=True
        )
    }
    if not requests:
        return set()
    latest: dict[int, bool] = {}
    for check in IdentityCheck.objects.filter(request_id__in=requests).order_by("at", "id"):
        latest[check.request_id] = check.passed
    return {person for pk, person in requests.items() if latest.get(pk)}


def _count(*, sitting: Sitting, members: set[int] | None, agenda_item_id: int | None) -> RollCount:
    in_room: set[int] = set()
    online: set[int] = set()
    rows = Attendance.objects.filter(sitting=sitting, role=Attendance.Role.MEMBER).filter(
        Q(status=Attendance.Status.PRESENT_ROOM)
        | Q(status=Attendance.Status.LATE, arrived_at__isnull=False)
        | Q(status=Attendance.Status.PRESENT_ONLINE)
    )
    if members is not None:
        rows = rows.filter(person_id__in=members)
    excluded: set[int] = set()
    if agenda_item_id is not None:
        excluded = set(
            Exclusion.objects.filter(agenda_item_id=agenda_item_id).values_list("person_id", flat=True)
        )
    for person_id, status in rows.values_list("person_id", "status"):
        (online if status == Attendance.Status.PRESENT_ONLINE else in_room).add(person_id)
    counted_online: set[int] = set()
    if online and remote_counts_here(sitting):
        counted_online = online & remote_cleared_ids(sitting)
    present = in_room | counted_online
    return RollCount(
        members=members if members is not None else set(),
        present=present - excluded,
        excluded_present=present & excluded,
        online=counted_online - excluded,
        online_not_counted=online - counted_online,
    )


def roll_count(*, sitting: Sitting, agenda_item: AgendaItem | None = None) -> RollCount:
    """Who counts as present now, for the sitting or for one agenda item."""
    count = _count(
        sitting=sitting,
        members=body_member_ids(sitting),
        agenda_item_id=agenda_item.pk if agenda_item is not None else None,
    )
    count.chair_id = chair_id(sitting)
    return count


def present_now(*, sitting: Sitting, agenda_item_id: int) -> RollCount:
    """``roll_count`` for the hot path of a vote: the roll's member lines are only ever written for
    members of the body (``services.roll.attendance_mark`` checks), so membership is not re-read."""
    return _count(sitting=sitting, members=None, agenda_item_id=agenda_item_id)


def quorum_status(*, sitting: Sitting, agenda_item: AgendaItem | None = None) -> QuorumStatus:
    """Is the quorum met now, for the sitting or for one agenda item? With a translated reason."""
    required = sitting.body.quorum(on=sitting.date)
    count = roll_count(sitting=sitting, agenda_item=agenda_item)
    present = len(count.present)
    excluded = len(count.excluded_present)
    met, by_proviso = quorum_met(quorum=required, present=present, excluded=excluded)
    values = {"present": present, "required": required, "excluded": excluded}
    if met and by_proviso:
        reason = (
            _(
                "Quorum: %(present)d present of %(required)d needed; short only because %(excluded)d "
                "excluded (除斥) for this item, so the sitting continues under the proviso of §113."
            )
            % values
        )
    elif met:
        reason = _("Quorum met: %(present)d present, %(required)d needed.") % values
    else:
        reason = _("No quorum: %(present)d present, %(required)d needed.") % values
    if count.online_not_counted:
        n = len(count.online_not_counted)
        if sitting.body.is_plenary:
            reason += " " + ngettext(
                "%(n)d member online is not counted: plenary debate and votes must be in the chamber.",
                "%(n)d members online are not counted: plenary debate and votes must be in the chamber.",
                n,
            ) % {"n": n}
        else:
            reason += " " + ngettext(
                "%(n)d member online is not counted (remote attendance not approved or not checked).",
                "%(n)d members online are not counted (remote attendance not approved or not checked).",
                n,
            ) % {"n": n}
    return QuorumStatus(
        required=required,
        present=present,
        met=met,
        reason=reason,
        excluded=excluded,
        by_proviso=by_proviso,
        online_not_counted=len(count.online_not_counted),
        seats=sitting.body.size,
        present_ids=sorted(count.present),
    )
