"""Demo data: a completed committee sitting with its whole record, for the minutes and the demo.

産業厚生常任委員会 第1号, on the first day of the demo session, before the plenary: the roll (one
member arriving late, the section chief attending to explain, secretariat), an exclusion (除斥,
§117) on the designation of a manager, floor turns (the chief explains, members ask), and decisions
by show of hands, by roll-call ballot ending in a tie that the chair decides (可否同数 → 裁決), and by
no objection. Everything is recorded through the voting services (so the audit chain holds it),
then the record's times are set to the sitting's own morning.

Idempotent: a sitting that already has polls is left alone.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from council.audit import audit_record
from council.models import Body, Council, Person
from meetings.attendance.models import Attendance, AttendanceChange
from meetings.models import AgendaItem, Session, Sitting
from meetings.voting.models import Ballot, FloorTurn, Poll
from meetings.voting.services import ballots, exclusions, floor, motions, polls, roll

COUNCIL_NAME = "磐梯町議会"
COMMITTEE = "産業厚生常任委員会"
K = AgendaItem.Kind

ITEMS = [
    (
        K.BILL,
        "議案第48号",
        "指定管理者の指定について(磐梯町農村環境改善センター)",
        "Designation of the manager of the Bandai Town Rural Environment Improvement Centre",
    ),
    (
        K.BILL,
        "議案第49号",
        "磐梯町国民健康保険税条例の一部を改正する条例",
        "Ordinance partially amending the Bandai Town National Health Insurance Tax Ordinance",
    ),
    (
        K.PETITION,
        "陳情第3号",
        "有害鳥獣対策の強化を求める陳情",
        "Petition for stronger measures against crop-damaging wildlife",
    ),
]


class _Clock:
    """The sitting's own time: each step a few minutes after the last."""

    def __init__(self, start: datetime.datetime):
        self.now = start

    def tick(self, minutes: float = 1) -> datetime.datetime:
        self.now += datetime.timedelta(minutes=minutes)
        return self.now


def _person(council: Council, username: str) -> Person:
    return Person.objects.get(council=council, user__username=username)


class _Turns:
    """The times of each turn on the sitting's clock, applied once every turn has ended."""

    def __init__(self, clock: _Clock):
        self.clock = clock
        self.times: list[tuple[int, datetime.datetime, datetime.datetime, datetime.datetime]] = []

    def speak(self, turn: FloorTurn, minutes: float) -> None:
        requested = self.clock.now
        granted = self.clock.tick(0.5)
        self.times.append((turn.pk, requested, granted, self.clock.tick(minutes)))

    def apply(self) -> None:
        for pk, requested, granted, ended in self.times:
            FloorTurn.objects.filter(pk=pk).update(requested_at=requested, granted_at=granted, ended_at=ended)


def _timed(poll: Poll, clock: _Clock, minutes: float) -> None:
    opened = clock.now
    closed = clock.tick(minutes)
    Ballot.objects.filter(poll=poll).update(cast_at=closed - datetime.timedelta(seconds=30))
    Poll.objects.filter(pk=poll.pk).update(opened_at=opened, closed_at=closed, declared_at=clock.tick(0.5))


@transaction.atomic
def seed(*, stdout) -> None:
    council = Council.objects.filter(name=COUNCIL_NAME).first()
    session = (
        Session.objects.filter(council=council, kind=Session.Kind.REGULAR, number=4).order_by("-year").first()
        if council
        else None
    )
    committee = Body.objects.filter(council=council, name=COMMITTEE).first() if council else None
    if session is None or committee is None:
        stdout.write("meetings.voting.demo: no demo session or committee yet; nothing recorded.")
        return
    sitting, _made = Sitting.objects.get_or_create(
        session=session,
        body=committee,
        number=1,
        defaults={
            "date": session.start_date,
            "start_time": datetime.time(9, 0),
            "place": "第2委員会室",
            "agenda_published_at": timezone.now(),
        },
    )
    if Poll.objects.filter(sitting=sitting).exists():
        stdout.write(f"meetings.voting.demo: {sitting} already recorded.")
        return
    if not sitting.agenda_items.exists():
        for n, (kind, bill, title, title_en) in enumerate(ITEMS, start=1):
            AgendaItem.objects.create(
                sitting=sitting,
                position=n,
                kind=kind,
                bill_number=bill,
                title=title,
                title_en=title_en,
                description="本会議から付託",
            )
    items = list(sitting.agenda_items.order_by("position"))
    chair, vice = _person(council, "giin08"), _person(council, "giin09")
    member10, member02, member01 = (_person(council, u) for u in ("giin10", "giin02", "giin01"))
    chief = Person.objects.filter(council=council, title="総務課長").first()
    clerk = Person.objects.filter(council=council, kind=Person.Kind.SECRETARIAT, user__isnull=False).first()
    clerk_user = clerk.user if clerk else None
    tz = timezone.get_current_timezone()
    clock = _Clock(datetime.datetime.combine(sitting.date, datetime.time(8, 55), tzinfo=tz))

    # The roll, before the sitting opens: one member will arrive late.
    roll.roll_prepare(sitting=sitting, by=clerk_user)
    for person in (chair, vice, member10, member01):
        roll.attendance_mark(
            sitting=sitting, person=person, status=Attendance.Status.PRESENT_ROOM, by=clerk_user
        )
    for person in [chief, *Person.objects.filter(council=council, kind=Person.Kind.SECRETARIAT)]:
        if person is not None:
            roll.attendance_mark(
                sitting=sitting, person=person, status=Attendance.Status.PRESENT_ROOM, by=clerk_user
            )
    Attendance.objects.filter(sitting=sitting, arrived_at__isnull=False).update(
        arrived_at=clock.now, updated_at=clock.now
    )
    AttendanceChange.objects.filter(attendance__sitting=sitting).update(at=clock.now)
    opened_at = datetime.datetime.combine(sitting.date, datetime.time(9, 0), tzinfo=tz)
    clock.now = opened_at
    Sitting.objects.filter(pk=sitting.pk).update(status=Sitting.Status.OPEN, opened_at=opened_at)
    sitting.refresh_from_db()
    turns = _Turns(clock)

    # 議案第48号: giin01 is excluded (除斥) — he chairs the body proposed as manager. Show of hands.
    exclusions.exclusion_add(
        agenda_item=items[0],
        person=member01,
        by=clerk_user,
        reason="指定管理者となる団体の役員であるため(地方自治法第117条)",
    )
    if chief:
        turns.speak(floor.floor_give(sitting=sitting, person=chief, by=chair.user, agenda_item=items[0]), 7)
    roll.attendance_mark(sitting=sitting, person=member02, status=Attendance.Status.LATE, by=clerk_user)
    Attendance.objects.filter(sitting=sitting, person=member02).update(
        arrived_at=clock.now, updated_at=clock.now
    )
    AttendanceChange.objects.filter(attendance__sitting=sitting, attendance__person=member02).update(
        at=clock.now
    )
    turn = floor.floor_request(sitting=sitting, user=member10.user, agenda_item=items[0])
    floor.floor_grant(turn=turn, by=chair.user)
    turns.speak(turn, 4)
    if chief:
        turns.speak(floor.floor_give(sitting=sitting, person=chief, by=chair.user, agenda_item=items[0]), 3)
    floor.floor_end(sitting=sitting, by=chair.user)
    motion = motions.motion_create(
        agenda_item=items[0], title="議案第48号 指定管理者の指定について", by=chair.user
    )
    poll = polls.poll_open(motion=motion, method=Poll.Method.HANDS, by=chair.user)
    poll = polls.poll_enter_counts(poll=poll, yes=len(poll.entitled), no=0, by=clerk_user or chair.user)
    polls.poll_declare(poll=poll, by=chair.user)
    _timed(poll, clock, 1)

    # 議案第49号: roll-call ballot, tied 2 to 2; the chair decides (裁決).
    if chief:
        turns.speak(floor.floor_give(sitting=sitting, person=chief, by=chair.user, agenda_item=items[1]), 6)
    turn = floor.floor_request(sitting=sitting, user=member02.user, agenda_item=items[1])
    floor.floor_grant(turn=turn, by=chair.user)
    turns.speak(turn, 5)
    floor.floor_end(sitting=sitting, by=chair.user)
    motion = motions.motion_create(
        agenda_item=items[1], title="議案第49号 磐梯町国民健康保険税条例の一部を改正する条例", by=chair.user
    )
    poll = polls.poll_open(motion=motion, method=Poll.Method.ROLL_CALL, by=chair.user)
    for person, choice in ((vice, "yes"), (member10, "no"), (member02, "no"), (member01, "yes")):
        ballots.vote_cast(poll_id=poll.pk, user=person.user, choice=choice, client_token=f"demo-{poll.pk}")
    poll = polls.poll_close(poll=poll, by=chair.user)
    poll = polls.poll_casting_vote(poll=poll, choice="yes", by=chair.user)
    polls.poll_declare(poll=poll, by=chair.user)
    _timed(poll, clock, 3)

    # 陳情第3号: no objection (簡易表決).
    motion = motions.motion_create(
        agenda_item=items[2], title="陳情第3号 有害鳥獣対策の強化を求める陳情", by=chair.user
    )
    clock.tick(2)
    poll = polls.poll_open(motion=motion, method=Poll.Method.NO_OBJECTION, by=chair.user)
    poll = polls.poll_close(poll=poll, by=chair.user)
    polls.poll_declare(poll=poll, by=chair.user)
    _timed(poll, clock, 0.5)

    turns.apply()
    Sitting.objects.filter(pk=sitting.pk).update(status=Sitting.Status.CLOSED, closed_at=clock.tick(2))
    audit_record(action="demo.seed", target=sitting, data={"step": "meetings.voting.demo"})
    stdout.write(
        f"meetings.voting.demo: {sitting} recorded (roll, floor turns, "
        f"{Poll.objects.filter(sitting=sitting).count()} votes)."
    )
