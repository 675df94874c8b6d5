"""A matter's road, step by step, through the services the sittings use, and every refusal."""

from __future__ import annotations

import pytest

from council.audit import audit_verify
from council.errors import Refused
from council.models import AuditEntry
from meetings.matters import rules, services
from meetings.matters.models import Matter, MatterSettings, MatterStep
from tests import factories
from tests.matters.conftest import open_sitting, take_vote

pytestmark = pytest.mark.django_db


def _kinds(matter):
    return list(matter.steps.order_by("date", "at", "id").values_list("kind", flat=True))


def test_matters_numbering_per_kind_through_the_year(world, submit):
    a = submit()
    b = submit(title="補正予算")
    p = submit(
        kind="petition",
        title="少人数学級の推進を求める請願",
        submitter_kind="petitioner",
        petitioner="磐梯町教職員組合",
        sponsors=[(world["members"][4], "introducer")],
    )
    assert (a.number, b.number, p.number) == (1, 2, 1)
    assert a.label_ja == "議案第1号" and p.label_ja == "請願第1号"
    assert _kinds(a) == ["submitted"]
    # The next session of the same year continues the numbering.
    later = factories.make_session(world["council"], year=world["session"].year)
    c = submit(session=later)
    assert c.number == 3
    assert AuditEntry.objects.filter(action="matter.submit").count() == 4
    assert audit_verify().ok


def test_matters_numbering_per_session_when_the_council_says_so(world, submit):
    MatterSettings.objects.create(council=world["council"], numbering="session")
    submit()
    later = factories.make_session(world["council"], year=world["session"].year)
    assert submit(session=later).number == 1


def test_matters_a_number_taken_twice_is_refused(world, submit):
    submit(number=45)
    with pytest.raises(Refused, match="already has that number"):
        submit(number=45)


@pytest.mark.parametrize(
    "kw, message",
    [
        (dict(title=" "), "Give the matter a title"),
        (
            dict(kind="petition", submitter_kind="petitioner", petitioner="某"),
            "at least one introducing member",
        ),
        (dict(kind="representation", submitter_kind="mayor"), "submitted by a petitioner"),
        (dict(kind="members_bill", submitter_kind="members"), "needs its proposer"),
        (dict(submitter_kind="committee"), "Choose the committee"),
    ],
)
def test_matters_submission_refusals(world, submit, kw, message):
    with pytest.raises(Refused, match=message):
        submit(**kw)
    assert not Matter.objects.exists()


def test_matters_full_road_of_a_referred_bill_by_real_votes(world, submit):
    """上程 → 説明 → 質疑 → 付託 → committee vote (roll call) → 委員長報告 → 討論 → plenary vote."""
    clerk, members = world["clerk_user"], world["members"]
    bill = submit()
    item = services.matter_place(actor=clerk, matter=bill, sitting=world["plenary1"])
    assert item.bill_number == "議案第1号" and item.kind == "bill"
    services.matter_step_record(actor=clerk, matter=bill, kind=rules.EXPLAINED, sitting=world["plenary1"])
    services.matter_step_record(actor=clerk, matter=bill, kind=rules.QUESTIONED, sitting=world["plenary1"])
    services.matter_refer(actor=clerk, matter=bill, committee=world["committee"], sitting=world["plenary1"])
    # In committee: placed, and its vote recorded by the hook when the chair declares it.
    services.matter_place(actor=clerk, matter=bill, sitting=world["committee1"])
    committee_people = members[2:7]
    open_sitting(world["committee1"], committee_people, clerk)
    motion = services.matter_motion_create(actor=clerk, matter=bill, sitting=world["committee1"])
    take_vote(motion=motion, people=committee_people, clerk_user=clerk, yes=3)
    bill.refresh_from_db()
    assert bill.committee_decision == rules.SHOULD_PASS
    report = bill.reports.get()
    assert report.vote_summary == "賛成多数(賛成3 反対1)"  # the chair does not vote
    assert report.chair_name == members[2].full_name
    # Back in the plenary.
    services.matter_place(actor=clerk, matter=bill, sitting=world["plenary2"])
    services.matter_chair_report(actor=clerk, matter=bill, sitting=world["plenary2"])
    services.matter_step_record(actor=clerk, matter=bill, kind=rules.DEBATED, sitting=world["plenary2"])
    open_sitting(world["plenary2"], members, clerk)
    motion = services.matter_motion_create(actor=clerk, matter=bill, sitting=world["plenary2"])
    take_vote(motion=motion, people=members, clerk_user=clerk, method="standing", yes=7)
    bill.refresh_from_db()
    assert bill.result == rules.PASSED and bill.decided_on == world["plenary2"].date
    assert _kinds(bill) == [
        "submitted",
        "placed",
        "explained",
        "questioned",
        "referred",
        "placed",
        "examined",
        "placed",
        "chair_report",
        "debated",
        "voted",
        "decided",
    ]
    chair_step = bill.steps.get(kind=rules.CHAIR_REPORT)
    assert chair_step.report == report
    assert audit_verify().ok


def test_matters_a_motion_made_on_the_voting_console_is_recognised(world, submit):
    """A motion created without the matters page (bill number = the matter's) is linked by the hook."""
    from meetings.voting.services.motions import motion_create

    clerk, members = world["clerk_user"], world["members"]
    bill = submit()
    item = services.matter_place(actor=clerk, matter=bill, sitting=world["plenary1"])
    services.matter_step_record(
        actor=clerk, matter=bill, kind=rules.REFERRAL_OMITTED, sitting=world["plenary1"]
    )
    open_sitting(world["plenary1"], members, clerk)
    motion = motion_create(agenda_item=item, title="議案第1号", by=clerk)
    take_vote(motion=motion, people=members, clerk_user=clerk, yes=2)
    bill.refresh_from_db()
    assert bill.result == rules.REJECTED


def test_matters_deciding_twice_is_refused(world, submit):
    clerk = world["clerk_user"]
    bill = submit()
    services.matter_place(actor=clerk, matter=bill, sitting=world["plenary1"])
    services.matter_decide(actor=clerk, matter=bill, result=rules.PASSED, sitting=world["plenary1"])
    with pytest.raises(Refused, match="already been decided"):
        services.matter_decide(actor=clerk, matter=bill, result=rules.REJECTED, sitting=world["plenary1"])
    with pytest.raises(Refused, match="already been decided"):
        services.matter_withdraw(actor=clerk, matter=bill)
    assert bill.steps.filter(kind=rules.DECIDED).count() == 1


def test_matters_the_database_refuses_a_second_decision_too():
    """The unique constraint backs up the rules (two clerks at once)."""
    from django.db import IntegrityError, transaction

    org = factories.make_small_council()
    matter = Matter.objects.create(
        council=org["council"],
        session=org["session"],
        kind="bill",
        number=1,
        number_scope="x",
        title="t",
        submitter_kind="mayor",
        submitted_on=org["session"].start_date,
    )
    MatterStep.objects.create(matter=matter, kind="decided", outcome="passed", date=matter.submitted_on)
    with pytest.raises(IntegrityError), transaction.atomic():
        MatterStep.objects.create(matter=matter, kind="decided", outcome="rejected", date=matter.submitted_on)


def test_matters_reporting_a_matter_never_referred_is_refused(world, submit):
    clerk = world["clerk_user"]
    bill = submit()
    services.matter_place(actor=clerk, matter=bill, sitting=world["plenary1"])
    with pytest.raises(Refused, match="never referred"):
        services.matter_chair_report(actor=clerk, matter=bill, sitting=world["plenary1"])
    with pytest.raises(Refused, match="never referred"):
        services.matter_examine(
            actor=clerk, matter=bill, decision=rules.SHOULD_PASS, sitting=world["committee1"]
        )
    before = AuditEntry.objects.count()
    with pytest.raises(Refused, match="not referred to a committee"):
        services.matter_place(actor=clerk, matter=bill, sitting=world["committee1"])
    assert AuditEntry.objects.count() == before


def test_matters_step_order_refusals(world, submit):
    clerk = world["clerk_user"]
    bill = submit()
    with pytest.raises(Refused, match="Place the matter on the plenary's agenda"):
        services.matter_step_record(actor=clerk, matter=bill, kind=rules.EXPLAINED, sitting=world["plenary1"])
    with pytest.raises(Refused, match="Place the matter on the plenary's agenda"):
        services.matter_refer(
            actor=clerk, matter=bill, committee=world["committee"], sitting=world["plenary1"]
        )
    services.matter_place(actor=clerk, matter=bill, sitting=world["plenary1"])
    with pytest.raises(Refused, match="already on the agenda of this sitting"):
        services.matter_place(actor=clerk, matter=bill, sitting=world["plenary1"])
    with pytest.raises(Refused, match="not on the agenda of this sitting"):
        services.matter_step_record(
            actor=clerk, matter=bill, kind=rules.QUESTIONED, sitting=world["plenary2"]
        )
    with pytest.raises(Refused, match="recorded by its own action"):
        services.matter_step_record(actor=clerk, matter=bill, kind=rules.DECIDED, sitting=world["plenary1"])
    services.matter_refer(actor=clerk, matter=bill, committee=world["committee"], sitting=world["plenary1"])
    with pytest.raises(Refused, match="already been referred"):
        services.matter_refer(
            actor=clerk, matter=bill, committee=world["committee"], sitting=world["plenary1"]
        )
    with pytest.raises(Refused, match="already been referred"):
        services.matter_step_record(
            actor=clerk, matter=bill, kind=rules.REFERRAL_OMITTED, sitting=world["plenary1"]
        )
    with pytest.raises(Refused, match="must report"):
        services.matter_decide(actor=clerk, matter=bill, result=rules.PASSED, sitting=world["plenary1"])
    with pytest.raises(Refused, match="has not decided"):
        services.matter_chair_report(actor=clerk, matter=bill, sitting=world["plenary1"])
    services.matter_place(actor=clerk, matter=bill, sitting=world["committee1"])
    with pytest.raises(Refused, match="does not apply"):
        services.matter_examine(
            actor=clerk, matter=bill, decision=rules.SHOULD_ADOPT, sitting=world["committee1"]
        )
    services.matter_examine(
        actor=clerk, matter=bill, decision=rules.SHOULD_REJECT, sitting=world["committee1"]
    )
    with pytest.raises(Refused, match="already decided on this matter"):
        services.matter_examine(
            actor=clerk, matter=bill, decision=rules.SHOULD_PASS, sitting=world["committee1"]
        )
    services.matter_chair_report(actor=clerk, matter=bill, sitting=world["plenary1"])
    with pytest.raises(Refused, match="already reported"):
        services.matter_chair_report(actor=clerk, matter=bill, sitting=world["plenary1"])
    with pytest.raises(Refused, match="does not apply"):
        services.matter_decide(actor=clerk, matter=bill, result=rules.ADOPTED, sitting=world["plenary1"])
    services.matter_decide(actor=clerk, matter=bill, result=rules.REJECTED, sitting=world["plenary1"])


def test_matters_a_committee_on_another_matter_cannot_take_it(world, submit):
    clerk = world["clerk_user"]
    other = factories.make_body(world["council"], kind="standing", name="産業厚生常任委員会", seats=4)
    other_sitting = factories.make_sitting(world["session"], other)
    bill = submit()
    services.matter_place(actor=clerk, matter=bill, sitting=world["plenary1"])
    services.matter_refer(actor=clerk, matter=bill, committee=world["committee"], sitting=world["plenary1"])
    with pytest.raises(Refused, match="referred to another committee"):
        services.matter_place(actor=clerk, matter=bill, sitting=other_sitting)


def test_matters_amendment_voted_first_and_result_is_amended(world, submit):
    clerk, members = world["clerk_user"], world["members"]
    bill = submit()
    services.matter_place(actor=clerk, matter=bill, sitting=world["plenary1"])
    services.matter_step_record(
        actor=clerk, matter=bill, kind=rules.REFERRAL_OMITTED, sitting=world["plenary1"]
    )
    amendment = submit(
        kind="amendment",
        amends=bill,
        title="議案第1号に対する修正案",
        submitter_kind="members",
        sponsors=[(members[5], "proposer"), (members[6], "seconder")],
    )
    assert amendment.label_ja == "議案第1号に対する修正案" and amendment.number is None
    item = services.matter_place(actor=clerk, matter=amendment, sitting=world["plenary1"])
    assert item == bill.items.get().agenda_item  # debated on the same item
    with pytest.raises(Refused, match="Vote on the amendment first"):
        services.matter_motion_create(actor=clerk, matter=bill, sitting=world["plenary1"])
    with pytest.raises(Refused, match="Vote on the amendment first"):
        services.matter_decide(actor=clerk, matter=bill, result=rules.PASSED, sitting=world["plenary1"])
    open_sitting(world["plenary1"], members, clerk)
    motion = services.matter_motion_create(actor=clerk, matter=amendment, sitting=world["plenary1"])
    take_vote(motion=motion, people=members, clerk_user=clerk, yes=6)
    amendment.refresh_from_db()
    assert amendment.result == rules.CARRIED
    with pytest.raises(Refused, match="修正可決"):
        services.matter_decide(actor=clerk, matter=bill, result=rules.PASSED, sitting=world["plenary1"])
    motion = services.matter_motion_create(actor=clerk, matter=bill, sitting=world["plenary1"])
    take_vote(motion=motion, people=members, clerk_user=clerk, yes=7)
    bill.refresh_from_db()
    assert bill.result == rules.AMENDED


def test_matters_a_vote_declared_before_its_amendment_leaves_the_vote_and_tells_the_clerk(world, submit):
    from meetings.voting.services.motions import motion_create

    clerk, members = world["clerk_user"], world["members"]
    bill = submit()
    item = services.matter_place(actor=clerk, matter=bill, sitting=world["plenary1"])
    services.matter_step_record(
        actor=clerk, matter=bill, kind=rules.REFERRAL_OMITTED, sitting=world["plenary1"]
    )
    submit(
        kind="amendment",
        amends=bill,
        title="修正案",
        submitter_kind="members",
        sponsors=[(members[5], "proposer")],
    )
    open_sitting(world["plenary1"], members, clerk)
    poll = take_vote(
        motion=motion_create(agenda_item=item, title="議案第1号", by=clerk),
        people=members,
        clerk_user=clerk,
        yes=7,
    )
    bill.refresh_from_db()
    assert poll.state == "declared" and bill.result == ""
    entry = AuditEntry.objects.get(action="matter.vote_not_recorded")
    assert "amendment" in entry.data["reason"]


def test_matters_petition_continued_then_it_can_come_back(world, submit):
    clerk = world["clerk_user"]
    petition = submit(
        kind="petition",
        title="請願",
        submitter_kind="petitioner",
        petitioner="某会",
        sponsors=[(world["members"][4], "introducer")],
    )
    services.matter_place(actor=clerk, matter=petition, sitting=world["plenary1"])
    services.matter_refer(
        actor=clerk, matter=petition, committee=world["committee"], sitting=world["plenary1"]
    )
    services.matter_place(actor=clerk, matter=petition, sitting=world["committee1"])
    services.matter_examine(
        actor=clerk, matter=petition, decision=rules.SHOULD_CONTINUE, sitting=world["committee1"]
    )
    services.matter_place(actor=clerk, matter=petition, sitting=world["plenary2"])
    services.matter_chair_report(actor=clerk, matter=petition, sitting=world["plenary2"])
    services.matter_decide(actor=clerk, matter=petition, result=rules.CONTINUED, sitting=world["plenary2"])
    petition.refresh_from_db()
    assert petition.result == rules.CONTINUED and not petition.is_finished and petition.decided_on is None
    # Next session: the committee takes it up again and decides.
    services.matter_examine(
        actor=clerk, matter=petition, decision=rules.SHOULD_ADOPT, sitting=world["committee1"]
    )
    petition.refresh_from_db()
    assert petition.committee_decision == rules.SHOULD_ADOPT


def test_matters_continuing_an_unreferred_matter_is_refused(world, submit):
    clerk = world["clerk_user"]
    bill = submit()
    services.matter_place(actor=clerk, matter=bill, sitting=world["plenary1"])
    with pytest.raises(Refused, match="before a committee"):
        services.matter_decide(actor=clerk, matter=bill, result=rules.CONTINUED, sitting=world["plenary1"])


def test_matters_withdrawal_ends_the_road(world, submit):
    clerk = world["clerk_user"]
    bill = submit()
    services.matter_withdraw(actor=clerk, matter=bill, note="提出者から撤回の申出")
    bill.refresh_from_db()
    assert bill.result == rules.WITHDRAWN
    with pytest.raises(Refused, match="withdrawn"):
        services.matter_place(actor=clerk, matter=bill, sitting=world["plenary1"])
    with pytest.raises(Refused, match="withdrawn"):
        services.matter_withdraw(actor=clerk, matter=bill)


def test_matters_an_amendment_of_a_decided_matter_is_refused(world, submit):
    clerk = world["clerk_user"]
    bill = submit()
    services.matter_place(actor=clerk, matter=bill, sitting=world["plenary1"])
    services.matter_decide(actor=clerk, matter=bill, result=rules.PASSED, sitting=world["plenary1"])
    with pytest.raises(Refused, match="can no longer be amended"):
        submit(
            kind="amendment",
            amends=bill,
            title="修正案",
            submitter_kind="members",
            sponsors=[(world["members"][5], "proposer")],
        )


def test_matters_results_per_kind():
    assert rules.result_for_vote("consent", carried=True) == rules.CONSENTED
    assert rules.result_for_vote("petition", carried=False) == rules.NOT_ADOPTED
    assert rules.result_for_vote("bill", carried=True, amendment_passed=True) == rules.AMENDED
    assert rules.result_for_vote("certification", carried=True) == rules.CERTIFIED
    assert rules.committee_decision_for_vote("representation", carried=True) == rules.SHOULD_ADOPT
    assert rules.WITHDRAWN in rules.results_for("bill") and rules.CONTINUED not in rules.results_for("report")
