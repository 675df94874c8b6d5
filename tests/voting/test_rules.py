"""The result function against an independent statement of the law's rules."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from meetings.voting import rules
from meetings.voting.rules import ORDINARY_MAJORITY, PRESETS, Requirement, decide
from tests.hypothesis_profiles import examples


def test_two_thirds_examples_from_the_domain():
    two_thirds = PRESETS["closed_session"]
    assert decide(requirement=two_thirds, seats=12, quorum=6, present=12, yes=8, no=4).carried is True
    assert decide(requirement=two_thirds, seats=12, quorum=6, present=11, yes=7, no=4).carried is False


def test_ordinary_tie_asks_the_chair_and_records_the_casting_vote():
    pending = decide(requirement=ORDINARY_MAJORITY, seats=10, quorum=5, present=9, yes=4, no=4)
    assert pending.outcome == rules.TIE and pending.carried is None and pending.needs_casting_vote
    cast = decide(
        requirement=ORDINARY_MAJORITY, seats=10, quorum=5, present=9, yes=4, no=4, casting_vote="yes"
    )
    assert cast.outcome == rules.CARRIED and cast.casting_vote_used


def test_the_chair_does_not_vote_under_the_ordinary_rule():
    with pytest.raises(ValueError, match="more votes"):
        decide(requirement=ORDINARY_MAJORITY, seats=10, quorum=5, present=6, yes=3, no=3)


def test_no_casting_vote_under_a_special_majority():
    with pytest.raises(ValueError, match="no casting vote"):
        decide(
            requirement=PRESETS["expulsion"],
            seats=12,
            quorum=6,
            present=12,
            yes=6,
            no=6,
            casting_vote="yes",
            in_office=12,
        )


def test_expulsion_needs_two_thirds_of_members_in_office_present():
    d = decide(requirement=PRESETS["expulsion"], seats=12, quorum=6, present=7, yes=7, no=0, in_office=12)
    assert d.outcome == rules.ATTENDANCE_SHORT and d.attendance_needed == 8
    d = decide(requirement=PRESETS["expulsion"], seats=12, quorum=6, present=8, yes=6, no=2, in_office=12)
    assert d.outcome == rules.CARRIED and d.approval_needed == 6


@pytest.mark.parametrize("key", ["expulsion", "no_confidence"])
def test_special_majority_attendance_counts_members_in_office_not_seats(key):
    """§135/§178: 10 seats, 9 in office: 6 present suffice (6 ≥ 2/3 × 9), not 7 (2/3 × 10)."""
    d = decide(requirement=PRESETS[key], seats=10, quorum=5, present=6, yes=5, no=1, in_office=9)
    assert d.attendance_needed == 6 and d.outcome == rules.CARRIED
    d = decide(requirement=PRESETS[key], seats=10, quorum=5, present=5, yes=5, no=0, in_office=9)
    assert d.outcome == rules.ATTENDANCE_SHORT and d.attendance_needed == 6
    # ...while §113's quorum still counts the seats: 5 of 10, whatever the members in office.
    d = decide(requirement=ORDINARY_MAJORITY, seats=10, quorum=5, present=4, yes=2, no=1, in_office=9)
    assert d.outcome == rules.NO_QUORUM
    assert "議員数" in PRESETS[key].label and "定数" not in PRESETS[key].label


def test_dissolution_attendance_counts_members_in_office():
    # 3/4 of 9 in office is 6.75 → 7 present; 3/4 of 10 seats would be 8.
    d = decide(requirement=PRESETS["dissolution"], seats=10, quorum=5, present=7, yes=6, no=1, in_office=9)
    assert d.attendance_needed == 7 and d.outcome == rules.CARRIED  # 6 ≥ 4/5 × 7 = 5.6


def test_in_office_basis_is_required_and_seats_basis_stays_available():
    with pytest.raises(ValueError, match="members in office"):
        decide(requirement=PRESETS["expulsion"], seats=10, quorum=5, present=7, yes=6, no=1)
    by_seats = Requirement("special", Fraction(2, 3), Fraction(3, 4), attendance_basis=rules.SEATS)
    d = decide(requirement=by_seats, seats=10, quorum=5, present=6, yes=5, no=1, in_office=9)
    assert d.outcome == rules.ATTENDANCE_SHORT and d.attendance_needed == 7
    # a requirement stored before the basis was recorded was counted against the seats
    assert (
        Requirement.from_dict({"kind": "special", "attendance": [2, 3], "approval": [3, 4]}).attendance_basis
        == "seats"
    )
    assert Requirement.from_dict(PRESETS["expulsion"].as_dict()) == PRESETS["expulsion"]


def test_quorum_proviso_for_exclusions():
    d = decide(requirement=ORDINARY_MAJORITY, seats=10, quorum=5, present=4, excluded=1, yes=2, no=1)
    assert d.outcome == rules.CARRIED and d.quorum_by_proviso
    assert (
        decide(requirement=ORDINARY_MAJORITY, seats=10, quorum=5, present=4, yes=2, no=1).outcome
        == rules.NO_QUORUM
    )


# --- property-based: an independent statement of the rules --------------------------------


def reference(req, seats, quorum, present, excluded, yes, no, casting, in_office):
    """Written separately from rules.decide: ceilings with math, counts compared plainly.
    A special majority's attendance is a share of the members in office (議員数), or of the
    seats where the requirement says so; §113's quorum is given."""
    if not (present >= quorum or present + excluded >= quorum):
        return "no_quorum"
    if req.kind == "ordinary":
        total = yes + no
        if 2 * yes > total:
            return "carried"
        if 2 * no > total:
            return "rejected"
        if casting is None:
            return "tie"
        return "carried" if casting == "yes" else "rejected"
    if req.attendance is not None:
        whole = in_office if req.attendance_basis == "in_office" else seats
        needed_present = math.ceil(Fraction(whole) * req.attendance)
        if present < needed_present:
            return "attendance_short"
    needed_yes = math.ceil(Fraction(present) * req.approval)
    return "carried" if yes >= needed_yes else "rejected"


fractions = st.sampled_from(
    [Fraction(1, 2), Fraction(2, 3), Fraction(3, 4), Fraction(4, 5), Fraction(3, 5), Fraction(1)]
)
requirements = st.one_of(
    st.just(ORDINARY_MAJORITY),
    st.sampled_from(list(PRESETS.values())),
    st.builds(
        lambda a, b, basis: Requirement("special", a, b, attendance_basis=basis),
        st.one_of(st.none(), fractions),
        fractions,
        st.sampled_from(["in_office", "seats"]),
    ),
)


@st.composite
def scenarios(draw):
    seats = draw(st.integers(1, 120))
    quorum = draw(st.integers(0, seats))
    present = draw(st.integers(0, seats))
    excluded = draw(st.integers(0, seats - present))
    req = draw(requirements)
    voters = present if req.kind == "special" else max(present - 1, 0)
    yes = draw(st.integers(0, voters))
    no = draw(st.integers(0, voters - yes))
    casting = draw(st.sampled_from([None, "yes", "no"])) if req.kind == "ordinary" else None
    in_office = draw(st.integers(present + excluded, seats))
    return req, seats, quorum, present, excluded, yes, no, casting, in_office


@settings(max_examples=examples(1500), deadline=None)
@given(scenarios())
def test_decide_matches_the_reference(case):
    req, seats, quorum, present, excluded, yes, no, casting, in_office = case
    d = decide(
        requirement=req,
        seats=seats,
        quorum=quorum,
        present=present,
        excluded=excluded,
        yes=yes,
        no=no,
        casting_vote=casting,
        in_office=in_office,
    )
    assert d.outcome == reference(req, seats, quorum, present, excluded, yes, no, casting, in_office)
    assert d.carried is (None if d.outcome == "tie" else d.outcome == "carried")
    assert d.casting_vote_used == (
        req.kind == "ordinary" and yes == no and casting is not None and d.outcome != "no_quorum"
    )


@settings(max_examples=examples(300), deadline=None)
@given(scenarios())
def test_one_more_yes_never_hurts(case):
    req, seats, quorum, present, excluded, yes, no, casting, in_office = case
    assume(no > 0)
    before = decide(
        requirement=req,
        seats=seats,
        quorum=quorum,
        present=present,
        excluded=excluded,
        yes=yes,
        no=no,
        casting_vote=casting,
        in_office=in_office,
    )
    after = decide(
        requirement=req,
        seats=seats,
        quorum=quorum,
        present=present,
        excluded=excluded,
        yes=yes + 1,
        no=no - 1,
        casting_vote=casting,
        in_office=in_office,
    )
    assert not (before.carried and after.carried is False)


@given(st.integers(1, 200), fractions)
def test_minimum_for_is_the_exact_ceiling(whole, frac):
    n = rules.minimum_for(whole, frac)
    assert rules.at_least(n, whole, frac) and (n == 0 or not rules.at_least(n - 1, whole, frac))


def test_requirement_round_trips():
    for req in [ORDINARY_MAJORITY, *PRESETS.values()]:
        assert Requirement.from_dict(req.as_dict()) == req
