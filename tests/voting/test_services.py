"""Attendance, quorum, the floor, motions and every vote method through the services."""

from __future__ import annotations

import pytest

from council.models import AuditEntry
from meetings.attendance.models import Attendance
from meetings.attendance.quorum import quorum_status
from meetings.models import Sitting
from meetings.voting.errors import VotingError
from meetings.voting.models import Ballot, FloorTurn, Poll
from meetings.voting.services import ballots, exclusions, floor, identity, motions, polls, remote, roll
from tests.voting.conftest import make_remote, mark_all_present

pytestmark = pytest.mark.django_db


def refused(code: str, match: str):
    class _Ctx:
        def __enter__(self):
            self.before = AuditEntry.objects.filter(action="vote.refused").count()
            self.raises = pytest.raises(VotingError, match=match)
            self.info = self.raises.__enter__()
            return self.info

        def __exit__(self, *exc):
            result = self.raises.__exit__(*exc)
            assert self.info.value.code == code
            return result

    return _Ctx()


# --- quorum -------------------------------------------------------------------------------


def test_quorum_counts_the_roll_and_says_why(committee):
    s = committee["sitting"]
    status = quorum_status(sitting=s)
    assert (status.required, status.present, status.met) == (3, 0, False)
    assert "No quorum: 0 present, 3 needed." in status.reason
    mark_all_present(s, committee["people"][:3])
    status = quorum_status(sitting=s)
    assert status.met and status.present == 3


def test_exclusion_proviso_keeps_the_sitting_going(committee):
    s, item = committee["sitting"], committee["item"]
    mark_all_present(s, committee["people"][:3])
    exclusions.exclusion_add(
        agenda_item=item,
        person=committee["people"][1],
        reason="本人の一身上に関する事件",
        by=committee["clerk_user"],
    )
    status = quorum_status(sitting=s, agenda_item=item)
    assert status.met and status.by_proviso and status.present == 2
    assert "§113" in status.reason


def test_remote_member_counts_only_after_approval_and_identity_check(committee):
    s, person = committee["sitting"], committee["people"][4]
    request = remote.remote_apply(sitting=s, person=person, reason="出産のため", by=person.user)
    with pytest.raises(VotingError, match="not been approved"):
        roll.attendance_check_in(sitting=s, user=person.user)
    remote.remote_decide(request=request, approve=True, by=committee["chair_user"])
    with pytest.raises(VotingError, match="identity check"):
        roll.attendance_check_in(sitting=s, user=person.user)
    identity.identity_check_record(request=request, method="video", passed=True, by=committee["clerk_user"])
    roll.attendance_check_in(sitting=s, user=person.user)
    assert quorum_status(sitting=s).present == 1
    remote.remote_disconnect(sitting=s, person=person, by=committee["chair_user"])
    assert quorum_status(sitting=s).present == 0
    assert Attendance.objects.get(sitting=s, person=person).status == Attendance.Status.LEFT


def test_remote_attendance_never_counts_in_the_plenary(plenary):
    s, person = plenary["sitting"], plenary["members"][5]
    make_remote(s, person, chair_user=plenary["chair_user"], clerk_user=plenary["clerk_user"])
    status = quorum_status(sitting=s)
    assert status.present == 0 and status.online_not_counted == 1
    assert "plenary debate and votes must be in the chamber" in status.reason


def test_committee_without_remote_refuses_applications(org):
    from tests.factories import make_body, make_membership, make_sitting

    body = make_body(
        org["council"], kind="standing", name="産業建設常任委員会", allows_remote_attendance=False
    )
    make_membership(body, org["members"][8])
    sitting = make_sitting(org["session"], body)
    with pytest.raises(VotingError, match="does not allow remote attendance"):
        remote.remote_apply(sitting=sitting, person=org["members"][8], reason="x", by=None)


def test_roll_changes_are_kept_and_audited(committee):
    s, p = committee["sitting"], committee["people"][0]
    roll.attendance_mark(
        sitting=s, person=p, status="absent", absence_reason="illness", by=committee["clerk_user"]
    )
    roll.attendance_mark(sitting=s, person=p, status="late", by=committee["clerk_user"])
    row = Attendance.objects.get(sitting=s, person=p)
    assert row.arrived_at and list(row.changes.values_list("status", flat=True)) == ["absent", "late"]
    assert AuditEntry.objects.filter(action="attendance.mark").count() == 2
    with pytest.raises(RuntimeError):
        row.changes.first().delete()


# --- the floor ----------------------------------------------------------------------------


def test_floor_queue_grant_skip_end(committee):
    s = committee["sitting"]
    a, b = committee["people"][1], committee["people"][3]
    mark_all_present(s, [a, b])
    t1 = floor.floor_request(sitting=s, user=a.user)
    with pytest.raises(VotingError, match="already asked"):
        floor.floor_request(sitting=s, user=a.user)
    t2 = floor.floor_request(sitting=s, user=b.user)
    floor.floor_grant(turn=t1, by=committee["chair_user"])
    floor.floor_grant(turn=t2, by=committee["chair_user"])
    t1.refresh_from_db()
    assert t1.status == FloorTurn.Status.DONE and t1.ended_at
    ended = floor.floor_end(sitting=s, by=committee["chair_user"])
    assert ended.pk == t2.pk and ended.granted_at and ended.ended_at
    with pytest.raises(VotingError, match="Nobody has the floor"):
        floor.floor_end(sitting=s, by=committee["chair_user"])


def test_floor_needs_presence(committee):
    with pytest.raises(VotingError, match="not recorded as present"):
        floor.floor_request(sitting=committee["sitting"], user=committee["people"][1].user)


# --- polls --------------------------------------------------------------------------------


def _motion(ctx, **kw):
    return motions.motion_create(
        agenda_item=ctx["item"], title="議案第45号 町税条例の一部改正", by=ctx["chair_user"], **kw
    )


def test_no_vote_without_quorum(committee):
    motion = _motion(committee)
    with pytest.raises(VotingError, match="No vote can start: No quorum: 0 present, 3 needed."):
        polls.poll_open(motion=motion, method="roll_call", by=committee["chair_user"])


def test_roll_call_with_every_refusal(committee):
    s, people, chair = committee["sitting"], committee["people"], committee["chair"]
    mark_all_present(s, people[:4])
    poll = polls.poll_open(motion=_motion(committee), method="roll_call", by=committee["chair_user"])
    assert chair.pk not in poll.entitled and len(poll.entitled) == 3 and poll.present_count == 4
    voter = people[1]
    r1 = ballots.vote_cast(poll_id=poll.pk, user=voter.user, choice="yes", client_token="t1")
    again = ballots.vote_cast(poll_id=poll.pk, user=voter.user, choice="yes", client_token="t1")
    assert again.receipt == r1.receipt and again.repeated
    audits = AuditEntry.objects.filter(action="vote.refused")
    with pytest.raises(VotingError, match="already voted") as e:
        ballots.vote_cast(poll_id=poll.pk, user=voter.user, choice="no", client_token="t2")
    assert e.value.code == "already_voted" and audits.count() == 1
    with pytest.raises(VotingError, match="Unknown choice"):
        ballots.vote_cast(poll_id=poll.pk, user=people[3].user, choice="maybe", client_token="t3")
    with pytest.raises(VotingError, match="chair does not vote"):
        ballots.vote_cast(poll_id=poll.pk, user=chair.user, choice="yes", client_token="t4")
    with pytest.raises(VotingError, match="not entitled"):
        ballots.vote_cast(poll_id=poll.pk, user=people[4].user, choice="yes", client_token="t5")
    assert audits.count() == 4
    roll.attendance_mark(sitting=s, person=people[3], status="left", by=committee["clerk_user"])
    with pytest.raises(VotingError, match="no longer recorded as present"):
        ballots.vote_cast(poll_id=poll.pk, user=people[3].user, choice="yes", client_token="t6")
    ballots.vote_cast(poll_id=poll.pk, user=people[2].user, choice="no", client_token="t7")
    polls.poll_close(poll=poll, by=committee["chair_user"])
    with pytest.raises(VotingError, match="This vote is closed"):
        ballots.vote_cast(poll_id=poll.pk, user=people[3].user, choice="yes", client_token="t8")
    poll.refresh_from_db()
    assert (poll.yes_count, poll.no_count, poll.outcome) == (1, 1, Poll.Outcome.TIE)
    with pytest.raises(VotingError, match="chair must decide"):
        polls.poll_declare(poll=poll, by=committee["chair_user"])
    polls.poll_casting_vote(poll=poll, choice="yes", by=committee["chair_user"])
    poll = polls.poll_declare(poll=poll, by=committee["chair_user"])
    assert poll.outcome == Poll.Outcome.CARRIED and poll.casting_vote == "yes" and poll.state == "declared"
    assert Ballot.objects.filter(poll=poll).count() == 2


def test_vote_refused_when_quorum_lost(committee):
    s, people = committee["sitting"], committee["people"]
    mark_all_present(s, people[:3])
    poll = polls.poll_open(motion=_motion(committee), method="roll_call", by=committee["chair_user"])
    roll.attendance_mark(sitting=s, person=people[2], status="left", by=committee["clerk_user"])
    with pytest.raises(VotingError, match="No quorum") as e:
        ballots.vote_cast(poll_id=poll.pk, user=people[1].user, choice="yes", client_token="x")
    assert e.value.code == "no_quorum"


def test_remote_member_votes_in_committee_not_in_plenary(committee, plenary):
    s, people = committee["sitting"], committee["people"]
    mark_all_present(s, people[:3])
    make_remote(s, people[4], chair_user=committee["chair_user"], clerk_user=committee["clerk_user"])
    poll = polls.poll_open(motion=_motion(committee), method="roll_call", by=committee["chair_user"])
    assert people[4].pk in poll.entitled
    ballots.vote_cast(poll_id=poll.pk, user=people[4].user, choice="no", client_token="r")

    ps, members = plenary["sitting"], plenary["members"]
    mark_all_present(ps, members[:6])
    make_remote(ps, members[7], chair_user=plenary["chair_user"], clerk_user=plenary["clerk_user"])
    ppoll = polls.poll_open(motion=_motion(plenary), method="roll_call", by=plenary["chair_user"])
    with pytest.raises(VotingError, match="cannot vote in the plenary") as e:
        ballots.vote_cast(poll_id=ppoll.pk, user=members[7].user, choice="yes", client_token="p")
    assert e.value.code == "remote_plenary"


def test_special_majority_chair_votes_no_casting(committee):
    s, people, chair = committee["sitting"], committee["people"], committee["chair"]
    mark_all_present(s, people)
    poll = polls.poll_open(
        motion=_motion(committee, preset="closed_session"), method="roll_call", by=committee["chair_user"]
    )
    assert chair.pk in poll.entitled and len(poll.entitled) == 5
    for p, c in zip(people, ["yes", "yes", "yes", "no", "no"], strict=True):
        ballots.vote_cast(poll_id=poll.pk, user=p.user, choice=c, client_token="c")
    poll = polls.poll_close(poll=poll, by=committee["chair_user"])
    assert poll.outcome == Poll.Outcome.REJECTED  # 3 of 5 < 2/3


def test_special_attendance_refused_at_open(committee):
    mark_all_present(committee["sitting"], committee["people"][:3])
    with pytest.raises(VotingError, match="needs at least 4 members present"):
        polls.poll_open(
            motion=_motion(committee, preset="expulsion"), method="secret", by=committee["chair_user"]
        )


def test_special_attendance_counts_members_in_office_not_seats(committee):
    """§135: attendance is a share of the members in office (議員数), not of the seats (定数):
    a committee of 7 seats with 5 members in office needs 4 present (2/3 × 5), not 5 (2/3 × 7)."""
    body = committee["sitting"].body
    body.seats = 7
    body.save(update_fields=["seats"])
    mark_all_present(committee["sitting"], committee["people"][:4])
    poll = polls.poll_open(
        motion=_motion(committee, preset="expulsion"), method="roll_call", by=committee["chair_user"]
    )
    assert poll.in_office == 5 and poll.seats == 7
    assert poll.requirement["attendance_basis"] == "in_office"


def test_standing_counts_must_add_up(committee):
    mark_all_present(committee["sitting"], committee["people"])
    poll = polls.poll_open(motion=_motion(committee), method="standing", by=committee["chair_user"])
    with pytest.raises(VotingError, match="do not add up: 3 in favour and 0 against make 3, but 4"):
        polls.poll_enter_counts(poll=poll, yes=3, no=0, by=committee["clerk_user"])
    with pytest.raises(VotingError, match="Enter the counts"):
        polls.poll_close(poll=poll, by=committee["chair_user"])
    with pytest.raises(VotingError, match="do not cast ballots"):
        ballots.vote_cast(poll_id=poll.pk, user=committee["people"][1].user, choice="yes", client_token="z")
    poll = polls.poll_enter_counts(poll=poll, yes=3, no=1, by=committee["clerk_user"])
    assert poll.outcome == Poll.Outcome.CARRIED and poll.state == "closed"


def test_no_objection_and_objection(committee):
    people = committee["people"]
    mark_all_present(committee["sitting"], people)
    motion = _motion(committee)
    poll = polls.poll_open(motion=motion, method="no_objection", by=committee["chair_user"])
    poll = ballots.objection_raise(poll_id=poll.pk, user=people[3].user)
    assert poll.outcome == Poll.Outcome.OBJECTED and poll.state == "closed"
    formal = polls.poll_open(motion=motion, method="standing", by=committee["chair_user"])
    polls.poll_enter_counts(poll=formal, yes=2, no=2, by=committee["clerk_user"])
    other = motions.motion_create(
        agenda_item=committee["item"], title="会期の決定", by=committee["chair_user"]
    )
    p2 = polls.poll_open(motion=other, method="no_objection", by=committee["chair_user"])
    p2 = polls.poll_close(poll=p2, by=committee["chair_user"])
    assert p2.outcome == Poll.Outcome.CARRIED and p2.yes_count == 4


def test_secret_ballot_counts_without_ballot_rows(committee):
    people = committee["people"]
    mark_all_present(committee["sitting"], people)
    poll = polls.poll_open(motion=_motion(committee), method="secret", by=committee["chair_user"])
    r = ballots.vote_cast(poll_id=poll.pk, user=people[1].user, choice="yes", client_token="s1")
    assert r.choice is None and "choice" not in r.as_dict()
    ballots.vote_cast(poll_id=poll.pk, user=people[2].user, choice="no", client_token="s2")
    ballots.vote_cast(poll_id=poll.pk, user=people[3].user, choice="yes", client_token="s3")
    poll = polls.poll_close(poll=poll, by=committee["chair_user"])
    assert (poll.yes_count, poll.no_count, poll.outcome) == (2, 1, "carried")
    assert not Ballot.objects.filter(poll=poll).exists()


def test_sitting_must_be_open_to_vote(committee):
    Sitting.objects.filter(pk=committee["sitting"].pk).update(status="recess")
    with pytest.raises(VotingError, match="not in progress"):
        polls.poll_open(motion=_motion(committee), method="roll_call", by=committee["chair_user"])


# --- ballots arriving together ------------------------------------------------------------


def test_ballots_cast_together_each_get_the_outcome_they_would_get_alone(plenary):
    """``vote_cast_many`` (sixty members pressing at once) keeps every rule of ``vote_cast``:
    retries, second ballots, unknown choices and the chair are decided ballot by ballot, in order,
    refusals are audited, and the audit chain stays linear."""
    from council.audit import audit_verify

    s, people, chair = plenary["sitting"], plenary["people"], plenary["chair"]
    mark_all_present(s, people)
    poll = polls.poll_open(motion=_motion(plenary), method="roll_call", by=plenary["chair_user"])
    before = AuditEntry.objects.count()
    R = ballots.CastRequest
    outcomes = ballots.vote_cast_many(
        requests=[
            R(poll_id=poll.pk, user=people[1].user, choice="yes", client_token="a"),
            R(poll_id=poll.pk, user=people[2].user, choice="no", client_token="b"),
            R(poll_id=poll.pk, user=people[1].user, choice="yes", client_token="a"),  # a retry
            R(poll_id=poll.pk, user=people[1].user, choice="no", client_token="c"),  # a second ballot
            R(poll_id=poll.pk, user=people[3].user, choice="maybe", client_token="d"),
            R(poll_id=poll.pk, user=chair.user, choice="yes", client_token="e"),
            R(poll_id=poll.pk, user=people[4].user, choice="yes", client_token="f"),
            R(poll_id=poll.pk + 999, user=people[5].user, choice="yes", client_token="g"),
        ],
        sitting_id=s.pk,
    )
    first, second, retry, again, unknown, by_chair, fourth, no_poll = outcomes
    assert (first.voted, second.voted, fourth.voted) == (1, 2, 3)
    assert retry.repeated and retry.receipt == first.receipt and retry.choice == "yes"
    assert [o.code for o in (again, unknown, by_chair, no_poll)] == [
        "already_voted",
        "unknown_choice",
        "chair",
        "no_poll",
    ]
    assert "already voted" in str(again.text)
    poll.refresh_from_db()
    assert (poll.voted_count, poll.yes_count, poll.no_count) == (3, 2, 1)
    assert sorted(Ballot.objects.filter(poll=poll).values_list("member_id", "choice")) == sorted(
        [(people[1].pk, "yes"), (people[2].pk, "no"), (people[4].pk, "yes")]
    )
    new = list(AuditEntry.objects.filter(pk__gt=0).order_by("id")[before:])
    assert [e.action for e in new] == [
        "vote.cast",
        "vote.cast",
        "vote.refused",
        "vote.refused",
        "vote.refused",
        "vote.cast",
        "vote.refused",
    ]
    assert audit_verify().ok
    # Once more, alone: the batch's ballots are found like any other.
    with pytest.raises(VotingError, match="already voted"):
        ballots.vote_cast(poll_id=poll.pk, user=people[4].user, choice="no", client_token="z")


def test_secret_ballots_cast_together_store_totals_only(plenary):
    from meetings.voting.models import SecretParticipation

    s, people = plenary["sitting"], plenary["people"]
    mark_all_present(s, people)
    poll = polls.poll_open(motion=_motion(plenary), method="secret", by=plenary["chair_user"])
    choices = ["yes", "no", "yes", "yes", "no", "yes", "yes", "no", "yes"]
    outcomes = ballots.vote_cast_many(
        requests=[
            ballots.CastRequest(poll_id=poll.pk, user=p.user, choice=c, client_token=f"s{n}")
            for n, (p, c) in enumerate(zip(people[1:], choices, strict=True))
        ]
    )
    assert all(o.choice is None for o in outcomes) and [o.voted for o in outcomes] == list(range(1, 10))
    poll.refresh_from_db()
    # sealed while open: no running count anywhere
    assert (poll.yes_count, poll.no_count, poll.voted_count) == (0, 0, 9)
    poll = polls.poll_close(poll=poll, by=plenary["chair_user"])
    assert (poll.yes_count, poll.no_count) == (6, 3)
    assert SecretParticipation.objects.filter(poll=poll).count() == 9 and not Ballot.objects.filter(poll=poll)
    casts = AuditEntry.objects.filter(action="vote.cast", target_id=str(poll.pk))
    assert casts.count() == 9 and not any("choice" in e.data for e in casts)
