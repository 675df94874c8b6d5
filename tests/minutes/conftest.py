"""Fixtures for the minutes area: a closed plenary sitting with a full record (roll, turns at the
floor, a no-objection decision, a roll-call ballot and a standing vote)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from council.models import Person
from meetings.attendance.models import Attendance
from meetings.models import AgendaItem, Sitting
from meetings.voting.models import Ballot, FloorTurn, Motion, Poll
from tests import factories

NAMES = [
    ("佐藤", "一郎"),
    ("鈴木", "花子"),
    ("高橋", "健"),
    ("田中", "美咲"),
    ("伊藤", "誠"),
    ("渡辺", "陽子"),
    ("山本", "大輔"),
    ("中村", "由美"),
    ("小林", "翔"),
    ("加藤", "恵"),
]


def at(sitting: Sitting, hhmm: str) -> datetime.datetime:
    h, m = (int(x) for x in hhmm.split(":"))
    return timezone.make_aware(datetime.datetime.combine(sitting.date, datetime.time(h, m)))


def build_recorded_sitting(org: dict) -> dict:
    sitting = org["sitting"]
    members = org["members"]
    for person, (family, given) in zip(members, NAMES, strict=True):
        Person.objects.filter(pk=person.pk).update(
            family_name=family, given_name=given, family_name_kana="かな", given_name_kana=""
        )
    Person.objects.filter(pk=org["official"].pk).update(family_name="五十嵐", given_name="正", title="町長")
    Person.objects.filter(pk=org["clerk"].pk).update(
        family_name="星", given_name="和夫", title="議会事務局長"
    )
    for p in members + [org["official"], org["clerk"]]:
        p.refresh_from_db()
    items = [
        factories.make_agenda_item(
            sitting, position=1, kind=AgendaItem.Kind.SIGNERS, title="会議録署名議員の指名"
        ),
        factories.make_agenda_item(
            sitting, position=2, kind=AgendaItem.Kind.SESSION_LENGTH, title="会期の決定"
        ),
        factories.make_agenda_item(
            sitting,
            position=3,
            kind=AgendaItem.Kind.BILL,
            bill_number="議案第45号",
            title="磐梯町税条例の一部を改正する条例について",
        ),
    ]
    Sitting.objects.filter(pk=sitting.pk).update(
        status=Sitting.Status.CLOSED,
        opened_at=at(sitting, "10:00"),
        closed_at=at(sitting, "11:30"),
        place="磐梯町議会議場",
    )
    sitting.refresh_from_db()
    from meetings.live.models import StatusChange

    for action, before, after, hhmm in [
        ("open", "scheduled", "open", "10:00"),
        ("recess", "open", "recess", "10:26"),
        ("resume", "recess", "open", "10:29"),
        ("close", "open", "closed", "11:30"),
    ]:
        StatusChange.objects.create(
            sitting=sitting, action=action, from_status=before, to_status=after, at=at(sitting, hhmm)
        )
    for i, person in enumerate(members):
        status = Attendance.Status.PRESENT_ROOM
        reason = ""
        if i == 9:
            status, reason = Attendance.Status.ABSENT, "illness"
        elif i == 7:
            status = Attendance.Status.PRESENT_ONLINE
        Attendance.objects.create(sitting=sitting, person=person, status=status, absence_reason=reason)
    Attendance.objects.create(
        sitting=sitting,
        person=org["official"],
        role=Attendance.Role.OFFICIAL,
        status=Attendance.Status.PRESENT_ROOM,
    )
    Attendance.objects.create(
        sitting=sitting,
        person=org["clerk"],
        role=Attendance.Role.SECRETARIAT,
        status=Attendance.Status.PRESENT_ROOM,
    )
    chair, asker, mayor = members[0], members[2], org["official"]
    turns = []
    for person, item, start, end in [
        (chair, items[0], "10:01", "10:02"),
        (chair, items[1], "10:03", "10:04"),
        (mayor, items[2], "10:05", "10:10"),
        (asker, items[2], "10:11", "10:20"),
        (mayor, items[2], "10:21", "10:25"),
        (chair, items[2], "10:40", "10:42"),
    ]:
        turns.append(
            FloorTurn.objects.create(
                sitting=sitting,
                agenda_item=item,
                person=person,
                status=FloorTurn.Status.DONE,
                requested_at=at(sitting, start),
                granted_at=at(sitting, start),
                ended_at=at(sitting, end),
            )
        )
    length = Motion.objects.create(agenda_item=items[1], title="会期を本日から12月12日までの16日間とすること")
    no_objection = Poll.objects.create(
        motion=length,
        sitting=sitting,
        method=Poll.Method.NO_OBJECTION,
        state=Poll.State.DECLARED,
        outcome=Poll.Outcome.CARRIED,
        present_count=8,
        opened_at=at(sitting, "10:04"),
        declared_at=at(sitting, "10:04"),
    )
    bill = Motion.objects.create(
        agenda_item=items[2], title="磐梯町税条例の一部を改正する条例について", bill_number="議案第45号"
    )
    voters = members[1:9]
    choices = ["yes", "yes", "no", "yes", "yes", "no", "yes", "yes"]
    roll_call = Poll.objects.create(
        motion=bill,
        sitting=sitting,
        method=Poll.Method.ROLL_CALL,
        state=Poll.State.DECLARED,
        outcome=Poll.Outcome.CARRIED,
        yes_count=choices.count("yes"),
        no_count=choices.count("no"),
        voted_count=8,
        present_count=8,
        entitled=[p.pk for p in voters],
        opened_at=at(sitting, "10:30"),
        declared_at=at(sitting, "10:35"),
    )
    for n, (person, choice) in enumerate(zip(voters, choices, strict=True)):
        Ballot.objects.create(
            poll=roll_call, member=person, choice=choice, client_token=f"t{n}", receipt=f"r{n}"
        )
    amend = Motion.objects.create(agenda_item=items[2], title="附帯決議案")
    standing = Poll.objects.create(
        motion=amend,
        sitting=sitting,
        method=Poll.Method.STANDING,
        state=Poll.State.DECLARED,
        outcome=Poll.Outcome.REJECTED,
        yes_count=3,
        no_count=5,
        present_count=8,
        opened_at=at(sitting, "10:36"),
        declared_at=at(sitting, "10:37"),
    )
    return dict(
        org,
        sitting=sitting,
        items=items,
        turns=turns,
        roll_call=roll_call,
        no_objection=no_objection,
        standing=standing,
        voters=voters,
        choices=choices,
    )


@pytest.fixture(autouse=True)
def _english():
    """Services refuse in the active language; the tests assert the English source messages."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _fast_passwords(request, settings):
    """Test users need no slow password hashing (it dominated this area's run time). Browser tests
    keep the default: a real server process checks those passwords with its own settings."""
    if request.node.get_closest_marker("browser") is None:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def recorded(org):
    return build_recorded_sitting(org)


@pytest.fixture
def clerk_user(org):
    return org["clerk"].user
