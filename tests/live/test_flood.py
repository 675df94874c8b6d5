"""The flood guard of live sockets (``meetings.live.consumers``): one error past the soft limit and
silence until the window ends, a close past the hard limit, and a cool-down that refuses the
flooder's reconnects before any query. The same counter runs in daphne's protocol (measured on a
real daphne in ``tests/security/test_flood_latency.py``)."""

from __future__ import annotations

import asyncio

import pytest

from meetings.live import consumers, transport
from tests.live.conftest import connect, nothing_more, receive, receive_until, send

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture
def small_limits(monkeypatch):
    monkeypatch.setattr(transport, "FLOOD_SOFT", 5)
    monkeypatch.setattr(transport, "FLOOD_HARD", 20)
    monkeypatch.setattr(transport, "FLOOD_WINDOW_S", 1.0)
    monkeypatch.setattr(transport, "FLOOD_COOLDOWN_S", 1.0)


async def flood(comm, count: int) -> None:
    for i in range(count):
        await send(comm, {"type": "ping", "id": i})


@pytest.mark.slow  # waits out a flood window
async def test_one_flood_error_then_silence_until_the_window_ends(scene, small_limits):
    member = await connect(scene["path"], scene["members"][4].user, lang="en")
    await flood(member, 15)
    for i in range(5):
        assert await receive(member) == {"type": "pong", "re": i}
    error = await receive(member)
    assert error["type"] == "error" and error["code"] == "flood"
    assert error["message"] == "Too many messages; slow down."
    assert error["retry_after"] == 1
    assert await nothing_more(member, timeout=0.5)  # the other nine are dropped unanswered
    await asyncio.sleep(1.0)  # a new window: the socket was kept and is answered again
    await send(member, {"type": "ping", "id": "again"})
    assert await receive(member) == {"type": "pong", "re": "again"}
    await member.disconnect()


async def test_the_flood_error_is_translated(scene, small_limits):
    member = await connect(scene["path"], scene["members"][4].user, lang="ja")
    await flood(member, 6)
    error = await receive_until(member, "error")
    assert error["code"] == "flood" and error["message"] != "Too many messages; slow down."
    await member.disconnect()


@pytest.mark.slow  # waits out the cool-down
async def test_flood_close_refuses_reconnects_before_any_query_until_the_cool_down_ends(
    scene, small_limits, monkeypatch
):
    authorized = []
    original = consumers.SittingConsumer._authorize

    def counting_authorize(self):
        authorized.append(self.user_id)
        return original(self)

    monkeypatch.setattr(consumers.SittingConsumer, "_authorize", counting_authorize)
    flooder = scene["members"][4].user
    member = await connect(scene["path"], flooder, lang="en")
    await flood(member, 30)
    outputs = []
    while (output := await member.receive_output(timeout=3))["type"] != "websocket.close":
        outputs.append(output)
    assert len(outputs) == 6 and output == {"type": "websocket.close", "code": consumers.CLOSE_FLOOD}
    authorized.clear()
    # Refused in the handshake (an HTTP 403), with a fresh session too, and on the public view,
    # without an authorization or a state build.
    for path in (scene["path"], scene["public_path"]):
        again = await connect(path, flooder, lang="en")
        assert again.accepted is False and again.close_code == consumers.CLOSE_FLOOD, path
    assert authorized == []
    # Others are not affected.
    other = await connect(scene["path"], scene["members"][5].user, lang="en")
    assert other.accepted
    await other.disconnect()
    await asyncio.sleep(1.1)  # the cool-down is over
    back = await connect(scene["path"], flooder, lang="en")
    assert back.accepted
    await send(back, {"type": "ping", "id": "back"})
    assert await receive(back) == {"type": "pong", "re": "back"}
    await back.disconnect()


@pytest.mark.slow  # holds a key down for seconds
async def test_a_clerk_holding_an_arrow_key_stays_under_the_limits(scene):
    # A key held down repeats about 30 times a second: a whole window of it must not close the console.
    assert transport.FLOOD_HARD > 35 * transport.FLOOD_WINDOW_S
    clerk = await connect(scene["path"], scene["clerk"].user, lang="en")
    await send(
        clerk, {"type": "document.present", "document_id": scene["doc"].pk, "page": 1, "id": "present"}
    )
    assert (await receive_until(clerk, "ack"))["re"] == "present"
    # Four seconds of it (~120 turns) sent back to back, all handled.
    turns = transport.FLOOD_SOFT - 1
    for n in range(turns):
        await send(clerk, {"type": "page.turn", "page": 2 + n % 150, "id": n})
    acks = 0
    while acks < turns:
        message = await receive(clerk, timeout=10)
        assert message["type"] != "error", message
        acks += message["type"] == "ack"
    await clerk.disconnect()


async def test_cool_downs_are_per_user_and_expire(monkeypatch):
    cooldowns = transport.FloodCooldowns()
    monkeypatch.setattr(transport, "FLOOD_COOLDOWN_S", 0.2)
    cooldowns.start(7)
    cooldowns.start(None)  # anonymous: nothing to key on that others do not share
    assert cooldowns.refuses(7) and not cooldowns.refuses(8) and not cooldowns.refuses(None)
    await asyncio.sleep(0.25)
    assert not cooldowns.refuses(7)


async def test_a_flood_cut_off_is_announced_to_every_process(scene, small_limits, monkeypatch):
    """The process that closes a flooder tells the others through the hubs' control group, so the
    flooder cannot move on to the next process; an announcement from elsewhere is honoured here."""
    from meetings.live import fanout

    member = await connect(scene["path"], scene["members"][4].user)
    hub = fanout.current_hub()
    announced = []
    real_send = hub.layer.group_send

    async def spy(group, message):
        if message.get("action") == "flood_cooldown":
            announced.append((group, message))
        return await real_send(group, message)

    monkeypatch.setattr(hub.layer, "group_send", spy)
    await flood(member, 25)
    await receive_until(member, "error")
    for _ in range(50):
        if announced:
            break
        await asyncio.sleep(0.02)
    ((group, message),) = announced
    assert group == fanout.CONTROL_GROUP
    assert message == {
        "type": "live.control",
        "action": "flood_cooldown",
        "user_id": scene["members"][4].user.pk,
        "seconds": 1.0,
    }
    # Another process's announcement: this process refuses that user from now on.
    other = scene["members"][5].user.pk
    assert not transport.flood_cooldowns.refuses(other)
    hub.dispatch({"type": "live.control", "action": "flood_cooldown", "user_id": other, "seconds": 1.0})
    assert transport.flood_cooldowns.refuses(other)
    # Nonsense is ignored.
    hub.dispatch({"type": "live.control", "action": "flood_cooldown", "user_id": "x", "seconds": 1e9})
    await member.disconnect()
