"""Reads of the voting area: the live state parts (attendance, quorum, floor, poll), the
special-majority presets of a council, and ``sitting_record`` — the roll, floor turns, motions and
polls of a sitting as plain data, for the minutes (会議録).

State parts return only what their audience may see: the public view (傍聴) never receives who
has not yet voted nor a result before it is declared; nobody ever receives how a member voted in
a secret ballot, because it is stored nowhere.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from council.models import Council, Person
from meetings.attendance.models import (
    Attendance,
    AttendanceSuggestion,
    Exclusion,
    IdentityCheck,
    RemoteAttendanceRequest,
)
from meetings.attendance.quorum import quorum_status, remote_cleared_ids
from meetings.models import Sitting
from meetings.voting import rules
from meetings.voting.models import (
    Ballot,
    FloorTurn,
    MajorityPreset,
    Motion,
    Objection,
    Poll,
    SecretParticipation,
)


def _iso(value: datetime.datetime | None) -> str | None:
    """In the sitting's zone, to the second, as every time in the live protocol."""
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def person_brief(person: Person) -> dict:
    return {
        "id": person.pk,
        "name": person.full_name,
        "kana": person.full_name_kana,
        "seat": person.seat_number,
        "title": person.title,
    }


def remote_cleared(sitting: Sitting) -> set[int]:
    return remote_cleared_ids(sitting)


def presets_for(council: Council) -> dict[str, rules.Requirement]:
    """The statutory special majorities, overridden or extended by the council's own presets."""
    from fractions import Fraction

    presets = dict(rules.PRESETS)
    for row in MajorityPreset.objects.filter(council=council):
        attendance = (
            Fraction(row.attendance_num, row.attendance_den)
            if row.attendance_num and row.attendance_den
            else None
        )
        presets[row.key] = rules.Requirement(
            rules.SPECIAL,
            attendance,
            Fraction(row.approval_num, row.approval_den),
            row.key,
            row.label,
            attendance_basis=row.attendance_basis,
        )
    return presets


# --- state parts --------------------------------------------------------------------------


def attendable_non_members(sitting: Sitting) -> list[Person]:
    """Executive officials (説明のため出席した者) and secretariat staff (職務のため出席した事務局職員)
    of the council, whom the clerk can put on a sitting's roll; each with ``role_label``."""
    labels = {
        Person.Kind.OFFICIAL: _("Official attending to explain"),
        Person.Kind.SECRETARIAT: _("Secretariat staff"),
    }
    people = list(
        Person.objects.filter(
            council_id=sitting.body.council_id, active=True, kind__in=list(labels)
        ).order_by("kind", "family_name_kana", "id")
    )
    for person in people:
        person.role_label = labels[person.kind]
    return people


def attendance_part(*, sitting: Sitting, audience: str, user: Any = None) -> dict:
    rows = list(Attendance.objects.filter(sitting=sitting).select_related("person"))
    counts = {status: 0 for status in Attendance.Status.values}
    for row in rows:
        if row.role == Attendance.Role.MEMBER:
            counts[row.status] += 1
    data: dict[str, Any] = {"counts": counts}
    if audience == "public":
        return data
    data["roll"] = [
        {
            **person_brief(r.person),
            "role": r.role,
            "status": r.status,
            "status_label": str(r.get_status_display()),
            "reason": r.absence_reason,
            "arrived_at": _iso(r.arrived_at),
            "left_at": _iso(r.left_at),
        }
        for r in rows
    ]
    requests = remote_requests(sitting)
    data["remote"] = [
        {
            "person": r["person"]["id"],
            "decision": r["decision"],
            "disconnected": r["disconnected"],
            "checked": bool(r["check"] and r["check"]["passed"]),
        }
        for r in requests
    ]
    data["remote_allowed"] = sitting.body.allows_remote_attendance or sitting.body.is_plenary
    data["remote_counts"] = sitting.body.allows_remote_attendance and not sitting.body.is_plenary
    if audience == "clerks":
        data["remote_requests"] = requests
        data["exclusions"] = [
            {"id": e.pk, "item": e.agenda_item.label, "person": person_brief(e.person), "reason": e.reason}
            for e in Exclusion.objects.filter(agenda_item__sitting=sitting).select_related(
                "agenda_item", "person"
            )
        ]
        data["suggestions"] = [
            {"id": s.pk, "event": s.event, "name": s.display_name, "person": s.person_id, "at": _iso(s.at)}
            for s in AttendanceSuggestion.objects.filter(
                sitting=sitting, state=AttendanceSuggestion.State.PENDING
            )
        ]
    return data


def remote_requests(sitting: Sitting) -> list[dict]:
    requests = list(RemoteAttendanceRequest.objects.filter(sitting=sitting).select_related("person"))
    checks: dict[int, IdentityCheck] = {}
    for check in IdentityCheck.objects.filter(request__sitting=sitting).order_by("at", "id"):
        checks[check.request_id] = check
    out = []
    for r in requests:
        check = checks.get(r.pk)
        out.append(
            {
                "id": r.pk,
                **{"person": person_brief(r.person)},
                "reason": r.reason,
                "decision": r.decision,
                "decision_label": str(r.get_decision_display()),
                "applied_at": _iso(r.applied_at),
                "disconnected": r.disconnected_at is not None,
                "check": None
                if check is None
                else {
                    "method": check.method,
                    "method_label": str(check.get_method_display()),
                    "passed": check.passed,
                    "at": _iso(check.at),
                },
            }
        )
    return out


def quorum_part(*, sitting: Sitting, audience: str = "members", user: Any = None) -> dict:
    open_poll = Poll.objects.filter(sitting=sitting, state=Poll.State.OPEN).select_related("motion").first()
    item = open_poll.motion.agenda_item if open_poll else None
    return quorum_status(sitting=sitting, agenda_item=item).as_dict()


def waiting_since(turn: FloorTurn, sitting: Sitting) -> datetime.datetime | None:
    """Since when the chair sees ``turn`` waiting: since it entered the queue, but never before
    the sitting really opened. A questioner queued days ahead by the published order of general
    questions waits from the actual opening (late or early), not from the scheduled start;
    nobody waits before the sitting has opened (None)."""
    if turn.status != FloorTurn.Status.WAITING:
        return None
    if sitting.opened_at is None:
        # Opened without a recorded time (imported or old data): count from the queueing.
        return turn.queued_at if sitting.status in (Sitting.Status.OPEN, Sitting.Status.RECESS) else None
    return max(turn.queued_at, sitting.opened_at)


def _turn(turn: FloorTurn, now: datetime.datetime, sitting: Sitting) -> dict:
    since = waiting_since(turn, sitting)
    return {
        "id": turn.pk,
        "person": person_brief(turn.person),
        "kind": turn.person.kind,
        "remote": turn.remote,
        "status": turn.status,
        "requested_at": _iso(turn.requested_at),
        "queued_at": _iso(turn.queued_at),
        "waiting_since": _iso(since),
        "granted_at": _iso(turn.granted_at),
        "waiting_s": max(0, int((now - since).total_seconds())) if since else None,
    }


def floor_part(*, sitting: Sitting, audience: str, user: Any = None) -> dict:
    now = timezone.now()
    turns = list(
        FloorTurn.objects.filter(sitting=sitting, status__in=["waiting", "speaking"])
        .select_related("person")
        .order_by("requested_at", "id")
    )
    speaker = next((_turn(t, now, sitting) for t in turns if t.status == "speaking"), None)
    data: dict[str, Any] = {"speaker": speaker}
    if audience != "public":
        data["queue"] = [_turn(t, now, sitting) for t in turns if t.status == "waiting"]
    return data


def current_poll(sitting: Sitting) -> Poll | None:
    return (
        Poll.objects.filter(sitting=sitting)
        .select_related("motion", "motion__agenda_item", "sitting__body")
        .order_by("-opened_at", "-id")
        .first()
    )


def not_yet_voted(poll: Poll) -> list[dict]:
    model = SecretParticipation if poll.is_secret else Ballot
    voted = set(model.objects.filter(poll=poll).values_list("member_id", flat=True))
    waiting = [pid for pid in poll.entitled if pid not in voted]
    people = {p.pk: p for p in Person.objects.filter(pk__in=waiting)}
    return [person_brief(people[pid]) for pid in waiting if pid in people]


def poll_instructions(poll: Poll) -> dict[str, str]:
    """What a member is asked and what to do, for the votes the tablet does not take itself
    (standing, show of hands, no objection): in the room, and attending online. In the plenary an
    online member does not take part (remote voting is off there) and is told so."""
    motion = poll.motion.title
    method = poll.method
    if method == Poll.Method.STANDING:
        room = _(
            "On “%(motion)s”: the vote is taken by standing. If you are in favour, stand up; if not, stay seated."
        )
        online = _(
            "On “%(motion)s”: the vote is taken by standing. Attending online, raise your hand so that the "
            "camera shows it if you are in favour; if not, keep your hands down. The chair counts from the video."
        )
    elif method == Poll.Method.HANDS:
        room = _(
            "On “%(motion)s”: the vote is taken by show of hands. If you are in favour, raise your hand."
        )
        online = _(
            "On “%(motion)s”: the vote is taken by show of hands. If you are in favour, raise your hand so "
            "that the camera shows it. The chair counts from the video."
        )
    elif method == Poll.Method.NO_OBJECTION:
        room = online = _(
            "On “%(motion)s”: the chair asks whether there is any objection. If you have none, do nothing; "
            "if you object, press “Object”."
        )
    else:
        return {}
    if poll.sitting.body.is_plenary:
        online = _(
            "On “%(motion)s”: in the plenary, votes are taken in the chamber; you cannot take part online."
        )
    return {"room": room % {"motion": motion}, "online": online % {"motion": motion}}


def poll_summary(poll: Poll, *, audience: str, with_names: bool = True) -> dict:
    motion = poll.motion
    data: dict[str, Any] = {
        "id": poll.pk,
        "motion": motion.title,
        "bill": motion.bill_number,
        "item": motion.agenda_item.label,
        "method": poll.method,
        "method_label": str(poll.get_method_display()),
        "state": poll.state,
        "requirement": poll.requirement.get("label") or motion.requirement_label,
        "requirement_kind": poll.requirement.get("kind"),
        "entitled_count": len(poll.entitled),
        "voted": poll.voted_count,
        "opened_at": _iso(poll.opened_at),
    }
    if audience != "public":
        data["entitled"] = poll.entitled
        if poll.state == Poll.State.OPEN:
            data["instructions"] = poll_instructions(poll)
    show_result = poll.state == Poll.State.DECLARED or (
        audience == "clerks" and poll.state == Poll.State.CLOSED
    )
    if poll.outcome == Poll.Outcome.OBJECTED and poll.state != Poll.State.OPEN:
        show_result = True
    if show_result:
        data.update(
            {
                "yes": poll.yes_count,
                "no": poll.no_count,
                "outcome": poll.outcome,
                "outcome_label": str(poll.get_outcome_display()),
                "casting_vote": poll.casting_vote,
                "present": poll.present_count,
            }
        )
        if with_names and poll.method == Poll.Method.ROLL_CALL:
            data["names"] = [
                {**person_brief(b.member), "choice": b.choice}
                for b in poll.ballots.select_related("member").order_by("member__seat_number", "id")
            ]
    if audience == "clerks" and poll.state == Poll.State.OPEN and poll.members_vote:
        data["not_yet"] = not_yet_voted(poll)
    if poll.method == Poll.Method.NO_OBJECTION and poll.state != Poll.State.OPEN:
        data["objections"] = [
            person_brief(p)
            for p in Person.objects.filter(pk__in=Objection.objects.filter(poll=poll).values("member_id"))
        ]
    return data


def poll_part(*, sitting: Sitting, audience: str, user: Any = None) -> dict:
    poll = current_poll(sitting)
    if poll is None:
        return {"poll": None}
    if audience == "public" and poll.state == Poll.State.CLOSED:
        # The public sees a vote being taken and then its declared result, never in between.
        return {
            "poll": {
                "id": poll.pk,
                "motion": poll.motion.title,
                "state": "counting",
                "method_label": str(poll.get_method_display()),
            }
        }
    return {"poll": poll_summary(poll, audience=audience)}


def my_ballots(*, sitting: Sitting, person: Person) -> dict[str, dict]:
    """A member's own ballots in this sitting, by poll id: the receipt, and the choice unless secret."""
    mine: dict[str, dict] = {}
    for poll_id, receipt, choice in Ballot.objects.filter(poll__sitting=sitting, member=person).values_list(
        "poll_id", "receipt", "choice"
    ):
        mine[str(poll_id)] = {"receipt": receipt, "choice": choice}
    for poll_id, receipt in SecretParticipation.objects.filter(
        poll__sitting=sitting, member=person
    ).values_list("poll_id", "receipt"):
        mine[str(poll_id)] = {"receipt": receipt, "choice": None}
    return mine


PARTS = {"attendance": attendance_part, "quorum": quorum_part, "floor": floor_part, "poll": poll_part}


def part(name: str, *, sitting: Sitting, audience: str, user: Any = None) -> dict | None:
    return PARTS[name](sitting=sitting, audience=audience, user=user)


# --- the record, for the minutes ------------------------------------------------------------


def sitting_record(sitting: Sitting) -> dict:
    """Everything the minutes need from this area, in order, as plain data.

    ``roll``: members, officials and secretariat with status, reason, arrival and leaving times;
    ``floor``: every turn granted, with times; ``motions``: each with its requirement and polls
    (method, counts, result, casting vote; names for roll-call ballots; who took part in secret
    ballots, never how).
    """
    roll = [
        {
            **person_brief(r.person),
            "role": r.role,
            "status": r.status,
            "status_label": str(r.get_status_display()),
            "reason": r.absence_reason,
            "reason_label": str(r.get_absence_reason_display()) if r.absence_reason else "",
            "online": r.status == Attendance.Status.PRESENT_ONLINE,
            "arrived_at": r.arrived_at,
            "left_at": r.left_at,
        }
        for r in Attendance.objects.filter(sitting=sitting)
        .select_related("person")
        .order_by("role", "person__seat_number", "person_id")
    ]
    turns = [
        {
            **person_brief(t.person),
            "kind": t.person.kind,
            "agenda_item": t.agenda_item_id,
            "remote": t.remote,
            "requested_at": t.requested_at,
            "granted_at": t.granted_at,
            "ended_at": t.ended_at,
            "status": t.status,
        }
        for t in FloorTurn.objects.filter(sitting=sitting, granted_at__isnull=False)
        .select_related("person")
        .order_by("granted_at", "id")
    ]
    motions = []
    for motion in (
        Motion.objects.filter(agenda_item__sitting=sitting)
        .select_related("agenda_item")
        .order_by("agenda_item__position", "created_at", "id")
    ):
        polls = []
        for poll in motion.polls.order_by("opened_at", "id"):
            entry = {
                "id": poll.pk,
                "method": poll.method,
                "method_label": str(poll.get_method_display()),
                "state": poll.state,
                "outcome": poll.outcome,
                "outcome_label": str(poll.get_outcome_display()),
                "yes": poll.yes_count,
                "no": poll.no_count,
                "voted": poll.voted_count,
                "present": poll.present_count,
                "entitled": list(poll.entitled),
                "casting_vote": poll.casting_vote,
                "chair": poll.chair_id,
                "requirement": poll.requirement,
                "opened_at": poll.opened_at,
                "closed_at": poll.closed_at,
                "declared_at": poll.declared_at,
            }
            if poll.method == Poll.Method.ROLL_CALL:
                entry["names"] = [
                    {**person_brief(b.member), "choice": b.choice}
                    for b in poll.ballots.select_related("member").order_by("member__seat_number")
                ]
            if poll.method == Poll.Method.SECRET:
                entry["participants"] = [
                    person_brief(p.member)
                    for p in poll.participations.select_related("member").order_by("member__seat_number")
                ]
            if poll.method == Poll.Method.NO_OBJECTION:
                entry["objections"] = [
                    person_brief(o.member) for o in poll.objections.select_related("member")
                ]
            polls.append(entry)
        motions.append(
            {
                "id": motion.pk,
                "agenda_item": motion.agenda_item_id,
                "item_label": motion.agenda_item.label,
                "title": motion.title,
                "bill": motion.bill_number,
                "text": motion.text,
                "requirement": motion.requirement,
                "requirement_label": motion.requirement_label or _("Ordinary majority (§116)"),
                "polls": polls,
            }
        )
    return {"roll": roll, "floor": turns, "motions": motions}
