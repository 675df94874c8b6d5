"""The voting area over WebSockets, through the real ASGI stack: check-in, the floor, every vote
method and every refusal."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers

from council.models import AuditEntry
from meetings.live import fanout
from meetings.voting.models import Ballot, Poll
from meetings.voting.services import roll
from tests.live.conftest import connect, receive, receive_until, send
from tests.voting.conftest import make_remote, mark_all_present

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture(autouse=True)
def _fresh_hub_and_layer():
    fanout.reset_hub()
    channel_layers.backends.clear()
    yield
    fanout.reset_hub()
    channel_layers.backends.clear()
    # Handlers ran in asgiref's single worker thread; close its connection so the test database
    # can be dropped at the end (PostgreSQL keeps connections for CONN_MAX_AGE).
    from asgiref.sync import SyncToAsync
    from django.db import connections

    SyncToAsync.single_thread_executor.submit(connections.close_all).result()


def path(ctx) -> str:
    return f"/ws/sittings/{ctx['sitting'].pk}/"


async def ws(ctx, person_or_user, lang="en"):
    user = getattr(person_or_user, "user", person_or_user)
    return await connect(path(ctx), user, lang=lang)


async def call(comm, message: dict, expect: str) -> dict:
    await send(comm, message)
    while True:
        reply = await receive(comm, timeout=10)  # generous: CI machines are sometimes very busy
        if reply["type"] in (expect, "error") and (
            reply.get("for") == message["type"] or reply["type"] == expect
        ):
            return reply


async def event(comm, type_: str) -> dict:
    return await receive_until(comm, type_, timeout=10)


async def test_state_carries_the_voting_parts(committee):
    await sync_to_async(mark_all_present)(committee["sitting"], committee["people"][:3])
    member = await ws(committee, committee["people"][1])
    parts = member.state["parts"]
    assert parts["quorum"]["met"] and parts["quorum"]["present"] == 3
    assert parts["floor"] == {"speaker": None, "queue": []}  # the same for every member: no "me" in a part
    person = committee["people"][1]
    assert member.state["me"] == {
        "user": person.user_id,
        "person": person.pk,
        "member": True,
        "chair": False,
        "ballots": {},
    }
    assert "remote_requests" not in parts["attendance"]
    clerk = await ws(committee, committee["clerk_user"])
    assert "remote_requests" in clerk.state["parts"]["attendance"]
    await member.disconnect()
    await clerk.disconnect()


async def test_remote_check_in_from_the_tablet_updates_quorum_everywhere(committee):
    s, people = committee["sitting"], committee["people"]
    await sync_to_async(mark_all_present)(s, people[:2])
    remote = people[4]
    other = await ws(committee, people[1])
    tablet = await ws(committee, remote)
    refused = await call(tablet, {"type": "attendance.checkin"}, "attendance.checked_in")
    assert refused["type"] == "error" and "not been approved by the chair" in refused["message"]
    await sync_to_async(make_remote)(
        s, remote, chair_user=committee["chair_user"], clerk_user=committee["clerk_user"], check_in=False
    )
    reply = await call(tablet, {"type": "attendance.checkin", "id": "c1"}, "attendance.checked_in")
    assert reply["status"] == "present_online" and reply["re"] == "c1"
    quorum = await event(other, "voting.quorum")
    while quorum["payload"]["present"] != 3:
        quorum = await event(other, "voting.quorum")
    assert quorum["payload"]["met"]
    await other.disconnect()
    await tablet.disconnect()


async def test_remote_request_approval_and_disconnect_over_ws(committee):
    people = committee["people"]
    member = await ws(committee, people[3])
    chair = await ws(committee, committee["chair"])
    clerk = await ws(committee, committee["clerk_user"])
    applied = await call(member, {"type": "remote.apply", "reason": "看護のため"}, "remote.applied")
    assert applied["decision"] == "pending"
    forbidden = await call(
        member, {"type": "remote.decide", "request_id": applied["request"], "approve": True}, "ack"
    )
    assert forbidden["type"] == "error" and forbidden["code"] == "forbidden"
    await send(chair, {"type": "remote.decide", "request_id": applied["request"], "approve": True, "id": 1})
    assert (await receive_until(chair, "ack"))["re"] == 1
    await send(
        clerk,
        {
            "type": "remote.check",
            "request_id": applied["request"],
            "method": "video_id",
            "passed": True,
            "id": 2,
        },
    )
    assert (await receive_until(clerk, "ack"))["re"] == 2
    await call(member, {"type": "attendance.checkin"}, "attendance.checked_in")
    await send(chair, {"type": "remote.disconnect", "person_id": people[3].pk, "id": 3})
    assert (await receive_until(chair, "ack"))["re"] == 3
    again = await call(member, {"type": "attendance.checkin"}, "attendance.checked_in")
    assert again["type"] == "error" and "disconnected you" in again["message"]
    for c in (member, chair, clerk):
        await c.disconnect()


async def test_floor_request_queue_grant_reaches_tablets_and_public(committee):
    s, people = committee["sitting"], committee["people"]
    await sync_to_async(mark_all_present)(s, people)
    member = await ws(committee, people[3])
    chair = await ws(committee, committee["chair"])
    public = await connect(f"/ws/public/sittings/{s.pk}/", None, lang="en")
    reply = await call(member, {"type": "floor.request"}, "floor.requested")
    queued = await event(chair, "voting.floor")
    assert [t["person"]["id"] for t in queued["payload"]["queue"]] == [people[3].pk]
    again = await call(member, {"type": "floor.request"}, "floor.requested")
    assert again["type"] == "error" and "already asked for the floor" in again["message"]
    not_chair = await call(member, {"type": "floor.grant", "turn_id": reply["turn"]}, "ack")
    assert not_chair["code"] == "forbidden"
    await send(chair, {"type": "floor.grant", "turn_id": reply["turn"], "id": "g"})
    granted = await event(member, "voting.floor")
    while granted["payload"]["speaker"] is None:
        granted = await event(member, "voting.floor")
    assert granted["payload"]["speaker"]["person"]["id"] == people[3].pk
    seen = await event(public, "voting.floor")
    while seen["payload"]["speaker"] is None:
        seen = await event(public, "voting.floor")
    assert "queue" not in seen["payload"]
    await send(chair, {"type": "floor.end", "id": "e"})
    await receive_until(chair, "ack")
    for c in (member, chair, public):
        await c.disconnect()


async def _open(ctx, chair_comm, method: str, preset: str = "") -> int:
    msg = {"type": "motion.create", "agenda_item_id": ctx["item"].pk, "title": "議案第45号"}
    if preset:
        msg["preset"] = preset
    motion = await call(chair_comm, msg, "motion.created")
    assert motion["type"] == "motion.created", motion
    opened = await call(
        chair_comm, {"type": "vote.open", "motion_id": motion["motion"], "method": method}, "vote.opened"
    )
    assert opened["type"] == "vote.opened", opened
    return opened["poll"]


async def test_roll_call_vote_and_every_refusal(committee):
    s, people = committee["sitting"], committee["people"]
    await sync_to_async(mark_all_present)(s, people[:4])
    official = committee["official"]
    chair = await ws(committee, committee["chair"])
    clerk = await ws(committee, committee["clerk_user"])
    voters = [await ws(committee, p) for p in people[1:4]]
    absent = await ws(committee, people[4])
    off = await ws(committee, official)

    no_quorum_motion = None
    poll_id = await _open(committee, chair, "roll_call")
    opened = await event(voters[0], "voting.poll")
    assert opened["payload"]["poll"]["state"] == "open"

    receipt = await call(
        voters[0], {"type": "vote.cast", "poll_id": poll_id, "choice": "yes", "token": "a"}, "vote.receipt"
    )
    assert receipt["type"] == "vote.receipt" and receipt["choice"] == "yes"
    tally = await event(clerk, "voting.tally")
    while tally["stream"] != "clerks":
        tally = await event(clerk, "voting.tally")
    assert tally["payload"] == {"poll": poll_id, "voted": 1, "entitled": 3, "voters": [people[1].pk]}
    assert (
        len(clerk.state["parts"]["poll"]["poll"]["not_yet"] if clerk.state["parts"]["poll"]["poll"] else [])
        == 0
    )
    retry = await call(
        voters[0], {"type": "vote.cast", "poll_id": poll_id, "choice": "yes", "token": "a"}, "vote.receipt"
    )
    assert retry["receipt"] == receipt["receipt"] and retry["repeated"]

    refusals = [
        (voters[0], {"choice": "no", "token": "b"}, "already_voted", "You have already voted"),
        (voters[1], {"choice": "abstain", "token": "c"}, "unknown_choice", "Unknown choice"),
        (absent, {"choice": "yes", "token": "d"}, "not_entitled", "not entitled"),
        (off, {"choice": "yes", "token": "e"}, "not_entitled", "not entitled"),
        (chair, {"choice": "yes", "token": "f"}, "chair", "chair does not vote"),
    ]
    before = await sync_to_async(AuditEntry.objects.filter(action="vote.refused").count)()
    for comm, fields, code, text in refusals:
        reply = await call(comm, {"type": "vote.cast", "poll_id": poll_id, **fields}, "vote.receipt")
        assert reply["type"] == "error" and reply["code"] == code and text in reply["message"], reply
    after = await sync_to_async(AuditEntry.objects.filter(action="vote.refused").count)()
    assert after - before == len(refusals)

    await call(
        voters[1], {"type": "vote.cast", "poll_id": poll_id, "choice": "no", "token": "g"}, "vote.receipt"
    )
    await call(
        voters[2], {"type": "vote.cast", "poll_id": poll_id, "choice": "yes", "token": "h"}, "vote.receipt"
    )
    closed = await call(chair, {"type": "vote.close", "poll_id": poll_id}, "vote.closed")
    assert closed["outcome"] == "carried"
    late = await call(
        absent, {"type": "vote.cast", "poll_id": poll_id, "choice": "yes", "token": "i"}, "vote.receipt"
    )
    assert late["code"] == "poll_closed" and "This vote is closed" in late["message"]
    await call(chair, {"type": "vote.declare", "poll_id": poll_id}, "vote.declared")
    declared = await event(voters[2], "voting.poll")
    while declared["payload"]["poll"]["state"] != "declared":
        declared = await event(voters[2], "voting.poll")
    result = declared["payload"]["poll"]
    assert (result["yes"], result["no"], result["outcome"]) == (2, 1, "carried")
    assert {n["id"]: n["choice"] for n in result["names"]} == {
        people[1].pk: "yes",
        people[2].pk: "no",
        people[3].pk: "yes",
    }
    assert no_quorum_motion is None
    for c in (chair, clerk, absent, off, *voters):
        await c.disconnect()


async def test_vote_refused_before_quorum_and_for_remote_plenary_members(committee, plenary):
    # Quorum lost after the vote opened.
    s, people = committee["sitting"], committee["people"]
    await sync_to_async(mark_all_present)(s, people[:3])
    chair = await ws(committee, committee["chair"])
    voter = await ws(committee, people[1])
    poll_id = await _open(committee, chair, "roll_call")
    await sync_to_async(roll.attendance_mark)(
        sitting=s, person=people[2], status="left", by=committee["clerk_user"]
    )
    reply = await call(
        voter, {"type": "vote.cast", "poll_id": poll_id, "choice": "yes", "token": "q"}, "vote.receipt"
    )
    assert reply["code"] == "no_quorum" and "No quorum" in reply["message"]
    # Opening without quorum is refused with the reason.
    await call(chair, {"type": "vote.close", "poll_id": poll_id}, "vote.closed")
    motion = await call(
        chair,
        {"type": "motion.create", "agenda_item_id": committee["item"].pk, "title": "x"},
        "motion.created",
    )
    refused = await call(
        chair, {"type": "vote.open", "motion_id": motion["motion"], "method": "standing"}, "vote.opened"
    )
    assert refused["code"] == "no_quorum" and "No quorum: 2 present, 3 needed." in refused["message"]
    await chair.disconnect()
    await voter.disconnect()

    ps, members = plenary["sitting"], plenary["members"]
    await sync_to_async(mark_all_present)(ps, members[:6])
    await sync_to_async(make_remote)(
        ps, members[8], chair_user=plenary["chair_user"], clerk_user=plenary["clerk_user"]
    )
    pchair = await ws(plenary, plenary["chair"])
    remote = await ws(plenary, members[8])
    poll_id = await _open(plenary, pchair, "roll_call")
    reply = await call(
        remote, {"type": "vote.cast", "poll_id": poll_id, "choice": "yes", "token": "r"}, "vote.receipt"
    )
    assert reply["code"] == "remote_plenary" and "cannot vote in the plenary" in reply["message"]
    await pchair.disconnect()
    await remote.disconnect()


@pytest.mark.slow  # listens for silence after every ballot
async def test_secret_ballot_messages_never_carry_a_choice(committee):
    s, people = committee["sitting"], committee["people"]
    await sync_to_async(mark_all_present)(s, people)
    chair = await ws(committee, committee["chair"])
    clerk = await ws(committee, committee["clerk_user"])
    public = await connect(f"/ws/public/sittings/{s.pk}/", None, lang="en")
    voters = [await ws(committee, p) for p in people[1:5]]
    poll_id = await _open(committee, chair, "secret")
    for comm, choice in zip(voters, ["yes", "no", "yes", "yes"], strict=True):
        reply = await call(
            comm, {"type": "vote.cast", "poll_id": poll_id, "choice": choice, "token": "t"}, "vote.receipt"
        )
        assert reply["type"] == "vote.receipt" and "choice" not in reply
    # Everything the chair's console and the clerk saw while the ballot was open: no split, no choice.
    seen = []
    for comm in (chair, clerk, public, *voters):
        while not await comm.receive_nothing(timeout=0.2):
            seen.append(await receive(comm))
    text = json.dumps(seen)
    assert '"choice"' not in text and '"yes"' not in text and '"no"' not in text
    await call(chair, {"type": "vote.close", "poll_id": poll_id}, "vote.closed")
    await call(chair, {"type": "vote.declare", "poll_id": poll_id}, "vote.declared")
    declared = await event(public, "voting.poll")
    while declared["payload"]["poll"].get("state") != "declared":
        declared = await event(public, "voting.poll")
    assert (declared["payload"]["poll"]["yes"], declared["payload"]["poll"]["no"]) == (3, 1)
    assert "names" not in declared["payload"]["poll"]
    for c in (chair, clerk, public, *voters):
        await c.disconnect()


async def test_standing_and_hands_counts_checked(committee):
    s, people = committee["sitting"], committee["people"]
    await sync_to_async(mark_all_present)(s, people)
    chair = await ws(committee, committee["chair"])
    voter = await ws(committee, people[1])
    for method in ("standing", "hands"):
        poll_id = await _open(committee, chair, method)
        tablet = await call(
            voter, {"type": "vote.cast", "poll_id": poll_id, "choice": "yes", "token": "s"}, "vote.receipt"
        )
        assert tablet["code"] == "wrong_method"
        bad = await call(chair, {"type": "vote.counts", "poll_id": poll_id, "yes": 1, "no": 1}, "vote.closed")
        assert bad["code"] == "counts_mismatch" and "do not add up" in bad["message"]
        good = await call(
            chair, {"type": "vote.counts", "poll_id": poll_id, "yes": 2, "no": 2}, "vote.closed"
        )
        assert good["outcome"] == "tie"
        tie = await call(chair, {"type": "vote.declare", "poll_id": poll_id}, "vote.declared")
        assert tie["code"] == "tie"
        decided = await call(
            chair, {"type": "vote.casting", "poll_id": poll_id, "choice": "no"}, "vote.decided"
        )
        assert decided["outcome"] == "rejected"
        await call(chair, {"type": "vote.declare", "poll_id": poll_id}, "vote.declared")
    polls = await sync_to_async(list)(Poll.objects.filter(sitting=s).values_list("casting_vote", "state"))
    assert polls == [("no", "declared"), ("no", "declared")]
    await chair.disconnect()
    await voter.disconnect()


async def test_no_objection_objection_turns_into_a_formal_vote(committee):
    s, people = committee["sitting"], committee["people"]
    await sync_to_async(mark_all_present)(s, people)
    chair = await ws(committee, committee["chair"])
    voter = await ws(committee, people[2])
    poll_id = await _open(committee, chair, "no_objection")
    reply = await call(voter, {"type": "objection.raise", "poll_id": poll_id}, "objection.recorded")
    assert reply["type"] == "objection.recorded"
    ev = await event(chair, "voting.poll")
    while ev["payload"]["poll"]["state"] == "open":
        ev = await event(chair, "voting.poll")
    assert ev["payload"]["poll"]["outcome"] == "objected"
    closed = await call(voter, {"type": "objection.raise", "poll_id": poll_id}, "objection.recorded")
    assert closed["code"] == "poll_closed"
    await chair.disconnect()
    await voter.disconnect()


async def test_clerk_records_a_room_members_ballot_not_an_online_one(committee):
    s, people = committee["sitting"], committee["people"]
    await sync_to_async(mark_all_present)(s, people[:4])
    await sync_to_async(make_remote)(
        s, people[4], chair_user=committee["chair_user"], clerk_user=committee["clerk_user"]
    )
    chair = await ws(committee, committee["chair"])
    clerk = await ws(committee, committee["clerk_user"])
    poll_id = await _open(committee, chair, "roll_call")
    ok = await call(
        clerk,
        {"type": "vote.cast", "poll_id": poll_id, "choice": "no", "token": "k", "member_id": people[1].pk},
        "vote.receipt",
    )
    assert ok["type"] == "vote.receipt"
    online = await call(
        clerk,
        {"type": "vote.cast", "poll_id": poll_id, "choice": "no", "token": "k2", "member_id": people[4].pk},
        "vote.receipt",
    )
    assert online["code"] == "online_member"
    ballot = await sync_to_async(Ballot.objects.select_related("recorded_by").get)(poll_id=poll_id)
    assert ballot.recorded_by_id == committee["clerk_user"].pk
    await chair.disconnect()
    await clerk.disconnect()


async def test_refusal_is_in_japanese_by_default(committee):
    await sync_to_async(mark_all_present)(committee["sitting"], committee["people"][:3])
    chair = await ws(committee, committee["chair"], lang="ja")
    poll_id = await _open(committee, chair, "roll_call")
    reply = await call(
        chair, {"type": "vote.cast", "poll_id": poll_id, "choice": "yes", "token": "j"}, "vote.receipt"
    )
    assert (
        reply["type"] == "error"
        and reply["message"] == "議長は通常の表決には加わりません（地方自治法第116条）。"
    )
    await chair.disconnect()


async def test_chair_records_an_exclusion_and_the_excluded_member_cannot_vote(committee):
    s, people = committee["sitting"], committee["people"]
    await sync_to_async(mark_all_present)(s, people)
    chair = await ws(committee, committee["chair"])
    member = await ws(committee, people[3])
    refused = await call(
        member,
        {
            "type": "exclusion.add",
            "agenda_item_id": committee["item"].pk,
            "person_id": people[3].pk,
            "reason": "x",
        },
        "ack",
    )
    assert refused["code"] == "forbidden"
    await send(
        chair,
        {
            "type": "exclusion.add",
            "agenda_item_id": committee["item"].pk,
            "person_id": people[3].pk,
            "reason": "本人の一身上に関する事件",
            "id": "x1",
        },
    )
    assert (await receive_until(chair, "ack"))["re"] == "x1"
    await send(chair, {"type": "state.request"})
    state = await receive_until(chair, "state")
    assert [x["person"]["id"] for x in state["parts"]["attendance"]["exclusions"]] == [people[3].pk]
    assert state["parts"]["quorum"]["present"] == 5  # no vote open: the sitting's quorum
    poll_id = await _open(committee, chair, "roll_call")
    reply = await call(
        member, {"type": "vote.cast", "poll_id": poll_id, "choice": "yes", "token": "e"}, "vote.receipt"
    )
    assert reply["code"] == "excluded" and "excluded (除斥)" in reply["message"]
    await chair.disconnect()
    await member.disconnect()


async def test_ballots_arriving_together_are_handled_together(plenary):
    """Nine members press at once: all nine get their receipt, the console is told of all nine in
    fewer frames than ballots (they were handled as a batch, not one after another), and the
    stored ballots are exactly the acknowledged ones."""
    s, people = plenary["sitting"], plenary["people"]
    await sync_to_async(mark_all_present)(s, people)
    chair = await ws(plenary, plenary["chair"])
    clerk = await ws(plenary, plenary["clerk_user"])
    voters = [await ws(plenary, p) for p in people[1:]]
    poll_id = await _open(plenary, chair, "roll_call")
    for n, comm in enumerate(voters):
        await send(
            comm,
            {
                "type": "vote.cast",
                "poll_id": poll_id,
                "choice": "yes" if n % 3 else "no",
                "token": f"t{n}",
                "id": n,
            },
        )
    receipts = [await receive_until(comm, "vote.receipt", timeout=10) for comm in voters]
    assert sorted(r["voted"] for r in receipts) == list(range(1, 10))
    assert [r["re"] for r in receipts] == list(range(9))
    tallies, struck = 0, set()
    while len(struck) < 9:
        tally = await event(clerk, "voting.tally")
        if tally["stream"] == "clerks":
            tallies += 1
            struck |= set(tally["payload"]["voters"])
    assert struck == {p.pk for p in people[1:]} and tally["payload"]["voted"] == 9
    assert tallies < 9
    stored = await sync_to_async(
        lambda: sorted(Ballot.objects.filter(poll_id=poll_id).values_list("receipt", flat=True))
    )()
    assert stored == sorted(r["receipt"] for r in receipts)
    for comm in [chair, clerk, *voters]:
        await comm.disconnect()
