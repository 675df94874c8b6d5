"""Handshakes under a crowd (``meetings.live.admission``, ``meetings.live.handshake``): a saturated
process refuses at once with 4503 before any query; a handshake whose client left is not worked on
further; handshakes arriving together share one batch of queries and one state build."""

from __future__ import annotations

import asyncio
import threading

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings

from meetings.live import admission, handshake, state
from meetings.live.sockets import CLOSE_TRY_AGAIN
from tests.live.conftest import _session_cookie, connect, receive

pytestmark = pytest.mark.django_db(transaction=True)  # async tests: asyncio_mode = "auto"


@pytest.fixture
def fresh_admission(monkeypatch):
    control = admission.Admission(limit=100)
    monkeypatch.setattr(admission, "admission", control)
    return control


@pytest.fixture
def counted(monkeypatch):
    """Record every authorization and state request that reaches the database stage."""
    calls = {"users": [], "access": [], "state": []}
    for name, batcher in (
        ("users", handshake.users),
        ("access", handshake.grants),
        ("state", handshake.states),
    ):
        original = batcher.loader

        def loader(keys, name=name, original=original):
            calls[name].append(list(keys))
            return original(keys)

        monkeypatch.setattr(batcher, "loader", loader)
    return calls


async def communicator(path: str, user=None) -> WebsocketCommunicator:
    from council.asgi import application

    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    if user is not None:
        key = await sync_to_async(_session_cookie)(user)
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={key}".encode()))
    return WebsocketCommunicator(application, path, headers=headers)


async def test_a_saturated_process_refuses_with_4503_and_a_retry_window_before_any_query(
    scene, fresh_admission, counted
):
    fresh_admission.limit = 0
    for path, user in ((scene["path"], scene["members"][4].user), (scene["public_path"], None)):
        comm = await communicator(path, user)
        connected, _code = await comm.connect(timeout=3)
        assert connected  # accepted, so that the client can read the close code (not an HTTP 403)
        closed = await comm.receive_output(timeout=3)
        assert closed["type"] == "websocket.close" and closed["code"] == CLOSE_TRY_AGAIN
        assert 1.0 <= float(closed["reason"]) <= 5.0
        await comm.wait(timeout=3)
    assert counted == {"users": [], "access": [], "state": []}
    assert fresh_admission.refused == 2 and fresh_admission.in_progress == 0


async def test_handshakes_in_progress_are_counted_until_the_state_is_sent(scene, fresh_admission):
    fresh_admission.limit = 1
    gate = threading.Event()
    original = handshake.grants.loader

    def slow(keys):
        gate.wait(10)
        return original(keys)

    handshake.grants.loader = slow
    try:
        first = await communicator(scene["path"], scene["members"][4].user)
        await first.send_input({"type": "websocket.connect"})
        for _ in range(100):
            if fresh_admission.in_progress == 1:
                break
            await asyncio.sleep(0.01)
        assert fresh_admission.in_progress == 1
        second = await connect(scene["path"], scene["members"][5].user, expect_state=False)
        closed = await second.receive_output(timeout=3)
        assert closed == {"type": "websocket.close", "code": CLOSE_TRY_AGAIN, "reason": "5"}
        gate.set()
        assert (await first.receive_output(timeout=5))["type"] == "websocket.accept"
        assert (await receive(first))["type"] == "state"
        assert fresh_admission.in_progress == 0 and fresh_admission.served == 1
        third = await connect(scene["path"], scene["members"][5].user)  # room again
        assert third.accepted and third.state["type"] == "state"
        await first.disconnect()
        await third.disconnect()
    finally:
        handshake.grants.loader = original
        gate.set()


async def test_no_work_is_done_for_a_handshake_whose_client_left(scene, fresh_admission, counted):
    gate = threading.Event()
    original = handshake.users.loader

    def slow(keys):
        gate.wait(10)
        return original(keys)

    handshake.users.loader = slow
    builds_before = dict(state.builds)
    try:
        # Three tablets connect while the database is slow; two give up (daphne's handshake
        # timeout, or the tablet itself) before their turn comes.
        comms = [await communicator(scene["path"], scene["members"][i].user) for i in (4, 5, 6)]
        for comm in comms:
            await comm.send_input({"type": "websocket.connect"})
        await asyncio.sleep(0.2)
        for comm in comms[:2]:
            await comm.send_input({"type": "websocket.disconnect", "code": 1006})
        gate.set()
        stayed = comms[2]
        assert (await stayed.receive_output(timeout=5))["type"] == "websocket.accept"
        assert (await receive(stayed))["type"] == "state"
        for comm in comms[:2]:
            await comm.wait(timeout=3)
    finally:
        handshake.users.loader = original
        gate.set()
    user_ids = {scene["members"][i].user.pk for i in (4, 5, 6)}
    asked = [key[0] for batch in counted["access"] for key in batch]
    assert asked == [scene["members"][6].user.pk]  # only the one still there was authorized
    stated = [key[3] for batch in counted["state"] for key in batch]
    assert set(stated) == {scene["members"][6].user.pk} and set(stated) < user_ids
    assert state.builds["me"] - builds_before["me"] == 1
    assert fresh_admission.in_progress == 0 and fresh_admission.served == 1
    await stayed.disconnect()


async def test_the_handshakes_of_a_moment_share_their_queries_and_their_state(
    scene, fresh_admission, counted
):
    builds_before = dict(state.builds)
    members = [scene["members"][i].user for i in (4, 5, 6, 7)]
    # "Together" made certain: the first batch's database stage is held until every handshake has
    # arrived (as when the database is busy), so the others queue behind it, however fast it is.
    gate = threading.Event()
    first = [True]
    loader = handshake.users.loader

    def held(keys):
        if first[0]:
            first[0] = False
            gate.wait(5)
        return loader(keys)

    handshake.users.loader = held
    try:
        arriving = asyncio.ensure_future(
            asyncio.gather(*(connect(scene["path"], user) for user in [*members, *members]))
        )
        await asyncio.sleep(0.5)
        gate.set()
        comms = await arriving
    finally:
        handshake.users.loader = loader
        gate.set()
    assert all(c.accepted and c.state["type"] == "state" for c in comms)
    states = {c.state["seq"] for c in comms}
    assert len(states) == 1
    # Fewer batches than sockets at every stage, one shared state for all eight sockets.
    for stage in ("users", "access", "state"):
        assert len(counted[stage]) < len(comms), stage
    assert state.builds["shared"] - builds_before["shared"] == 1
    assert {c.state["me"]["user"] for c in comms} == {u.pk for u in members}
    await asyncio.gather(*(c.disconnect() for c in comms))


async def test_access_is_checked_afresh_in_every_batch(scene, fresh_admission):
    member = scene["members"][4].user
    first = await connect(scene["path"], member)
    assert first.accepted
    await first.disconnect()
    await sync_to_async(type(member).objects.filter(pk=member.pk).update)(is_active=False)
    again = await connect(scene["path"], member, expect_state=False)
    assert not again.accepted  # not remembered from the batch before


def test_admission_refuses_once_the_oldest_handshake_has_waited_too_long(monkeypatch):
    control = admission.Admission(limit=1000)
    tickets = [control.admit(None, None) for _ in range(admission.QUEUE_FLOOR)]
    assert not control.full()  # a short queue, young
    clock = [tickets[0].started + admission.MAX_QUEUE_WAIT_S + 0.1]
    monkeypatch.setattr(admission.time, "monotonic", lambda: clock[0])
    assert control.full()  # the oldest has waited longer than the process works through in time
    tickets[0].done()
    tickets[0].done()  # once only
    assert control.in_progress == admission.QUEUE_FLOOR - 1 and not control.full()  # below the floor


def test_autobahn_no_longer_pretty_prints_its_settings_for_each_connection(monkeypatch):
    import txaio
    from autobahn.websocket import protocol

    from meetings.live import daphne_adapter

    daphne_adapter.lighten_autobahn()
    settings_ = {f"setting{i}": list(range(20)) for i in range(40)}
    monkeypatch.setattr(txaio, "get_global_log_level", lambda: "info")
    assert "setting1" not in protocol.pformat(settings_)
    monkeypatch.setattr(txaio, "get_global_log_level", lambda: "debug")
    assert "setting1" in protocol.pformat(settings_)  # still there for whoever debugs
