"""#12, the clerk's day: the roll in one action (全員出席) then the exceptions; officials and
secretariat on the roll (they speak, never vote, never count for quorum); what a member sees of a
vote (the count with their own ballot, standing-vote instructions, a short readable receipt)."""

from __future__ import annotations

import re

import pytest
from django.db import IntegrityError, transaction

from council.models import AuditEntry
from meetings.attendance.models import Attendance, AttendanceChange
from meetings.attendance.quorum import quorum_status
from meetings.voting import selectors
from meetings.voting.errors import VotingError
from meetings.voting.models import Ballot, FloorTurn, Poll
from meetings.voting.services import ballots, common, floor, motions, polls, roll
from tests.voting.conftest import make_remote, mark_all_present

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(monkeypatch):
    """The live events the voting services publish (after commit), as (type, payload, audience)."""
    sent: list[tuple[str, dict, str]] = []
    monkeypatch.setattr(common, "publish_many", lambda *, sitting_id, events: sent.extend(events))
    monkeypatch.setattr(ballots, "publish_many", lambda *, sitting_id, events: sent.extend(events))
    return sent


def _motion(ctx):
    return motions.motion_create(
        agenda_item=ctx["item"], title="議案第45号 町税条例の一部改正", by=ctx["chair_user"]
    )


# --- the roll in one action ----------------------------------------------------------------


def test_roll_everyone_present_marks_the_unmarked_and_keeps_the_exceptions(plenary, published):
    s, people, clerk = plenary["sitting"], plenary["people"], plenary["clerk_user"]
    roll.roll_prepare(sitting=s, by=clerk)
    # An exception recorded first (absent for illness) stays as it is.
    roll.attendance_mark(sitting=s, person=people[9], status="absent", absence_reason="illness", by=clerk)
    marked = roll.roll_mark_all_present(sitting=s, by=clerk)
    assert sorted(marked) == sorted(p.pk for p in people[:9])
    rows = {a.person_id: a for a in Attendance.objects.filter(sitting=s)}
    assert all(rows[p.pk].status == "present_room" and rows[p.pk].arrived_at for p in people[:9])
    assert (rows[people[9].pk].status, rows[people[9].pk].absence_reason) == ("absent", "illness")
    assert AttendanceChange.objects.filter(attendance__sitting=s, source="all-present").count() == 9
    entry = AuditEntry.objects.get(action="attendance.all_present")
    assert sorted(entry.data["marked"]) == sorted(marked)
    assert quorum_status(sitting=s).present == 9
    # The consoles get the new roll and quorum (one broadcast), the clerks' view included.
    assert {(t, a) for t, _p, a in published} >= {
        ("voting.attendance", "clerks"),
        ("voting.quorum", "members"),
    }
    # Then the exceptions: one arrives late; a second 全員出席 changes nothing already marked.
    roll.attendance_mark(sitting=s, person=people[8], status="late", by=clerk)
    assert roll.roll_mark_all_present(sitting=s, by=clerk) == []
    assert Attendance.objects.get(sitting=s, person=people[8]).status == "late"


def test_roll_everyone_present_puts_members_on_the_roll_and_leaves_officials_out(committee):
    s = committee["sitting"]
    assert not Attendance.objects.filter(sitting=s).exists()
    marked = roll.roll_mark_all_present(sitting=s, by=committee["clerk_user"])
    assert sorted(marked) == sorted(p.pk for p in committee["people"])
    assert committee["official"].pk not in marked
    assert quorum_status(sitting=s).met


def test_roll_everyone_present_keeps_an_online_member_online(committee):
    s, people = committee["sitting"], committee["people"]
    make_remote(s, people[4], chair_user=committee["chair_user"], clerk_user=committee["clerk_user"])
    roll.roll_mark_all_present(sitting=s, by=committee["clerk_user"])
    assert Attendance.objects.get(sitting=s, person=people[4]).status == "present_online"


def test_roll_everyone_present_refused_for_a_closed_sitting(committee):
    s = committee["sitting"]
    type(s).objects.filter(pk=s.pk).update(status="closed")
    s.refresh_from_db()
    with pytest.raises(VotingError, match="This sitting is closed."):
        roll.roll_mark_all_present(sitting=s, by=committee["clerk_user"])
    assert not Attendance.objects.filter(sitting=s).exists()


def test_roll_everyone_present_button_and_attendee_form_on_the_console(client, committee):
    client.force_login(committee["clerk_user"])
    page = client.get(f"/meetings/sittings/{committee['sitting'].pk}/console/").content.decode()
    assert 'data-voting-action="all-present"' in page
    assert 'data-voting-form="attendee"' in page and committee["official"].full_name in page


# --- officials and secretariat on the roll -----------------------------------------------------


def test_officials_on_the_roll_never_vote_nor_count_for_quorum(committee):
    s, people, official = committee["sitting"], committee["people"], committee["official"]
    mark_all_present(s, people[:3])
    before = quorum_status(sitting=s)
    row = roll.attendance_mark(sitting=s, person=official, status="present_room", by=committee["clerk_user"])
    secretary = committee["clerk"]
    roll.attendance_mark(sitting=s, person=secretary, status="present_room", by=committee["clerk_user"])
    assert row.role == Attendance.Role.OFFICIAL
    assert Attendance.objects.get(sitting=s, person=secretary).role == Attendance.Role.SECRETARIAT
    after = quorum_status(sitting=s)
    assert (after.present, after.met) == (before.present, before.met)
    assert selectors.attendance_part(sitting=s, audience="public")["counts"]["present_room"] == 3
    poll = polls.poll_open(motion=_motion(committee), method="roll_call", by=committee["chair_user"])
    assert official.pk not in poll.entitled and secretary.pk not in poll.entitled
    with pytest.raises(VotingError) as refused:
        ballots.vote_cast(poll_id=poll.pk, user=official.user, choice="yes", client_token="o")
    assert refused.value.code == "not_entitled"


def test_officials_on_the_roll_in_the_minutes_record(committee):
    from meetings.minutes.record import load_record

    s = committee["sitting"]
    roll.attendance_mark(
        sitting=s, person=committee["official"], status="present_room", by=committee["clerk_user"]
    )
    roll.attendance_mark(
        sitting=s, person=committee["clerk"], status="present_room", by=committee["clerk_user"]
    )
    record = load_record(s)
    assert [r.person.title for r in record.officials] == ["町長"]
    assert [r.person.title for r in record.secretariat] == ["事務局長"]


def test_officials_floor_queue_accepts_an_official_on_the_roll(committee):
    s, official = committee["sitting"], committee["official"]
    mark_all_present(s, committee["people"][:3])
    with pytest.raises(VotingError, match="officials attending can ask for the floor"):
        floor.floor_request(sitting=s, user=official.user)
    roll.attendance_mark(sitting=s, person=official, status="present_room", by=committee["clerk_user"])
    turn = floor.floor_request(sitting=s, user=official.user)
    queue = selectors.floor_part(sitting=s, audience="members")["queue"]
    assert [(t["person"]["id"], t["kind"]) for t in queue] == [(official.pk, "official")]
    floor.floor_grant(turn=turn, by=committee["chair_user"])
    assert FloorTurn.objects.get(pk=turn.pk).status == "speaking"
    # Secretariat staff on the roll do not take the floor.
    roll.attendance_mark(
        sitting=s, person=committee["clerk"], status="present_room", by=committee["clerk_user"]
    )
    with pytest.raises(VotingError):
        floor.floor_request(sitting=s, user=committee["clerk_user"])


def test_officials_attendable_list_for_the_console(committee):
    people = selectors.attendable_non_members(committee["sitting"])
    assert [(p.pk, p.kind) for p in people] == [
        (committee["official"].pk, "official"),
        (committee["clerk"].pk, "secretariat"),
    ]


# --- what a member sees of a vote ----------------------------------------------------------------


def test_voted_count_reaches_members_with_their_own_ballot(committee, published):
    s, people = committee["sitting"], committee["people"]
    mark_all_present(s, people[:4])
    poll = polls.poll_open(motion=_motion(committee), method="roll_call", by=committee["chair_user"])
    published.clear()
    receipt = ballots.vote_cast(poll_id=poll.pk, user=people[1].user, choice="yes", client_token="a")
    assert (receipt.voted, receipt.entitled) == (1, 3)
    tallies = {audience: payload for kind, payload, audience in published if kind == "voting.tally"}
    assert tallies["members"] == {"poll": poll.pk, "voted": 1, "entitled": 3}  # no names for tablets
    assert tallies["clerks"]["voters"] == [people[1].pk]
    assert selectors.poll_part(sitting=s, audience="members", user=people[2].user)["poll"]["voted"] == 1


def test_receipt_is_a_short_readable_code_unique_per_poll(committee, monkeypatch):
    s, people = committee["sitting"], committee["people"]
    mark_all_present(s, people)
    poll = polls.poll_open(motion=_motion(committee), method="roll_call", by=committee["chair_user"])
    first = ballots.vote_cast(poll_id=poll.pk, user=people[1].user, choice="yes", client_token="a")
    assert re.fullmatch(r"[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{8}", first.receipt)
    # The next code drawn clashes with the first ballot's: the member gets a fresh one.
    codes = iter([first.receipt, "K7QM3XPA"])
    monkeypatch.setattr(ballots, "new_receipt", lambda: next(codes))
    second = ballots.vote_cast(poll_id=poll.pk, user=people[3].user, choice="no", client_token="b")
    assert second.receipt == "K7QM3XPA"
    assert Ballot.objects.get(poll=poll, member=people[3]).receipt == "K7QM3XPA"
    # A retry gives the same receipt; the database refuses a duplicate code in the poll.
    again = ballots.vote_cast(poll_id=poll.pk, user=people[3].user, choice="no", client_token="b")
    assert again.receipt == "K7QM3XPA" and again.repeated
    with pytest.raises(IntegrityError), transaction.atomic():
        Ballot.objects.create(
            poll=poll, member=people[4], choice="yes", client_token="c", receipt=first.receipt
        )


def test_receipt_of_a_secret_ballot_is_short_too(committee):
    s, people = committee["sitting"], committee["people"]
    mark_all_present(s, people)
    poll = polls.poll_open(motion=_motion(committee), method="secret", by=committee["chair_user"])
    receipt = ballots.vote_cast(poll_id=poll.pk, user=people[1].user, choice="yes", client_token="a")
    assert re.fullmatch(r"[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{8}", receipt.receipt)


def test_standing_vote_instructions_for_the_room_and_online(committee):
    s, people = committee["sitting"], committee["people"]
    mark_all_present(s, people[:4])
    make_remote(s, people[4], chair_user=committee["chair_user"], clerk_user=committee["clerk_user"])
    poll = polls.poll_open(motion=_motion(committee), method="standing", by=committee["chair_user"])
    summary = selectors.poll_part(sitting=s, audience="members")["poll"]
    assert "stand up" in summary["instructions"]["room"] and "議案第45号" in summary["instructions"]["room"]
    assert "camera" in summary["instructions"]["online"]
    # The part is the same for every member (state + events == a fresh state): each tablet shows the
    # text for its own row of the roll, online or in the room.
    assert selectors.poll_part(sitting=s, audience="members", user=people[4].user) == {"poll": summary}
    roll = {r["id"]: r["status"] for r in selectors.attendance_part(sitting=s, audience="members")["roll"]}
    assert roll[people[4].pk] == "present_online" and roll[people[1].pk] == "present_room"
    assert "instructions" not in selectors.poll_part(sitting=s, audience="public")["poll"]
    polls.poll_enter_counts(poll=poll, yes=3, no=1, by=committee["clerk_user"])
    assert "instructions" not in selectors.poll_part(sitting=s, audience="members")["poll"]  # only while open


def test_standing_vote_instructions_in_japanese_and_for_hands_and_plenary(committee, plenary):
    from django.utils import translation

    mark_all_present(committee["sitting"], committee["people"])
    hands = polls.poll_open(motion=_motion(committee), method="hands", by=committee["chair_user"])
    with translation.override("ja"):
        told = selectors.poll_instructions(hands)
    assert "挙手により採決" in told["room"] and "カメラ" in told["online"]
    mark_all_present(plenary["sitting"], plenary["people"])
    standing = polls.poll_open(motion=_motion(plenary), method="standing", by=plenary["chair_user"])
    with translation.override("ja"):
        told = selectors.poll_instructions(standing)
    assert "起立により採決" in told["room"] and "オンラインでは表決に加われません" in told["online"]
    assert (
        selectors.poll_instructions(
            Poll(motion=standing.motion, sitting=standing.sitting, method="roll_call")
        )
        == {}
    )
