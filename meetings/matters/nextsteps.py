"""Which steps the clerk's matter page offers: only those the rules allow next for the matter's
current road, each with the sittings where it can be taken (a read; the services still check and
refuse every step on their own).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from council.models import Body
from meetings.matters import rules
from meetings.matters.models import Matter, MatterItem
from meetings.matters.services import road_of
from meetings.models import Sitting


@dataclass
class NextSteps:
    """The forms of the page: each a list of sittings (empty: the form is absent)."""

    place: list[Sitting] = field(default_factory=list)
    clerk_steps: list[tuple[str, str]] = field(default_factory=list)
    clerk_step_sittings: list[Sitting] = field(default_factory=list)
    refer: list[Sitting] = field(default_factory=list)
    committees: list[Body] = field(default_factory=list)
    examine: list[Sitting] = field(default_factory=list)
    decisions: list[tuple[str, str]] = field(default_factory=list)
    chair_report: list[Sitting] = field(default_factory=list)
    vote: list[Sitting] = field(default_factory=list)
    decide: list[Sitting] = field(default_factory=list)
    results: list[tuple[str, str]] = field(default_factory=list)
    withdraw: bool = False

    @property
    def any(self) -> bool:
        return bool(
            self.place
            or self.clerk_step_sittings
            or self.refer
            or self.examine
            or self.chair_report
            or self.vote
            or self.decide
        )


def _allowed(road: rules.Road, step: str, *, committee: bool = False) -> bool:
    try:
        rules.check_step(road, step, committee=committee)
    except rules.StepRefused:
        return False
    return True


def next_steps(matter: Matter, sittings: list[Sitting]) -> NextSteps:
    """The steps possible next for ``matter`` among the session's ``sittings``."""
    found = NextSteps()
    road = road_of(matter)
    if road.result == rules.WITHDRAWN or road.finished:
        return found
    found.withdraw = True
    amendment = matter.kind == rules.AMENDMENT
    placed_on = set(
        MatterItem.objects.filter(matter=matter).values_list("agenda_item__sitting_id", flat=True)
    )
    committee_of = matter.amends.referred_to_id if amendment else matter.referred_to_id
    parent_on = (
        set(
            MatterItem.objects.filter(matter=matter.amends_id).values_list(
                "agenda_item__sitting_id", flat=True
            )
        )
        if amendment
        else set()
    )
    plenary = [s for s in sittings if s.body.is_plenary]
    committee = [s for s in sittings if not s.body.is_plenary and s.body_id == committee_of]
    placed_plenary = [s for s in plenary if s.pk in placed_on]
    placed_committee = [s for s in committee if s.pk in placed_on]

    # 上程: where the matter is not yet on the agenda (an amendment: where the matter it amends is).
    if _allowed(road, rules.PLACED):
        found.place += [s for s in plenary if s.pk not in placed_on]
    if committee_of and _allowed(road, rules.PLACED, committee=True):
        found.place += [s for s in committee if s.pk not in placed_on]
    if amendment:
        found.place = [s for s in found.place if s.pk in parent_on]

    # The clerk's one-click steps, on the sittings where the matter is on the agenda.
    steps = []
    for code, label in rules.STEPS:
        if code not in rules.CLERK_STEPS:
            continue
        in_plenary = bool(placed_plenary) and _allowed(road, code)
        in_committee = (
            bool(placed_committee) and code != rules.REFERRAL_OMITTED and _allowed(road, code, committee=True)
        )
        if amendment and code == rules.REFERRAL_OMITTED:
            continue
        if in_plenary or in_committee:
            steps.append((code, label))
    if steps:
        found.clerk_steps = steps
        found.clerk_step_sittings = placed_plenary + placed_committee

    if not amendment and placed_plenary and _allowed(road, rules.REFERRED):
        found.refer = placed_plenary
        found.committees = list(
            Body.objects.filter(council=matter.council_id).exclude(kind=Body.Kind.PLENARY).order_by("id")
        )
    carried_amendment = matter.amendments.filter(result=rules.CARRIED).exists()
    if not amendment and placed_committee and _allowed(road, rules.EXAMINED, committee=True):
        found.examine = placed_committee
        found.decisions = [
            (code, label)
            for code, label in rules.COMMITTEE_DECISIONS
            if code in rules.committee_decisions_for(matter.kind)
            and (code != rules.SHOULD_AMEND or carried_amendment)
        ]
    if placed_plenary and _allowed(road, rules.CHAIR_REPORT):
        found.chair_report = placed_plenary

    # 採決: a motion on the voting console, or the decision recorded by the clerk.
    if placed_plenary and _allowed(road, rules.VOTED):
        found.vote += placed_plenary
    if placed_committee and (
        _allowed(road, rules.VOTED, committee=True)
        if amendment
        else _allowed(road, rules.EXAMINED, committee=True)
    ):
        found.vote += placed_committee
    if placed_plenary and _allowed(road, rules.DECIDED):
        found.decide += placed_plenary
    if amendment and placed_committee and _allowed(road, rules.DECIDED, committee=True):
        found.decide += placed_committee
    if found.decide:
        found.results = [
            (code, label)
            for code, label in rules.RESULTS
            if code in rules.results_for(matter.kind)
            and code != rules.WITHDRAWN
            and (code != rules.PASSED or not carried_amendment)
            and (code != rules.AMENDED or carried_amendment)
            and (code != rules.CONTINUED or bool(matter.referred_to_id))
        ]
    return found
