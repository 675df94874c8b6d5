"""Model constraints and rules of the organisation and meetings."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from council.models import Body, Membership, Person
from meetings.models import Session, Sitting
from tests.factories import make_body, make_membership, make_person


def test_active_seat_is_unique_in_the_database(org):
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.create(
            council=org["council"], kind="councillor", family_name="x", given_name="y", seat_number=1
        )
    org["members"][0].active = False
    org["members"][0].save()
    Person.objects.create(
        council=org["council"], kind="councillor", family_name="x", given_name="y", seat_number=1
    )


def test_only_councillors_have_seats(org):
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.create(
            council=org["council"], kind="official", family_name="x", given_name="y", seat_number=20
        )


def test_membership_rules(org):
    committee, clerk = org["committee"], org["clerk"]
    with pytest.raises(ValidationError) as exc:
        Membership(body=committee, person=clerk, start=datetime.date(2026, 1, 1)).full_clean()
    assert "person" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        Membership(
            body=committee, person=org["members"][8], role="chair", start=datetime.date(2026, 1, 1)
        ).full_clean()
    assert "role" in exc.value.message_dict or "body" in exc.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(
            body=committee,
            person=org["members"][8],
            start=datetime.date(2026, 1, 2),
            end=datetime.date(2026, 1, 1),
        )


def test_past_composition_is_kept(org):
    committee = org["committee"]
    old = Membership.objects.get(body=committee, person=org["members"][6])
    old.end = datetime.date(2025, 12, 31)
    old.save()
    make_membership(committee, org["members"][8], start=datetime.date(2026, 1, 1))
    on_2025 = set(
        Membership.objects.filter(body=committee)
        .active(on=datetime.date(2025, 6, 1))
        .values_list("person_id", flat=True)
    )
    on_2026 = set(
        Membership.objects.filter(body=committee)
        .active(on=datetime.date(2026, 6, 1))
        .values_list("person_id", flat=True)
    )
    assert org["members"][6].pk in on_2025 and org["members"][6].pk not in on_2026
    assert org["members"][8].pk in on_2026 and org["members"][8].pk not in on_2025


def test_quorum_rules(org):
    assert org["plenary"].quorum() == 5  # half of 10 seats
    committee = org["committee"]
    assert committee.quorum() == 3  # half of 5, rounded up
    committee.quorum_basis = Body.QuorumBasis.FIXED
    committee.quorum_fixed = 6
    with pytest.raises(ValidationError) as exc:
        committee.full_clean()
    assert "quorum_fixed" in exc.value.message_dict


def test_plenary_never_allows_remote(org):
    body = Body(council=org["council"], name="本会議2", kind="plenary", allows_remote_attendance=True)
    with pytest.raises(ValidationError) as exc:
        body.full_clean()
    assert "allows_remote_attendance" in exc.value.message_dict


def test_session_and_sitting_constraints(org):
    session = org["session"]
    with pytest.raises(IntegrityError), transaction.atomic():
        Session.objects.create(
            council=org["council"],
            kind="regular",
            year=2026,
            number=99,
            start_date=datetime.date(2026, 5, 2),
            end_date=datetime.date(2026, 5, 1),
        )
    sitting = org["sitting"]
    with pytest.raises(IntegrityError), transaction.atomic():
        Sitting.objects.create(
            session=session,
            body=sitting.body,
            number=sitting.number,
            date=sitting.date,
            start_time=sitting.start_time,
            place="議場",
        )
    outside = Sitting(
        session=session,
        body=sitting.body,
        number=99,
        date=session.end_date + datetime.timedelta(1),
        start_time=sitting.start_time,
        place="議場",
    )
    with pytest.raises(ValidationError) as exc:
        outside.full_clean()
    assert "date" in exc.value.message_dict


def test_display_names(org):
    from django.utils import translation

    session = org["session"]
    session.year, session.number = 2026, 4
    committee = make_body(
        org["council"], kind="standing", name="産業厚生常任委員会", name_en="Industry Committee"
    )
    with translation.override("ja"):
        assert session.display_title == "令和8年第4回定例会"
        assert committee.display_name == "産業厚生常任委員会"
    with translation.override("en"):
        assert session.display_title == "2026 4th Regular Session"
        assert committee.display_name == "Industry Committee"
    make_person(org["council"], seat_number=None)  # a councillor without a seat is allowed
