"""The WebSocket protocol of live sessions, through the real ASGI stack (origin check, session auth)."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async

from documents.models import Document
from meetings.live import access, fanout, transport
from meetings.live.models import LiveConnection, LiveState
from meetings.live.protocol import MAX_MESSAGE_BYTES
from meetings.live.sockets import LiveSocket
from meetings.models import Sitting
from tests import factories
from tests.live.conftest import (
    add_version,
    connect,
    make_document,
    nothing_more,
    receive,
    receive_until,
    send,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture
def live_org(org):
    sitting = org["sitting"]
    sitting.status = Sitting.Status.OPEN
    sitting.save()
    item = factories.make_agenda_item(sitting)
    doc = make_document(org, agenda_item=item)
    public_doc = make_document(
        org, title="町の概要(公開資料)", pages=4, visibility=Document.Visibility.PUBLIC, agenda_item=item
    )
    org.update(item=item, doc=doc, version=doc.versions.get(), public_doc=public_doc)
    return org


def path_for(org) -> str:
    return f"/ws/sittings/{org['sitting'].pk}/"


def public_path(org) -> str:
    return f"/ws/public/sittings/{org['sitting'].pk}/"


async def seqs(org) -> dict:
    live = await sync_to_async(LiveState.objects.get)(sitting=org["sitting"])
    # Not the clerks' stream: presence reports arrive on it whenever sockets come and go.
    return {"members": live.seq, "public": live.public_seq, "page": live.page, "document": live.document_id}


async def present(clerk, doc, page=1):
    await send(clerk, {"type": "document.present", "document_id": doc.pk, "page": page, "id": "present"})
    reply = await receive_until(clerk, "ack")
    assert reply["re"] == "present"


# --- connecting ---------------------------------------------------------------------------------


async def _state_on_connect_has_the_core_fields(live_org):
    comm = await connect(path_for(live_org), live_org["members"][4].user)
    state = comm.state
    assert state["seq"] == 0 and state["stream"] == "members" and state["seqs"] == {"members": 0}
    assert state["sitting"] == live_org["sitting"].pk and state["status"] == "open"
    assert state["agenda_item"] is None and state["presentation"] is None
    assert state["presenter"]["default"] is True
    assert "attendance" in state["parts"]  # the voting area's state parts ride along
    await comm.disconnect()


async def _console_receives_members_and_clerks_streams(live_org):
    clerk = await connect(path_for(live_org), live_org["clerk"].user)
    chair = await connect(path_for(live_org), live_org["members"][0].user)
    assert clerk.state["seqs"] == {"members": 0, "clerks": 0}
    assert chair.state["seqs"] == {"members": 0, "clerks": 0}  # the chair runs the sitting too
    await clerk.disconnect()
    await chair.disconnect()


async def _members_endpoint_refuses_who_may_not_follow(live_org):
    outsider = await sync_to_async(factories.make_user)("outsider")
    other = await sync_to_async(factories.make_council)(name="別町議会", municipality="別町")
    foreign_official = (await sync_to_async(factories.make_person)(other, kind="official")).user
    for user in (None, outsider, foreign_official):
        comm = await connect(path_for(live_org), user, expect_state=False)
        assert comm.accepted is False and comm.close_code == 4403  # daphne answers HTTP 403


async def _committee_sitting_refuses_a_councillor_not_on_the_committee(live_org):
    sitting = await sync_to_async(factories.make_sitting)(live_org["session"], live_org["committee"])
    member = await connect(f"/ws/sittings/{sitting.pk}/", live_org["members"][4].user)  # on the committee
    assert member.accepted
    outsider = await connect(f"/ws/sittings/{sitting.pk}/", live_org["members"][8].user, expect_state=False)
    assert outsider.accepted is False
    await member.disconnect()


async def _foreign_origin_is_refused(live_org):
    comm = await connect(
        path_for(live_org), live_org["clerk"].user, origin="http://evil.example", expect_state=False
    )
    assert comm.accepted is False


async def _unknown_sitting_is_refused(live_org):
    comm = await connect("/ws/sittings/999999/", live_org["clerk"].user, expect_state=False)
    assert comm.accepted is False


# --- page turns, late joiners, presence -----------------------------------------------------


async def _page_turn_reaches_every_follower_with_growing_seq(live_org):
    clerk = await connect(path_for(live_org), live_org["clerk"].user)
    followers = [await connect(path_for(live_org), m.user) for m in live_org["members"][3:6]]
    await present(clerk, live_org["doc"])
    for f in followers:
        event = await receive(f)
        assert event["type"] == "session.page" and event["seq"] == 1 and event["stream"] == "members"
        assert event["payload"]["presentation"] == {
            "document_id": live_org["doc"].pk,
            "version_id": live_org["version"].pk,
            "version_number": 1,
            "title": live_org["doc"].title,
            "page": 1,
            "page_count": 12,
        }
    await send(clerk, {"type": "page.turn", "page": 5})
    for f in followers:
        event = await receive(f)
        assert event["seq"] == 2 and event["payload"]["presentation"]["page"] == 5
    # A late joiner lands on the presented page.
    late = await connect(path_for(live_org), live_org["members"][7].user)
    assert late.state["seq"] == 2 and late.state["presentation"]["page"] == 5
    assert (await seqs(live_org))["page"] == 5  # stored: a restart keeps it
    for c in [clerk, late, *followers]:
        await c.disconnect()


async def _turning_to_the_same_page_sends_nothing(live_org):
    clerk = await connect(path_for(live_org), live_org["clerk"].user)
    member = await connect(path_for(live_org), live_org["members"][4].user)
    await present(clerk, live_org["doc"], page=3)
    await receive(member)
    await send(clerk, {"type": "page.turn", "page": 3})
    assert await nothing_more(member)
    await clerk.disconnect()
    await member.disconnect()


@pytest.mark.slow  # waits for the presence batches
async def test_follow_and_unfollow_are_reported_to_the_console(live_org):
    clerk = await connect(path_for(live_org), live_org["clerk"].user)
    member = await connect(path_for(live_org), live_org["members"][4].user)
    presence = await receive_until(clerk, "presence.changed", timeout=4)
    names = {c["user_id"]: c for c in presence["payload"]["connections"]}
    assert names[live_org["members"][4].user.pk]["following"] is True
    assert presence["stream"] == "clerks"
    await send(member, {"type": "follow", "following": False, "page": 9, "id": 7})
    assert (await receive(member)) == {"type": "ack", "re": 7, "for": "follow"}
    presence = await receive_until(clerk, "presence.changed", timeout=4)
    entry = next(
        c for c in presence["payload"]["connections"] if c["user_id"] == live_org["members"][4].user.pk
    )
    assert entry["following"] is False and entry["page"] == 9
    # The console can also ask for the list.
    await send(clerk, {"type": "presence.list", "id": "p"})
    listing = await receive_until(clerk, "presence")
    assert listing["re"] == "p" and len(listing["connections"]) == 2
    # Members cannot.
    await send(member, {"type": "presence.list"})
    error = await receive(member)
    assert error["type"] == "error" and error["code"] == "forbidden"
    await member.disconnect()
    await fanout.current_hub().flush_presence_now()  # presence is written in batches
    assert await sync_to_async(LiveConnection.objects.filter(user=live_org["members"][4].user).count)() == 0
    await clerk.disconnect()


# --- handover --------------------------------------------------------------------------------


async def _handover_lets_the_official_present_and_reclaim_takes_it_back(live_org):
    official_user = live_org["official"].user
    chair = await connect(path_for(live_org), live_org["members"][0].user, lang="en")
    official = await connect(path_for(live_org), official_user, lang="en")
    member = await connect(path_for(live_org), live_org["members"][5].user, lang="en")
    await present(chair, live_org["doc"])
    await receive(official)
    await receive(member)
    # Before the handover the official may not turn pages.
    await send(official, {"type": "page.turn", "page": 2})
    error = await receive(official)
    assert error == {
        "type": "error",
        "code": "forbidden",
        "message": "You are not presenting in this sitting.",
        "for": "page.turn",
    }
    await send(chair, {"type": "presenter.handover", "user_id": official_user.pk})
    event = await receive(member)
    assert event["type"] == "session.presenter"
    assert event["payload"]["presenter"]["user_id"] == official_user.pk
    assert event["payload"]["presenter"]["default"] is False
    await receive(official)
    await send(official, {"type": "page.turn", "page": 4})
    event = await receive(member)
    assert event["payload"]["presentation"]["page"] == 4
    # A member cannot hand presenting over.
    await send(member, {"type": "presenter.handover", "user_id": member_id(live_org)})
    error = await receive(member)
    assert error["message"] == "Only the secretariat or the chair can run this sitting."
    await send(chair, {"type": "presenter.reclaim"})
    event = await receive_until(member, "session.presenter")
    assert event["payload"]["presenter"]["default"] is True
    await receive_until(official, "session.presenter")
    await send(official, {"type": "page.turn", "page": 6})
    error = await receive(official)
    assert error["code"] == "forbidden"
    assert (await seqs(live_org))["page"] == 4
    for c in (chair, official, member):
        await c.disconnect()


def member_id(org):
    return org["members"][5].user.pk


async def _handover_to_someone_outside_the_sitting_is_refused(live_org):
    outsider = await sync_to_async(factories.make_user)("outsider2")
    chair = await connect(path_for(live_org), live_org["members"][0].user, lang="en")
    before = await seqs(live_org)
    await send(chair, {"type": "presenter.handover", "user_id": outsider.pk})
    error = await receive_until(chair, "error")
    assert error["message"] == "Presenting can only be handed to a participant of this sitting."
    assert await seqs(live_org) == before
    await chair.disconnect()


# --- gaps and resync ------------------------------------------------------------------------


async def test_state_request_resyncs_a_client_that_saw_a_gap(live_org):
    clerk = await connect(path_for(live_org), live_org["clerk"].user)
    member = await connect(path_for(live_org), live_org["members"][4].user)
    await present(clerk, live_org["doc"])
    for page in (2, 3, 4):
        await send(clerk, {"type": "page.turn", "page": page})
    events = [await receive(member) for _ in range(4)]
    assert [e["seq"] for e in events] == [1, 2, 3, 4]  # consecutive: no gap on a healthy socket
    # A client that missed one (say seq 3) asks again and gets the whole state at the latest seq.
    await send(member, {"type": "state.request", "reason": "gap"})
    state = await receive(member)
    assert state["type"] == "state" and state["seq"] == 4 and state["presentation"]["page"] == 4
    await clerk.disconnect()
    await member.disconnect()


async def test_events_during_state_building_are_held_and_only_newer_ones_sent(live_org):
    comm = await connect(path_for(live_org), live_org["members"][4].user)
    # Find this socket's consumer in the hub and simulate a state being built (events held).
    hub = fanout.current_hub()
    (consumer,) = hub.groups[f"live.s{live_org['sitting'].pk}.members"]
    consumer._held = []
    consumer.deliver("members", 1, json.dumps({"type": "session.page", "stream": "members", "seq": 1}), None)
    assert await nothing_more(comm, 0.1)  # held while the state is on its way
    consumer._held.append(("members", 0, '{"stale":true}', None))
    pending, consumer._held = consumer._held, None
    state_seq = 0
    for stream, seq, text, prepared in pending:
        if seq > state_seq:
            consumer.deliver(stream, seq, text, prepared)
    message = await receive(comm)
    assert message["seq"] == 1
    assert await nothing_more(comm, 0.1)  # the stale one was dropped
    await comm.disconnect()


async def test_two_states_built_at_once_both_arrive_and_the_socket_stays(live_org):
    """A client's state.request while the hub resyncs every socket (after a Redis restart): two
    states are built at once for one socket; both are sent, and the socket stays up."""
    comm = await connect(path_for(live_org), live_org["members"][4].user)
    hub = fanout.current_hub()
    (consumer,) = hub.groups[f"live.s{live_org['sitting'].pk}.members"]
    await asyncio.gather(consumer.send_state(), consumer.send_state())
    first, second = await receive(comm), await receive(comm)
    assert first["type"] == second["type"] == "state"
    await send(comm, {"type": "ping", "id": 1})
    assert (await receive(comm))["type"] == "pong"
    await comm.disconnect()


async def test_a_resync_waits_for_a_state_already_on_its_way_then_sends_a_fresh_one(live_org):
    """After a restore the hub asks every socket to resync; a socket still building a state (its
    first, or an answer to state.request) finishes that one first, then sends a newer one."""
    comm = await connect(path_for(live_org), live_org["members"][4].user)
    hub = fanout.current_hub()
    (consumer,) = hub.groups[f"live.s{live_org['sitting'].pk}.members"]
    assert isinstance(consumer, LiveSocket)
    consumer._held = []  # a state is on its way
    resync = asyncio.ensure_future(consumer.resync())
    assert await nothing_more(comm, 0.2)  # waits for it
    consumer._held = None
    assert await resync is True
    assert (await receive(comm))["type"] == "state"
    await comm.disconnect()
    assert consumer.closed and await consumer.resync() is False


async def test_each_audience_has_its_own_sequence(live_org):
    clerk = await connect(path_for(live_org), live_org["clerk"].user)
    public = await connect(public_path(live_org), None)
    assert public.state["seqs"] == {"public": 0} and public.state["stream"] == "public"
    await present(clerk, live_org["public_doc"])
    await send(clerk, {"type": "page.turn", "page": 2})
    p1, p2 = await receive(public), await receive(public)
    assert (p1["stream"], p1["seq"], p2["seq"]) == ("public", 1, 2)
    assert p2["payload"]["presentation"]["page"] == 2
    assert (await seqs(live_org))["public"] == 2
    await clerk.disconnect()
    await public.disconnect()


# --- refusals: each gets an error, changes nothing, and the socket stays up -------------------


REFUSALS = [
    ("not json", "malformed", "The message is not valid JSON."),
    ("[1, 2]", "malformed", "The message has no type."),
    (json.dumps({"type": "teleport"}), "unknown_type", "Unknown message type."),
    (json.dumps({"type": "page.turn", "page": "five"}), "invalid", "The message is not valid (page)."),
    (json.dumps({"type": "page.turn", "page": 0}), "invalid", "The message is not valid (page)."),
    (
        json.dumps({"type": "page.turn", "page": 2, "extra": 1}),
        "invalid",
        "The message is not valid (extra).",
    ),
    (json.dumps({"type": "page.turn"}), "invalid", "The message is not valid (page)."),
    (
        json.dumps({"type": "page.turn", "page": 13}),
        "page",
        "Page 13 does not exist: the document has 12 pages.",
    ),
    (
        json.dumps({"type": "page.turn", "page": 2, "version_id": 999999}),
        "stale",
        "The presented document has changed; turn the page again.",
    ),
    (
        json.dumps({"type": "document.present", "document_id": 999999}),
        "not_found",
        "That document does not exist or you cannot see it.",
    ),
    (
        json.dumps({"type": "agenda.move", "agenda_item_id": 999999}),
        "not_found",
        "That item is not on this sitting's order of business.",
    ),
    (json.dumps({"type": "sitting.open"}), "status", "Only a scheduled sitting can be opened."),
    (json.dumps({"type": "sitting.resume"}), "status", "Only a sitting in recess can resume."),
    ("x" * (MAX_MESSAGE_BYTES + 1), "too_large", "The message is too large."),
    ("[" * 4000 + "]" * 4000, "malformed", "The message is not valid JSON."),  # deeper than the parser goes
]


async def _every_refusal_answers_with_an_error_and_changes_nothing(live_org):
    clerk = await connect(path_for(live_org), live_org["clerk"].user, lang="en")
    await present(clerk, live_org["doc"], page=3)
    before = await seqs(live_org)
    for n, (text, code, message) in enumerate(REFUSALS):
        await clerk.send_to(text_data=text)
        error = await receive_until(clerk, "error")
        assert (error["type"], error["code"], error["message"]) == ("error", code, message), text[:60]
        assert await seqs(live_org) == before
        # Still connected and working.
        await send(clerk, {"type": "ping", "id": n})
        assert (await receive_until(clerk, "pong")) == {"type": "pong", "re": n}
    await clerk.disconnect()


async def _binary_frames_are_refused(live_org):
    clerk = await connect(path_for(live_org), live_org["clerk"].user, lang="en")
    await clerk.send_to(bytes_data=b"\x00\x01")
    error = await receive_until(clerk, "error")
    assert error["code"] == "malformed" and error["message"] == "Only text messages are accepted."
    await clerk.disconnect()


async def _errors_are_in_the_users_language(live_org):
    clerk = await connect(path_for(live_org), live_org["clerk"].user, lang="ja")
    await present(clerk, live_org["doc"])
    await send(clerk, {"type": "page.turn", "page": 40})
    error = await receive_until(clerk, "error")
    assert error["message"] == "40ページはありません。この資料は12ページです。"
    await clerk.send_to(text_data="{")
    assert (await receive_until(clerk, "error"))["message"] == "メッセージが正しいJSONではありません。"
    await clerk.disconnect()


async def _a_member_cannot_turn_pages_or_run_the_sitting(live_org):
    clerk = await connect(path_for(live_org), live_org["clerk"].user)
    member = await connect(path_for(live_org), live_org["members"][4].user, lang="en")
    await present(clerk, live_org["doc"])
    await receive(member)
    before = await seqs(live_org)
    for message, text in [
        ({"type": "page.turn", "page": 2}, "You are not presenting in this sitting."),
        (
            {"type": "document.present", "document_id": live_org["doc"].pk},
            "You are not presenting in this sitting.",
        ),
        ({"type": "sitting.recess"}, "Only the secretariat or the chair can run this sitting."),
        (
            {"type": "agenda.move", "agenda_item_id": live_org["item"].pk},
            "Only the secretariat or the chair can run this sitting.",
        ),
    ]:
        await send(member, message)
        error = await receive(member)
        assert error["code"] == "forbidden" and error["message"] == text
    assert await seqs(live_org) == before
    await clerk.disconnect()
    await member.disconnect()


async def _presenting_a_document_the_presenter_cannot_see_is_refused(live_org):
    # A closed-session document of the committee: the chair of the plenary is not on that committee.
    secret = await sync_to_async(make_document)(
        live_org,
        title="秘密会資料",
        visibility=Document.Visibility.CLOSED_SESSION,
        body=live_org["committee"],
    )
    draft = await sync_to_async(make_document)(live_org, title="未公開", released=False)
    chair = await connect(path_for(live_org), live_org["members"][0].user, lang="en")
    for doc in (secret, draft):
        await send(chair, {"type": "document.present", "document_id": doc.pk})
        error = await receive_until(chair, "error")
        assert error["message"] == "That document does not exist or you cannot see it."
    assert (await seqs(live_org))["document"] is None
    await chair.disconnect()


async def _only_the_current_version_can_be_presented(live_org):
    old_version = live_org["version"]
    await sync_to_async(add_version)(live_org["doc"], pages=14)
    clerk = await connect(path_for(live_org), live_org["clerk"].user, lang="en")
    await send(
        clerk, {"type": "document.present", "document_id": live_org["doc"].pk, "version_id": old_version.pk}
    )
    error = await receive_until(clerk, "error")
    assert error["message"] == "Only the current version of a document can be presented."
    await present(clerk, live_org["doc"], page=14)  # the new version has 14 pages
    await clerk.disconnect()


async def _page_turn_without_a_presented_document_is_refused(live_org):
    clerk = await connect(path_for(live_org), live_org["clerk"].user, lang="en")
    await send(clerk, {"type": "page.turn", "page": 2})
    error = await receive_until(clerk, "error")
    assert error["code"] == "no_document" and error["message"] == "No document is being presented."
    await clerk.disconnect()


async def test_flooding_client_gets_errors_then_is_closed(live_org):
    member = await connect(path_for(live_org), live_org["members"][4].user, lang="en")
    from meetings.live import consumers

    for _ in range(transport.FLOOD_SOFT):
        await send(member, {"type": "ping"})
    for _ in range(transport.FLOOD_SOFT):
        assert (await receive(member))["type"] == "pong"
    await send(member, {"type": "ping"})
    error = await receive(member)
    assert error["code"] == "flood" and error["message"] == "Too many messages; slow down."
    for _ in range(transport.FLOOD_HARD):
        await member.send_to(text_data='{"type":"ping"}')
    output = None
    for _ in range(transport.FLOOD_HARD + 5):
        output = await member.receive_output(timeout=2)
        if output["type"] == "websocket.close":
            break
    assert output == {"type": "websocket.close", "code": consumers.CLOSE_FLOOD}


# --- the public view (傍聴) ---------------------------------------------------------------------


async def test_public_view_never_receives_members_or_closed_session_data(live_org):
    from meetings.models import AgendaItemDocument

    closed_item = await sync_to_async(factories.make_agenda_item)(
        live_org["sitting"], title="人事案件(秘密会)", closed_session=True
    )
    secret = await sync_to_async(make_document)(
        live_org, title="秘密会資料 人事評価", visibility=Document.Visibility.CLOSED_SESSION
    )
    await sync_to_async(AgendaItemDocument.objects.create)(
        agenda_item=closed_item, document=live_org["public_doc"]
    )
    await sync_to_async(AgendaItemDocument.objects.create)(agenda_item=closed_item, document=secret)
    clerk = await connect(path_for(live_org), live_org["clerk"].user)
    public = await connect(public_path(live_org), None)
    received = []

    async def public_next():
        message = await receive(public)
        received.append(json.dumps(message, ensure_ascii=False))
        return message

    # A members-only document: the public stays blank.
    await present(clerk, live_org["doc"])
    assert (await public_next())["payload"]["presentation"] is None
    # A public document on an open item: shown.
    await present(clerk, live_org["public_doc"], page=2)
    shown = await public_next()
    assert shown["payload"]["presentation"]["document_id"] == live_org["public_doc"].pk
    # Moving to a closed session blanks the public view, even for the public document.
    await send(clerk, {"type": "agenda.move", "agenda_item_id": closed_item.pk})
    moved = await public_next()
    assert moved["type"] == "session.agenda"
    assert moved["payload"]["presentation"] is None
    assert moved["payload"]["agenda_item"] == {
        "id": closed_item.pk,
        "position": closed_item.position,
        "label": closed_item.label,
        "closed_session": True,
    }
    await present(clerk, live_org["public_doc"], page=3)
    assert (await public_next())["payload"]["presentation"] is None
    await present(clerk, secret, page=1)
    assert (await public_next())["payload"]["presentation"] is None
    await send(clerk, {"type": "page.turn", "page": 2})
    assert (await public_next())["payload"]["presentation"] is None
    # A public visitor arriving now sees nothing of it either.
    late = await connect(public_path(live_org), None)
    received.append(json.dumps(late.state, ensure_ascii=False))
    assert late.state["presentation"] is None and "title" not in late.state["agenda_item"]
    everything = "\n".join(received)
    for secret_text in ("人事案件", "秘密会資料", live_org["doc"].title, str(secret.pk) + ',"version_id"'):
        assert secret_text not in everything
    # And the public socket refuses members' messages.
    await send(public, {"type": "page.turn", "page": 1})
    assert (await receive(public))["code"] == "unknown_type"
    for c in (clerk, public, late):
        await c.disconnect()


async def test_public_endpoint_refuses_sittings_not_open_to_the_public(live_org):
    await sync_to_async(Sitting.objects.filter(pk=live_org["sitting"].pk).update)(is_public=False)
    public = await connect(public_path(live_org), None, expect_state=False)
    assert public.accepted is False


# --- losing access -------------------------------------------------------------------------------


async def _signing_out_closes_the_members_sockets(live_org):
    from django.test import Client

    user = live_org["members"][4].user
    member = await connect(path_for(live_org), user)
    other = await connect(path_for(live_org), live_org["members"][5].user)

    def sign_out():
        client = Client()
        client.force_login(user)
        client.post("/accounts/logout/")

    await sync_to_async(sign_out)()
    output = await member.receive_output(timeout=3)
    assert output == {"type": "websocket.close", "code": 4401}
    await send(other, {"type": "ping"})
    assert (await receive(other))["type"] == "pong"  # the others stay
    await other.disconnect()


async def _a_member_who_loses_access_is_closed_on_the_next_message(live_org):
    person = live_org["members"][4]
    member = await connect(path_for(live_org), person.user)
    # update() sends no signals: only the consumer's own check can notice.
    await sync_to_async(type(person).objects.filter(pk=person.pk).update)(active=False)
    await send(member, {"type": "page.turn", "page": 2})
    output = await member.receive_output(timeout=3)
    assert output == {"type": "websocket.close", "code": 4403}


async def _periodic_recheck_closes_sockets_of_users_who_lost_access(live_org):
    person = live_org["members"][6]
    member = await connect(path_for(live_org), person.user)
    await sync_to_async(type(person).objects.filter(pk=person.pk).update)(active=False)
    await access.recheck(fanout.current_hub().all_sockets())
    output = await member.receive_output(timeout=3)
    assert output == {"type": "websocket.close", "code": 4403}


async def _only_documents_for_the_members_can_be_presented(live_org):
    internal = await sync_to_async(make_document)(
        live_org, title="事務局メモ", visibility=Document.Visibility.SECRETARIAT
    )
    secret = await sync_to_async(make_document)(
        live_org, title="秘密会資料", visibility=Document.Visibility.CLOSED_SESSION
    )
    clerk = await connect(path_for(live_org), live_org["clerk"].user, lang="en")
    await send(clerk, {"type": "document.present", "document_id": internal.pk})
    error = await receive_until(clerk, "error")
    assert error["message"] == "Only documents released to the members can be presented."
    await send(clerk, {"type": "document.present", "document_id": secret.pk})
    error = await receive_until(clerk, "error")
    assert error["message"] == "A closed-session document can be presented only during a closed-session item."
    assert (await seqs(live_org))["document"] is None
    await clerk.disconnect()


async def test_who_may_connect(live_org):
    await _state_on_connect_has_the_core_fields(live_org)
    await _console_receives_members_and_clerks_streams(live_org)
    await _members_endpoint_refuses_who_may_not_follow(live_org)
    await _committee_sitting_refuses_a_councillor_not_on_the_committee(live_org)
    await _foreign_origin_is_refused(live_org)
    await _unknown_sitting_is_refused(live_org)


async def test_every_refusal_changes_nothing_and_keeps_the_socket_up(live_org):
    await _page_turn_without_a_presented_document_is_refused(live_org)
    await _presenting_a_document_the_presenter_cannot_see_is_refused(live_org)
    await _only_documents_for_the_members_can_be_presented(live_org)
    await _every_refusal_answers_with_an_error_and_changes_nothing(live_org)
    await _binary_frames_are_refused(live_org)
    await _errors_are_in_the_users_language(live_org)
    await _a_member_cannot_turn_pages_or_run_the_sitting(live_org)
    await _only_the_current_version_can_be_presented(live_org)


async def test_closing_the_sitting_blanks_the_public_view_and_stops_page_turns(live_org):
    clerk = await connect(path_for(live_org), live_org["clerk"].user, lang="en")
    await present(clerk, live_org["public_doc"])
    public = await connect(public_path(live_org), None)
    assert public.state["presentation"]["document_id"] == live_org["public_doc"].pk
    await send(clerk, {"type": "sitting.close", "id": "c"})
    await receive_until(clerk, "ack")
    closed = await receive_until(public, "session.status")
    assert closed["payload"]["status"] == "closed" and closed["payload"]["presentation"] is None
    await send(clerk, {"type": "page.turn", "page": 2})
    error = await receive_until(clerk, "error")
    assert error["code"] == "closed" and error["message"] == "The sitting is closed."
    await clerk.disconnect()
    await public.disconnect()


async def test_losing_access_closes_the_socket(live_org):
    await _signing_out_closes_the_members_sockets(live_org)
    await _a_member_who_loses_access_is_closed_on_the_next_message(live_org)
    await _periodic_recheck_closes_sockets_of_users_who_lost_access(live_org)


async def test_handover_and_its_refusals(live_org):
    await _handover_lets_the_official_present_and_reclaim_takes_it_back(live_org)
    await _handover_to_someone_outside_the_sitting_is_refused(live_org)


async def test_page_turns_and_late_joiners(live_org):
    await _page_turn_reaches_every_follower_with_growing_seq(live_org)
    await _turning_to_the_same_page_sends_nothing(live_org)


async def test_presence_says_who_is_in_the_room(live_org):
    from meetings.attendance.models import Attendance
    from meetings.voting.services import roll

    person = live_org["members"][4]
    await sync_to_async(roll.attendance_mark)(
        sitting=live_org["sitting"],
        person=person,
        status=Attendance.Status.PRESENT_ROOM,
        by=live_org["clerk"].user,
    )
    member = await connect(path_for(live_org), person.user)
    clerk = await connect(path_for(live_org), live_org["clerk"].user)
    await fanout.current_hub().flush_presence_now()
    await send(clerk, {"type": "presence.list"})
    listing = await receive_until(clerk, "presence")
    entry = next(c for c in listing["connections"] if c["user_id"] == person.user.pk)
    assert entry["where"] == "room" and entry["seat_number"] == person.seat_number
    await member.disconnect()
    await clerk.disconnect()
