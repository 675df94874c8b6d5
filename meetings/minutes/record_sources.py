"""Adapters from the apps that keep the sitting's record (meetings.voting: the roll, the floor,
motions and polls; meetings.live: opening, recess and closing times) to ``record`` dataclasses.

Kept apart so that the rest of the minutes code depends only on the plain shape in ``record``.
Models are looked up through the app registry, so a deployment without one of those apps
still drafts minutes from what it has.
"""

from __future__ import annotations

from django.apps import apps

from meetings.minutes.record import (
    AttendanceRow,
    BallotRow,
    ExclusionRow,
    PersonRef,
    SittingRecord,
    StatusEvent,
    Turn,
    VoteRecord,
    chair_of,
    position_label,
    role_label,
)

ABSENCE_REASONS = {
    "official_business": "公務",
    "illness": "病気",
    "childbirth": "出産",
    "care": "育児・看護・介護",
    "other": "その他",
}
OUTCOMES = {"carried": "adopted", "rejected": "rejected"}
ORDINARY = "出席議員の過半数"


def _model(label: str):
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def fill(record: SittingRecord, sitting) -> None:
    """Add attendance, turns, votes and status changes to ``record``."""
    _status_changes(record, sitting)
    _roll(record, sitting)
    _floor(record, sitting)
    _votes(record, sitting)
    _exclusions(record, sitting)


def _status_changes(record: SittingRecord, sitting) -> None:
    StatusChange = _model("live.StatusChange")
    if StatusChange is None:
        return
    changes = list(StatusChange.objects.filter(sitting=sitting).order_by("at", "id"))
    if changes:
        record.events = [
            StatusEvent(c.action, c.at) for c in changes if c.action in ("open", "recess", "resume", "close")
        ]


def _roll(record: SittingRecord, sitting) -> None:
    Attendance = _model("attendance.Attendance")
    if Attendance is None:
        return
    rows = Attendance.objects.filter(sitting=sitting).select_related("person", "person__caucus")
    for row in rows.order_by("person__seat_number", "person_id"):
        at = row.arrived_at if row.status == "late" else row.left_at if row.status == "left" else None
        reason = ABSENCE_REASONS.get(row.absence_reason, "") or row.note
        entry = AttendanceRow(PersonRef.of(row.person), row.status, reason, at)
        if row.role == "official":
            record.officials.append(entry)
        elif row.role == "secretariat":
            record.secretariat.append(entry)
        else:
            record.members.append(entry)


def _floor(record: SittingRecord, sitting) -> None:
    FloorTurn = _model("voting.FloorTurn")
    if FloorTurn is None:
        return
    chair = chair_of(sitting)
    chair_id = chair.pk if chair else None
    turns = (
        FloorTurn.objects.filter(sitting=sitting, granted_at__isnull=False)
        .select_related("person", "person__caucus")
        .order_by("granted_at", "id")
    )
    for t in turns:
        record.turns.append(
            Turn(
                id=t.pk,
                person=PersonRef.of(t.person),
                role=role_label(person=t.person, sitting=sitting, chair_id=chair_id),
                granted_at=t.granted_at,
                ended_at=t.ended_at,
                agenda_item_id=t.agenda_item_id,
                position=position_label(t.person),
            )
        )


def _requirement(poll, motion) -> str:
    label = (poll.requirement or {}).get("label") or motion.requirement_label
    if motion.requirement == "ordinary" and not (poll.requirement or {}).get("key"):
        return ORDINARY
    return str(label or ORDINARY)


def _votes(record: SittingRecord, sitting) -> None:
    Poll = _model("voting.Poll")
    if Poll is None:
        return
    polls = (
        Poll.objects.filter(sitting=sitting, state="declared")
        .select_related("motion", "motion__agenda_item")
        .order_by("declared_at", "id")
    )
    for poll in polls:
        motion = poll.motion
        text = (
            f"{motion.bill_number} {motion.title}".strip()
            if motion.bill_number and motion.bill_number not in motion.title
            else motion.title
        )
        if poll.outcome == "objected":
            result = "objected"
        else:
            result = OUTCOMES.get(poll.outcome, poll.outcome)
        ballots = []
        if poll.method == "roll_call":
            people = poll.ballots.select_related("member", "member__caucus").order_by("member__seat_number")
            ballots = [
                BallotRow(PersonRef.of(b.member), b.choice, recorded_by_clerk=b.recorded_by_id is not None)
                for b in people
            ]
        counts = poll.method not in ("no_objection",)
        record.votes.append(
            VoteRecord(
                id=poll.pk,
                agenda_item_id=motion.agenda_item_id,
                motion=text,
                method=poll.method,
                result=result,
                yes=poll.yes_count if counts else None,
                no=poll.no_count if counts else None,
                present=poll.present_count,
                entitled=len(poll.entitled) if poll.entitled else None,
                requirement=_requirement(poll, motion),
                special=(poll.requirement or {}).get("kind", motion.requirement) == "special",
                casting_vote=poll.casting_vote,
                declared_at=poll.declared_at or poll.closed_at,
                opened_at=poll.opened_at,
                ballots=ballots,
            )
        )


def _exclusions(record: SittingRecord, sitting) -> None:
    Exclusion = _model("attendance.Exclusion")
    if Exclusion is None:
        return
    rows = Exclusion.objects.filter(agenda_item__sitting=sitting).select_related("person", "person__caucus")
    for row in rows.order_by("agenda_item__position", "person__seat_number"):
        record.exclusions.append(ExclusionRow(row.agenda_item_id, PersonRef.of(row.person), row.reason))
