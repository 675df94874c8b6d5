"""The sitting's record as plain data: what the minutes are drafted from.

``load_record(sitting)`` gathers the order of business (meetings), the roll, the turns at the
floor and the votes (meetings.voting) and the status changes (meetings.live) into the
dataclasses below, so drafting, the benchmark and the tests work on one simple shape.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.utils import timezone

from council.models import Membership, Person
from meetings.models import Sitting

# Attendance statuses as printed (出席 in the room, オンライン出席, 欠席, 遅刻, 早退).
PRESENT_ROOM = "present_room"
PRESENT_ONLINE = "present_online"
ABSENT = "absent"
LATE = "late"
LEFT = "left"
PRESENT_STATUSES = (PRESENT_ROOM, PRESENT_ONLINE, LATE, LEFT)


@dataclass
class PersonRef:
    id: int
    name: str  # 山田太郎 (no space, as printed)
    kana: str = ""
    seat_number: int | None = None
    caucus: str = ""
    title: str = ""  # 町長, 総務課長, 事務局長

    @classmethod
    def of(cls, person: Person) -> PersonRef:
        return cls(
            id=person.pk,
            name=f"{person.family_name}{person.given_name}",
            kana=f"{person.family_name_kana}{person.given_name_kana}",
            seat_number=person.seat_number,
            caucus=person.caucus.name if person.caucus_id else "",
            title=person.title,
        )


@dataclass
class AttendanceRow:
    person: PersonRef
    status: str = PRESENT_ROOM
    reason: str = ""
    at: datetime.datetime | None = None  # arrival (late) or departure (left)

    @property
    def present(self) -> bool:
        return self.status in PRESENT_STATUSES


@dataclass
class AgendaEntry:
    id: int
    position: int
    title: str
    bill_number: str = ""
    kind: str = ""
    closed_session: bool = False

    @property
    def label(self) -> str:
        return f"日程第{self.position}"

    @property
    def full_title(self) -> str:
        if self.bill_number and not self.title.startswith(self.bill_number):
            return f"{self.bill_number} {self.title}"
        return self.title


@dataclass
class Turn:
    """A turn at the floor (発言), granted by the chair."""

    id: int
    person: PersonRef
    role: str  # 議長, 3番, 町長
    granted_at: datetime.datetime
    ended_at: datetime.datetime | None = None
    agenda_item_id: int | None = None
    position: str = ""  # 議員, 町長 … for the open data's speakerPosition


@dataclass
class BallotRow:
    person: PersonRef
    choice: str  # yes | no | abstain
    recorded_by_clerk: bool = False  # a roll-call ballot the clerk entered for a failed tablet


@dataclass
class VoteRecord:
    id: int
    agenda_item_id: int | None
    motion: str
    method: str  # standing | hands | roll_call | secret | no_objection
    result: str  # adopted | rejected
    yes: int | None = None
    no: int | None = None
    abstain: int | None = None
    present: int | None = None
    entitled: int | None = (
        None  # members who could vote (the present, less the chair where the chair does not vote)
    )
    requirement: str = ""
    casting_vote: str = ""  # the chair's decision on a tie: yes | no | ""
    special: bool = False  # a special majority (the requirement is printed)
    declared_at: datetime.datetime | None = None
    opened_at: datetime.datetime | None = None
    ballots: list[BallotRow] = field(default_factory=list)

    @property
    def unanimous(self) -> bool:
        """Everyone entitled voted in favour (起立全員 / 挙手全員), not just a majority."""
        if self.result != "adopted" or self.yes is None or self.no:
            return False
        voters = self.entitled if self.entitled is not None else self.present
        return bool(voters) and self.yes >= voters


@dataclass
class ExclusionRow:
    """除斥 (§117): a member who may not take part in an agenda item."""

    agenda_item_id: int
    person: PersonRef
    reason: str = ""


@dataclass
class StatusEvent:
    kind: str  # open | recess | resume | close
    at: datetime.datetime


@dataclass
class SittingRecord:
    sitting_id: int
    council: str
    municipality: str
    body: str
    is_plenary: bool
    title: str
    date: datetime.date
    place: str
    chair: PersonRef | None
    members: list[AttendanceRow] = field(default_factory=list)
    officials: list[AttendanceRow] = field(default_factory=list)
    secretariat: list[AttendanceRow] = field(default_factory=list)
    agenda: list[AgendaEntry] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)
    votes: list[VoteRecord] = field(default_factory=list)
    events: list[StatusEvent] = field(default_factory=list)
    exclusions: list[ExclusionRow] = field(default_factory=list)

    @property
    def opened_at(self) -> datetime.datetime | None:
        return next((e.at for e in self.events if e.kind == "open"), None)

    @property
    def closed_at(self) -> datetime.datetime | None:
        return next((e.at for e in reversed(self.events) if e.kind == "close"), None)


def minutes_title(sitting: Sitting) -> str:
    """令和8年第4回磐梯町議会定例会会議録(第2号); committees add the body's name."""
    session = sitting.session
    from council.formats import era_year

    kind = "定例会" if session.kind == session.Kind.REGULAR else "臨時会"
    body = "" if sitting.body.is_plenary else sitting.body.name
    return f"{era_year(session.year)}第{session.number}回{session.council.name}{kind}{body}会議録(第{sitting.number}号)"


def chair_of(sitting: Sitting) -> Person | None:
    membership = (
        Membership.objects.filter(body=sitting.body, role=Membership.Role.CHAIR)
        .active(on=sitting.date)
        .select_related("person", "person__caucus")
        .first()
    )
    return membership.person if membership else None


def chair_title(sitting: Sitting) -> str:
    return "議長" if sitting.body.is_plenary else "委員長"


def role_label(*, person: Person, sitting: Sitting, chair_id: int | None) -> str:
    """The role printed in a speaker heading: 議長/委員長, ○番, or the official's title."""
    if chair_id and person.pk == chair_id:
        return chair_title(sitting)
    if person.kind == Person.Kind.COUNCILLOR:
        if not sitting.body.is_plenary:
            # Committee records name members by their committee role, not their plenary seat.
            vice = Membership.objects.filter(
                body=sitting.body, person=person, role=Membership.Role.VICE_CHAIR
            )
            return "副委員長" if vice.active(on=sitting.date).exists() else "委員"
        return f"{person.seat_number}番" if person.seat_number else "議員"
    return person.title or ""


def position_label(person: Person) -> str:
    if person.kind == Person.Kind.COUNCILLOR:
        return "議員"
    return person.title or ""


def core_record(sitting: Sitting) -> SittingRecord:
    """The parts every sitting has: title, place, chair, order of business, body members."""
    sitting = Sitting.objects.select_related("session__council", "body").get(pk=sitting.pk)
    council = sitting.session.council
    chair = chair_of(sitting)
    record = SittingRecord(
        sitting_id=sitting.pk,
        council=council.name,
        municipality=council.municipality,
        body=sitting.body.name,
        is_plenary=sitting.body.is_plenary,
        title=minutes_title(sitting),
        date=sitting.date,
        place=sitting.place,
        chair=PersonRef.of(chair) if chair else None,
    )
    record.agenda = [
        AgendaEntry(
            id=i.pk,
            position=i.position,
            title=i.title,
            bill_number=i.bill_number,
            kind=i.kind,
            closed_session=i.closed_session,
        )
        for i in sitting.agenda_items.order_by("position", "id")
    ]
    if sitting.opened_at:
        record.events.append(StatusEvent("open", sitting.opened_at))
    if sitting.closed_at:
        record.events.append(StatusEvent("close", sitting.closed_at))
    return record


def load_record(sitting: Sitting) -> SittingRecord:
    """The whole record of a sitting, from every app that keeps part of it."""
    record = core_record(sitting)
    from meetings.minutes import record_sources

    record_sources.fill(record, sitting)
    record.events.sort(key=lambda e: e.at)
    return record


def local(dt: datetime.datetime | None) -> datetime.datetime | None:
    return timezone.localtime(dt) if dt else None
