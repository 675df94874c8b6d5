"""Fixtures for the voting area: an open committee sitting (remote allowed) and an open plenary."""

from __future__ import annotations

import pytest

from meetings.attendance.models import Attendance, IdentityCheck
from meetings.models import Sitting
from meetings.voting.services import identity, remote, roll
from tests import factories


def open_sitting(sitting: Sitting) -> Sitting:
    Sitting.objects.filter(pk=sitting.pk).update(status=Sitting.Status.OPEN)
    sitting.refresh_from_db()
    return sitting


def mark_all_present(sitting: Sitting, people, clerk_user=None) -> None:
    for person in people:
        roll.attendance_mark(
            sitting=sitting, person=person, status=Attendance.Status.PRESENT_ROOM, by=clerk_user
        )


def make_remote(sitting: Sitting, person, *, chair_user, clerk_user, check_in: bool = True):
    request = remote.remote_apply(sitting=sitting, person=person, reason="育児のため", by=person.user)
    remote.remote_decide(request=request, approve=True, by=chair_user)
    identity.identity_check_record(
        request=request, method=IdentityCheck.Method.VIDEO, passed=True, by=clerk_user
    )
    if check_in:
        roll.attendance_check_in(sitting=sitting, user=person.user)
    return request


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Hashing a dozen passwords with PBKDF2 costs seconds per test; tests sign in with force_login."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in English (the source language); Japanese is asserted where it matters."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def sent_frames(monkeypatch) -> list[str]:
    """The text of every live event frame sent (after commit), in order; each still goes out."""
    from meetings import events

    frames: list[str] = []
    real_send = events.send_frame

    def capture(*, group, stream, seq, text, narrow=None):
        frames.append(text)
        real_send(group=group, stream=stream, seq=seq, text=text, narrow=narrow)

    monkeypatch.setattr(events, "send_frame", capture)
    return frames


@pytest.fixture
def committee(org):
    """An open sitting of the 5-member committee (chair members[2]); agenda item 1."""
    sitting = open_sitting(factories.make_sitting(org["session"], org["committee"], place="第1委員会室"))
    item = factories.make_agenda_item(sitting, bill_number="議案第45号")
    people = org["members"][2:7]
    return dict(
        org,
        sitting=sitting,
        item=item,
        people=people,
        chair=org["members"][2],
        clerk_user=org["clerk"].user,
        chair_user=org["members"][2].user,
    )


@pytest.fixture
def plenary(org):
    sitting = open_sitting(org["sitting"])
    item = factories.make_agenda_item(sitting, bill_number="議案第46号")
    return dict(
        org,
        sitting=sitting,
        item=item,
        people=org["members"],
        chair=org["members"][0],
        clerk_user=org["clerk"].user,
        chair_user=org["members"][0].user,
    )
