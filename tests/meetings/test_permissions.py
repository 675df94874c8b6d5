"""Following a sitting means one thing for the live wing and for voting (meetings.permissions)."""

from __future__ import annotations

import datetime

import pytest

from council.models import Membership, Person
from meetings import permissions
from meetings.live import permissions as live_permissions
from meetings.voting import permissions as voting_permissions
from tests.factories import make_council, make_person, make_sitting, make_small_council

pytestmark = pytest.mark.django_db


def test_live_and_voting_use_the_one_can_follow():
    assert live_permissions.can_follow is permissions.can_follow
    assert not hasattr(voting_permissions, "can_follow")


def test_who_may_follow_a_committee_sitting():
    org = make_small_council()
    sitting = make_sitting(org["session"], org["committee"])
    member, outsider = org["members"][4], org["members"][8]  # on the committee; only in the plenary
    assert permissions.can_follow(member.user, sitting)
    assert permissions.can_follow(org["clerk"].user, sitting)
    assert permissions.can_follow(org["official"].user, sitting)
    assert not permissions.can_follow(outsider.user, sitting)

    other_official = make_person(make_council(name="別の町議会"), kind=Person.Kind.OFFICIAL)
    assert not permissions.can_follow(other_official.user, sitting)

    # A member whose membership ended before the sitting's date no longer follows it.
    Membership.objects.filter(body=org["committee"], person=member).update(
        end=sitting.date - datetime.timedelta(days=1)
    )
    assert not permissions.can_follow(member.user, sitting)

    deactivated = org["members"][5].user
    deactivated.is_active = False
    deactivated.save()
    assert not permissions.can_follow(deactivated, sitting)
