"""The permission module for every role: anonymous, public, councillor, chair, clerk, official, admin."""

import pytest
from django.contrib.auth.models import AnonymousUser

from council import permissions as p
from meetings import permissions as mp
from tests.factories import make_user


@pytest.fixture
def users(org):
    return {
        "anonymous": AnonymousUser(),
        "public": make_user("citizen"),
        "councillor": org["members"][5].user,
        "chair": org["members"][2].user,  # chair of the committee
        "clerk": org["clerk"].user,
        "official": org["official"].user,
        "admin": org["admin"],
    }


EXPECTED = {
    #             admin  clerk  councillor official role
    "anonymous": (False, False, False, False, "anonymous"),
    "public": (False, False, False, False, "public"),
    "councillor": (False, False, True, False, "councillor"),
    "chair": (False, False, True, False, "councillor"),
    "clerk": (False, True, False, False, "clerk"),
    "official": (False, False, False, True, "official"),
    "admin": (True, True, False, False, "admin"),
}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_role_checks(users, role):
    user = users[role]
    assert (
        p.is_admin(user),
        p.is_clerk(user),
        p.is_councillor(user),
        p.is_official(user),
        p.role_of(user),
    ) == EXPECTED[role]
    assert p.can_manage_organisation(user) == (role in ("clerk", "admin"))
    assert mp.can_manage_meetings(user) == (role in ("clerk", "admin"))


@pytest.mark.parametrize(
    "role,member_plenary,member_committee,chair_committee",
    [
        ("anonymous", False, False, False),
        ("public", False, False, False),
        ("councillor", True, True, False),
        ("chair", True, True, True),
        ("clerk", False, False, False),
        ("official", False, False, False),
        ("admin", False, False, False),
    ],
)
def test_membership_checks(org, users, role, member_plenary, member_committee, chair_committee):
    user = users[role]
    assert p.is_member_of(user, org["plenary"]) == member_plenary
    assert p.is_member_of(user, org["committee"]) == member_committee
    assert p.is_chair_of(user, org["committee"]) == chair_committee
    assert p.is_chair_of(user, org["plenary"]) is False


def test_plenary_chair(org):
    assert p.is_chair_of(org["members"][0].user, org["plenary"])


def test_councillor_outside_committee(org):
    outsider = org["members"][8].user
    assert not p.is_member_of(outsider, org["committee"])
    assert set(p.bodies_for(outsider)) == {org["plenary"]}


@pytest.mark.parametrize(
    "role,bodies",
    [
        ("anonymous", set()),
        ("public", set()),
        ("councillor", {"plenary", "committee"}),
        ("chair", {"plenary", "committee"}),
        ("clerk", {"plenary", "committee"}),
        ("official", set()),
        ("admin", {"plenary", "committee"}),
    ],
)
def test_bodies_for(org, users, role, bodies):
    assert set(p.bodies_for(users[role])) == {org[name] for name in bodies}


@pytest.mark.parametrize(
    "role,view_sitting,view_draft,view_published",
    [
        ("anonymous", False, False, False),
        ("public", False, False, False),
        ("councillor", True, False, True),
        ("chair", True, False, True),
        ("clerk", True, True, True),
        ("official", True, False, True),
        ("admin", True, True, True),
    ],
)
def test_sitting_visibility(org, users, role, view_sitting, view_draft, view_published):
    from django.utils import timezone

    user, sitting = users[role], org["sitting"]
    assert mp.can_view_sitting(user, sitting) == view_sitting
    assert mp.can_view_agenda(user, sitting) == view_draft
    sitting.agenda_published_at = timezone.now()
    assert mp.can_view_agenda(user, sitting) == view_published


def test_inactive_person_loses_role(org):
    person = org["members"][5]
    person.active = False
    person.save()
    assert p.role_of(person.user) == "public"
    assert not p.is_councillor(person.user)
    assert not p.is_member_of(person.user, org["plenary"])


def test_ended_membership_is_not_membership_today(org):
    import datetime

    from council.models import Membership

    m = Membership.objects.get(body=org["committee"], person=org["members"][5])
    m.end = datetime.date(2024, 1, 1)
    m.save()
    assert not p.is_member_of(org["members"][5].user, org["committee"])
    assert p.is_member_of(org["members"][5].user, org["committee"], on=datetime.date(2023, 12, 1))


@pytest.mark.django_db(transaction=True)
async def test_async_twins(org, users):
    from asgiref.sync import sync_to_async

    clerk = users["clerk"]
    assert await p.ais_clerk(clerk)
    assert await p.arole_of(clerk) == "clerk"
    assert await mp.acan_manage_meetings(clerk)
    chair = users["chair"]
    committee = org["committee"]
    assert await p.ais_chair_of(chair, committee)
    assert not await sync_to_async(p.is_clerk)(chair)
