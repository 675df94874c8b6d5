"""Fixtures for matters: a session with a plenary and a committee sitting, and helpers that take a
real vote through the voting services (so the hook is exercised end to end)."""

from __future__ import annotations

import uuid

import pytest

from meetings.attendance.models import Attendance
from meetings.matters import services
from meetings.models import Sitting
from meetings.voting.models import Poll
from meetings.voting.services import ballots, polls, roll
from tests import factories


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _english():
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def world(org):
    return matters_world(org)


def matters_world(org):
    """The plenary's first sitting (org['sitting']), a committee sitting two days later, a last
    plenary sitting, a clerk user."""
    session = org["session"]
    plenary1 = org["sitting"]
    committee1 = factories.make_sitting(
        session, org["committee"], date=plenary1.date.replace(day=plenary1.date.day)
    )
    plenary2 = factories.make_sitting(session, org["plenary"], date=plenary1.date)
    return dict(
        org, plenary1=plenary1, committee1=committee1, plenary2=plenary2, clerk_user=org["clerk"].user
    )


def submit_bill(world, **kw):
    defaults = dict(
        actor=world["clerk_user"],
        session=world["session"],
        kind="bill",
        title="町税条例の一部を改正する条例",
        submitter_kind="mayor",
    )
    defaults.update(kw)
    return services.matter_submit(**defaults)


def open_sitting(sitting: Sitting, people, clerk_user) -> Sitting:
    Sitting.objects.filter(pk=sitting.pk).update(status=Sitting.Status.OPEN)
    sitting.refresh_from_db()
    for person in people:
        roll.attendance_mark(
            sitting=sitting, person=person, status=Attendance.Status.PRESENT_ROOM, by=clerk_user
        )
    return sitting


def take_vote(*, motion, people, clerk_user, method="roll_call", yes=None, secret=False) -> Poll:
    """Open, cast (roll call / secret: each member; standing: counts), close and declare."""
    poll = polls.poll_open(motion=motion, method="secret" if secret else method, by=clerk_user)
    entitled = set(poll.entitled)
    voters = [p for p in people if p.pk in entitled]
    yes_voters = voters if yes is None else voters[:yes]
    if poll.method in (Poll.Method.ROLL_CALL, Poll.Method.SECRET):
        for person in voters:
            ballots.vote_cast(
                poll_id=poll.pk,
                user=person.user,
                choice="yes" if person in yes_voters else "no",
                client_token=uuid.uuid4().hex,
            )
        poll = polls.poll_close(poll=poll, by=clerk_user)
    else:
        poll = polls.poll_enter_counts(
            poll=poll, yes=len(yes_voters), no=len(voters) - len(yes_voters), by=clerk_user
        )
    return polls.poll_declare(poll=poll, by=clerk_user)


@pytest.fixture
def submit(world):
    return lambda **kw: submit_bill(world, **kw)


def decided_in_committee(world, submit, *, title: str = "下水道条例の一部を改正する条例"):
    """A bill referred to the committee and passed there by four hands of five present, its report
    (委員会審査報告書) given remarks: not yet reported to the plenary, not published."""
    clerk, members = world["clerk_user"], world["members"]
    bill = submit(title=title)
    services.matter_place(actor=clerk, matter=bill, sitting=world["plenary1"])
    services.matter_refer(actor=clerk, matter=bill, committee=world["committee"], sitting=world["plenary1"])
    services.matter_place(actor=clerk, matter=bill, sitting=world["committee1"])
    people = members[2:7]
    open_sitting(world["committee1"], people, clerk)
    take_vote(
        motion=services.matter_motion_create(actor=clerk, matter=bill, sitting=world["committee1"]),
        people=people,
        clerk_user=clerk,
        method="hands",
        yes=4,
    )
    report = bill.reports.get()
    services.report_update(actor=clerk, report=report, remarks="附帯意見なし")
    return report
