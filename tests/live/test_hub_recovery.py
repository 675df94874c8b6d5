"""The hub recovers from a lost channel layer: it joins its groups again and resyncs every socket.

Redis keeps no data across a restart, so a process's group subscriptions and the events queued for
it are gone when it comes back. Simulated here on the in-memory layer (receive errors, groups that
vanish without an error) and once against a private ``redis-server`` that is really restarted.
"""

from __future__ import annotations

import asyncio
import io
import logging
import shutil
import time

import pytest
from asgiref.sync import sync_to_async
from channels.layers import InMemoryChannelLayer

from meetings import events
from meetings.live import fanout, recovery
from meetings.live.sockets import LiveSocket
from tests.servers import PrivateRedis

GROUP = "live.s1.members"


class FakeSocket:
    """A local socket as the hub sees it (``sockets.LiveSocket``): records frames and fresh states."""

    user_id = None
    sitting_id = 1
    public = False
    session_key = None
    reads_closed_session = True

    def __init__(self) -> None:
        self.seqs: list[int] = []
        self.states = 0
        self.closed = False

    def deliver(self, stream, seq, text, prepared) -> None:
        self.seqs.append(seq)

    def close_from_hub(self, code: int) -> None:
        self.closed = True

    async def resync(self) -> bool:
        self.states += 1
        return True


class FlakyLayer(InMemoryChannelLayer):
    """The in-memory layer, with a switch that makes it fail the way channels_redis does while Redis
    is down; going down also forgets every group and queued message, as a Redis restart does."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    async def go_down(self) -> None:
        self.down = True
        await self.flush()

    def _check(self) -> None:
        if self.down:
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    async def receive(self, channel):
        while True:  # a blocking read that notices the server going away, as BZPOPMIN does
            self._check()
            try:
                return await asyncio.wait_for(super().receive(channel), 0.05)
            except TimeoutError:
                continue

    async def group_add(self, group, channel):
        self._check()
        await super().group_add(group, channel)

    async def group_send(self, group, message):
        self._check()
        await super().group_send(group, message)


async def until(predicate, timeout: float = 5.0, what: str = "the condition") -> float:
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


def frame(seq: int) -> dict:
    return {"type": "live.frame", "group": GROUP, "stream": "members", "seq": seq, "text": f'{{"seq":{seq}}}'}


async def _stopped(hub: fanout.Hub) -> None:
    tasks = list(hub.tasks)
    await hub.stop()
    _done, pending = await asyncio.wait(tasks, timeout=3) if tasks else (set(), set())
    if pending:
        stacks = io.StringIO()
        for task in pending:
            task.print_stack(file=stacks)
        raise AssertionError(f"the hub did not stop when cancelled:\n{stacks.getvalue()}")


async def test_after_receive_errors_the_hub_joins_its_groups_again_and_resyncs_every_socket(caplog):
    layer = FlakyLayer()
    hub = fanout.Hub(layer=layer)
    await hub.start()
    a, b = FakeSocket(), FakeSocket()
    await hub.join(GROUP, a)
    await hub.join(GROUP, b)
    try:
        await layer.group_send(GROUP, frame(1))
        await until(lambda: a.seqs == [1] and b.seqs == [1], what="the first frame")

        await layer.go_down()
        await asyncio.sleep(0.5)  # receive fails, the hub backs off and retries
        assert hub.restores == 0 and a.states == 0
        layer.down = False
        took = await until(lambda: a.states == 1 and b.states == 1, what="a fresh state on every socket")
        assert took < 2.5  # the backoff never waits longer than RETRY_MAX
        assert hub.restores == 1
        assert set(layer.groups[GROUP]) == {hub.channel}
        assert set(layer.groups[fanout.CONTROL_GROUP]) == {hub.channel}

        await layer.group_send(GROUP, frame(2))  # events flow again
        await until(lambda: a.seqs == [1, 2] and b.seqs == [1, 2], what="a frame after the restart")
        assert "receive failed" in caplog.text and "rejoined 1 groups" in caplog.text
    finally:
        await _stopped(hub)


async def test_groups_lost_without_any_error_are_noticed_by_the_heartbeat(monkeypatch):
    monkeypatch.setattr(recovery, "WATCH_SECONDS", 0.05)
    monkeypatch.setattr(recovery, "WATCH_TIMEOUT", 0.2)
    layer = InMemoryChannelLayer()
    hub = fanout.Hub(layer=layer)
    await hub.start()
    sock = FakeSocket()
    await hub.join(GROUP, sock)
    try:
        await asyncio.sleep(0.5)  # heartbeats come back: nothing to do
        assert hub.restores == 0 and sock.states == 0
        assert hub.recovery.watch_seen >= 3

        layer.groups.clear()  # e.g. Redis restarted and redis-py reconnected before we noticed
        await until(lambda: sock.states == 1, what="a fresh state after the heartbeat was lost")
        assert hub.restores == 1
        await layer.group_send(GROUP, frame(7))
        await until(lambda: sock.seqs == [7], what="a frame after the groups were joined again")
    finally:
        await _stopped(hub)


async def test_the_hub_uses_only_the_declared_socket_interface():
    """The hub resyncs, writes to and closes sockets through ``LiveSocket`` alone: a socket that
    offers exactly that interface (and no consumer internals) is fully served."""
    hub = fanout.Hub(layer=InMemoryChannelLayer())
    await hub.start()
    sock, gone = FakeSocket(), FakeSocket()
    assert isinstance(sock, LiveSocket)
    gone.closed = True
    await hub.join(GROUP, sock)
    await hub.join(GROUP, gone)
    try:
        await hub.restore("test")
        await until(lambda: sock.states == 1, what="the open socket's fresh state")
        assert gone.states == 0  # a closed socket is not resynced
    finally:
        await _stopped(hub)


async def test_a_hub_started_while_the_layer_is_down_joins_its_groups_once_it_answers():
    layer = FlakyLayer()
    await layer.go_down()
    hub = fanout.Hub(layer=layer)
    try:
        with pytest.raises(ConnectionError):
            await hub.start()  # the first connection fails; the next one finds the hub started
        sock = FakeSocket()
        with pytest.raises(ConnectionError):
            await hub.join(GROUP, sock)
        await asyncio.sleep(0.3)  # its receive fails too
        layer.down = False
        await until(lambda: hub.restores == 1, what="the groups joined once the layer answers")
        assert set(layer.groups[fanout.CONTROL_GROUP]) == {hub.channel}
        assert set(layer.groups[GROUP]) == {hub.channel}
        await layer.group_send(GROUP, frame(1))
        await until(lambda: sock.seqs == [1], what="a frame")
    finally:
        await _stopped(hub)


async def test_the_hub_stops_when_cancelled_even_if_the_layer_turns_cancellation_into_errors():
    class Swallowing(FlakyLayer):
        async def receive(self, channel):
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                raise ConnectionError("Connection closed by server.") from None

    layer = Swallowing()
    hub = fanout.Hub(layer=layer)
    await hub.start()
    await hub.join(GROUP, FakeSocket())
    await asyncio.sleep(0.1)
    await _stopped(hub)

    failing = FlakyLayer()
    hub = fanout.Hub(layer=failing)
    await hub.start()
    await failing.go_down()
    await asyncio.sleep(0.3)  # in the retry loop now
    await _stopped(hub)


async def test_the_hub_stops_even_if_the_layer_swallows_a_cancellation_and_keeps_reading():
    class Deaf(FlakyLayer):
        """As redis-py on Python 3.11: a cancellation that arrives as a command has just been sent
        is lost inside ``asyncio.wait_for``, and channels_redis goes on with its blocking read."""

        swallowed = ended = False

        async def receive(self, channel):
            try:
                while True:
                    try:
                        await asyncio.sleep(3600)
                    except asyncio.CancelledError:
                        if self.swallowed:
                            raise
                        self.swallowed = True
            finally:
                self.ended = True

    layer = Deaf()
    hub = fanout.Hub(layer=layer)
    await hub.start()
    await asyncio.sleep(0.1)
    await _stopped(hub)
    assert layer.swallowed
    await until(lambda: layer.ended, timeout=2, what="the swallowed receive to be cancelled again")


# --- a real Redis, really restarted ---------------------------------------------------------------


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs the redis-server program")
@pytest.mark.slow  # restarts a real redis-server
async def test_a_real_redis_restart_is_recovered_and_publishing_meanwhile_only_logs(settings, caplog):
    redis = PrivateRedis().start()
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # As in production (council/settings.py).
                "hosts": [
                    {
                        "address": redis.url,
                        "socket_timeout": 30,
                        "socket_connect_timeout": 5,
                        "socket_keepalive": True,
                        "health_check_interval": 15,
                        "retry_on_timeout": True,
                    }
                ],
                "expiry": 30,
            },
        }
    }
    hub = fanout.Hub()
    publish = sync_to_async(events.send_frame)  # the after-commit hook of events.publish
    try:
        await hub.start()
        sock = FakeSocket()
        await hub.join(GROUP, sock)
        await publish(group=GROUP, stream="members", seq=1, text='{"seq":1}')
        await until(lambda: sock.seqs == [1], what="a frame through Redis")

        redis.stop()
        with caplog.at_level(logging.ERROR, logger="meetings.events"):
            await publish(group=GROUP, stream="members", seq=2, text='{"seq":2}')  # logged, not raised
        assert "could not send members seq 2" in caplog.text
        await asyncio.sleep(1.0)

        redis.start()  # empty: no groups, no queued messages
        took = await until(lambda: sock.states == 1, timeout=10, what="a fresh state after the restart")
        assert took < 5
        await publish(group=GROUP, stream="members", seq=3, text='{"seq":3}')
        await until(lambda: sock.seqs == [1, 3], what="a frame through the restarted Redis")
    finally:
        await _stopped(hub)
        await hub.layer.close_pools()
        redis.stop()
