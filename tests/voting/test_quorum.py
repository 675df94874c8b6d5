"""quorum_status against an independent statement of §113 over any roll of a committee."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from council.models import Body
from meetings.attendance.models import Attendance, Exclusion, IdentityCheck, RemoteAttendanceRequest
from meetings.attendance.quorum import quorum_status
from tests.hypothesis_profiles import examples

pytestmark = pytest.mark.django_db

LINES = ["room", "online", "absent", "late_arrived", "late_expected", "left"]
line = st.tuples(
    st.sampled_from(LINES), st.booleans(), st.booleans(), st.booleans()
)  # + approved, checked, excluded


def expected(lines, allows_remote, required):
    present = excluded = 0
    for kind, approved, checked, is_excluded in lines:
        here = kind in ("room", "late_arrived") or (
            kind == "online" and allows_remote and approved and checked
        )
        if here and is_excluded:
            excluded += 1
        elif here:
            present += 1
    return present, present >= required or present + excluded >= required


@settings(
    max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lines=st.lists(line, min_size=5, max_size=5),
    allows_remote=st.booleans(),
    basis=st.sampled_from(["seats", "fixed"]),
    fixed=st.integers(1, 5),
)
def test_quorum_matches_the_rule(committee, lines, allows_remote, basis, fixed):
    sitting, item, people = committee["sitting"], committee["item"], committee["people"]
    Body.objects.filter(pk=sitting.body_id).update(
        allows_remote_attendance=allows_remote, quorum_basis=basis, quorum_fixed=fixed
    )
    sitting.body.refresh_from_db()
    Attendance.objects.filter(sitting=sitting).delete()
    Exclusion.objects.filter(agenda_item=item).delete()
    IdentityCheck.objects.filter(request__sitting=sitting).delete()
    RemoteAttendanceRequest.objects.filter(sitting=sitting).delete()
    now = timezone.now()
    for person, (kind, approved, checked, is_excluded) in zip(people, lines, strict=True):
        status = {
            "room": "present_room",
            "online": "present_online",
            "absent": "absent",
            "late_arrived": "late",
            "late_expected": "late",
            "left": "left",
        }[kind]
        Attendance.objects.create(
            sitting=sitting,
            person=person,
            status=status,
            arrived_at=None if kind == "late_expected" else now - datetime.timedelta(minutes=5),
        )
        if kind == "online":
            request = RemoteAttendanceRequest.objects.create(
                sitting=sitting, person=person, reason="r", decision="approved" if approved else "pending"
            )
            IdentityCheck.objects.create(
                request=request, checked_by=committee["clerk_user"], method="video", passed=checked
            )
        if is_excluded:
            Exclusion.objects.create(agenda_item=item, person=person, reason="除斥")
    required = fixed if basis == "fixed" else 3
    present, met = expected(lines, allows_remote, required)
    status = quorum_status(sitting=sitting, agenda_item=item)
    assert (status.required, status.present, status.met) == (required, present, met)
    whole = quorum_status(sitting=sitting)
    assert whole.present == present + status.excluded
