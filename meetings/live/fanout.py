"""Fan-out: one channel-layer message per event and process, one pre-framed write per socket.

Each server process runs one ``Hub`` (created on the first live connection, on the running event
loop). The hub owns the process's only channel-layer channel for live traffic: it subscribes that
channel to the groups of the sittings and audiences its local sockets follow (``live.s12.members``
…), so a page turn published once (``meetings.events.publish``) reaches each process exactly once,
however many followers it serves. The hub then frames the pre-encoded text once (an autobahn
``PreparedMessage``, ``daphne_adapter.prepare``) and hands the same bytes to every local socket of
that group through the declared socket interface (``meetings.live.sockets.LiveSocket``).

The hub is built from parts that each own one concern:

* this module: group subscriptions, dispatching what the layer brings, the control group
  (sign-outs, the flood cool-down shared by every process) and housekeeping;
* ``recovery.LayerRecovery``: the receive loop, the heartbeat through the layer, and the restore
  (join every group again, resync every socket) after Redis lost them;
* ``presence.PresenceWriter``: who is connected, written in batches;
* ``access.recheck``: closing sockets whose user lost access or whose session ended unheard.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from channels.layers import get_channel_layer

from meetings.live import access, daphne_adapter
from meetings.live.presence import PresenceWriter
from meetings.live.recovery import LayerRecovery, brief
from meetings.live.sockets import CLOSE_SIGNED_OUT, LiveSocket

logger = logging.getLogger(__name__)

CONTROL_GROUP = "live.control"
HOUSEKEEPING_SECONDS = 30.0
UNSUBSCRIBE_AFTER_S = 120.0  # a group without local sockets for this long is left


# Other modules' control actions, e.g. the transport's flood cool-down shared by every process.
_control_handlers: dict[str, Callable[[dict], None]] = {}


def register_control(action: str, handler: Callable[[dict], None]) -> None:
    """Run ``handler(message)`` on every process when a hub ``announce``s ``action``."""
    _control_handlers[action] = handler


class Hub:
    def __init__(self, layer: Any | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        self.layer = layer if layer is not None else get_channel_layer()
        self.server_id = uuid.uuid4().hex
        self.channel: str | None = None
        self.groups: dict[str, set[LiveSocket]] = defaultdict(set)
        self.last_seq: dict[str, int] = {}  # the newest event's seq per group received here
        self.subscribed: set[str] = set()
        self.lock = asyncio.Lock()
        self.tasks: list[asyncio.Task] = []
        self.started = False
        self.delivered = 0
        self.frames = 0
        self.stopping = False
        self.recovery = LayerRecovery(self)
        self.presence = PresenceWriter(self.server_id)

    async def start(self) -> None:
        if self.started:
            return
        self.started = True
        if self.layer is not None:
            self.channel = await self.layer.new_channel()
            # The loops first: if Redis is down right now, the joins below fail (and so does this
            # first connection), but the loops restore them once it answers.
            self.tasks.append(self.loop.create_task(self.recovery.receive_loop()))
            self.tasks.append(self.loop.create_task(self.recovery.watch_loop()))
        self.tasks.append(self.loop.create_task(self._housekeeping_loop()))
        if self.layer is not None:
            await self.layer.group_add(CONTROL_GROUP, self.channel)
            await self.layer.group_add(self.recovery.watch_group, self.channel)

    def keep_task(self, task: asyncio.Task) -> None:
        """Track a background task so that ``stop`` cancels it."""
        self.tasks = [t for t in self.tasks if not t.done()]
        self.tasks.append(task)

    # membership ----------------------------------------------------------------------------
    async def join(self, group: str, sock: LiveSocket) -> None:
        self.groups[group].add(sock)
        if group not in self.subscribed and self.layer is not None:
            async with self.lock:
                if group not in self.subscribed:
                    await self.layer.group_add(group, self.channel)
                    self.subscribed.add(group)

    def leave(self, group: str, sock: LiveSocket) -> None:
        members = self.groups.get(group)
        if members is not None:
            members.discard(sock)
        # The subscription stays until housekeeping finds the group empty for a while, so a
        # quick reconnect never races an unsubscribe.

    def seen_seq(self, group: str) -> int:
        """The seq of the newest event of ``group`` this hub has received (0: none yet); a state
        built at seq S is current here while this is at most S (``public.Snapshots``)."""
        return self.last_seq.get(group, 0)

    def local_count(self, group: str) -> int:
        return len(self.groups.get(group, ()))

    def all_sockets(self) -> set[LiveSocket]:
        result: set[LiveSocket] = set()
        for members in self.groups.values():
            result |= members
        return result

    async def rejoin_all(self) -> set[str]:
        """Join the control, heartbeat and every followed group again; return the groups."""
        await self.layer.group_add(CONTROL_GROUP, self.channel)
        await self.layer.group_add(self.recovery.watch_group, self.channel)
        async with self.lock:  # not while housekeeping drops an empty group or a socket joins one
            groups = self.subscribed | {group for group, members in self.groups.items() if members}
            for group in sorted(groups):
                await self.layer.group_add(group, self.channel)
            self.subscribed |= groups
        return groups

    # the channel layer's messages ------------------------------------------------------------
    def dispatch(self, message: dict) -> None:
        kind = message.get("type")
        if kind == "live.frame":
            self.fan_out(
                message["group"],
                message["stream"],
                message["seq"],
                message["text"],
                narrow=message.get("narrow"),
            )
        elif kind == "live.control":
            self.control(message)
        elif kind == "live.watch":
            self.recovery.heard(int(message.get("nonce") or 0))

    def fan_out(self, group: str, stream: str, seq: int, text: str, *, narrow: str | None = None) -> int:
        """Write one pre-framed message to every local socket of ``group``; return how many.

        ``narrow`` (framed once too) goes instead to sockets that may not open closed-session papers."""
        if seq > self.last_seq.get(group, 0):
            self.last_seq[group] = seq
        members = self.groups.get(group)
        if not members:
            return 0
        prepared = daphne_adapter.prepare(text)
        narrow_prepared = daphne_adapter.prepare(narrow) if narrow is not None else None
        self.frames += 1
        count = 0
        for sock in tuple(members):
            try:
                if narrow is not None and not sock.reads_closed_session:
                    sock.deliver(stream, seq, narrow, narrow_prepared)
                else:
                    sock.deliver(stream, seq, text, prepared)
                count += 1
            except Exception:
                logger.exception("live hub: delivery failed")
        self.delivered += count
        return count

    def control(self, message: dict) -> None:
        action = message.get("action")
        if action == "close_user":
            user_id = message.get("user_id")
            for sock in self.all_sockets():
                if sock.user_id is not None and sock.user_id == user_id:
                    sock.close_from_hub(CLOSE_SIGNED_OUT)
        elif action in _control_handlers:
            _control_handlers[action](message)

    def announce(self, action: str, **data: Any) -> None:
        """Tell every process's hub (this one included) through the control group; best effort:
        with the layer unreachable, only this process knows."""
        if self.layer is None:
            _control_handlers[action]({"action": action, **data})
            return

        async def send() -> None:
            try:
                await self.layer.group_send(CONTROL_GROUP, {"type": "live.control", "action": action, **data})
            except Exception as exc:
                self.stop_if_cancelled()
                logger.warning("live hub: could not announce %s (%s)", action, brief(exc))

        self.keep_task(self.loop.create_task(send()))

    # recovery (see ``recovery``) ---------------------------------------------------------------
    @property
    def restores(self) -> int:
        return self.recovery.restores

    async def restore(self, why: str) -> None:
        await self.recovery.restore(why)

    def resync_all(self) -> None:
        self.recovery.resync_all()

    # presence (see ``presence``) ---------------------------------------------------------------
    def presence_open(self, *, key: str, sitting_id: int, user_id: int) -> None:
        self.presence.opened(key=key, sitting_id=sitting_id, user_id=user_id)

    def presence_follow(self, *, key: str, sitting_id: int, following: bool, page: int | None) -> None:
        self.presence.followed(key=key, sitting_id=sitting_id, following=following, page=page)

    def presence_close(self, *, key: str, sitting_id: int) -> None:
        self.presence.closed(key=key, sitting_id=sitting_id)

    async def flush_presence_now(self) -> None:
        await self.presence.flush_now()

    # housekeeping --------------------------------------------------------------------------
    async def _housekeeping_loop(self) -> None:
        empty_since: dict[str, float] = {}
        while True:
            self.stop_if_cancelled()
            await asyncio.sleep(HOUSEKEEPING_SECONDS)
            try:
                if self.layer is not None:
                    await self._refresh_subscriptions(empty_since)
                await self.presence.refresh()
                await access.recheck(self.all_sockets())
            except asyncio.CancelledError:
                raise
            except Exception:
                self.stop_if_cancelled()
                logger.exception("live hub: housekeeping failed")

    async def _refresh_subscriptions(self, empty_since: dict[str, float]) -> None:
        """Re-add every group (refreshing its expiry); leave those empty for a while."""
        now = time.monotonic()
        await self.layer.group_add(CONTROL_GROUP, self.channel)
        await self.layer.group_add(self.recovery.watch_group, self.channel)
        for group in list(self.subscribed):
            if self.groups.get(group):
                empty_since.pop(group, None)
                await self.layer.group_add(group, self.channel)
            elif now - empty_since.setdefault(group, now) > UNSUBSCRIBE_AFTER_S:
                async with self.lock:
                    if not self.groups.get(group):
                        await self.layer.group_discard(group, self.channel)
                        self.subscribed.discard(group)
                        empty_since.pop(group, None)

    # stopping --------------------------------------------------------------------------------
    def stop_if_cancelled(self) -> None:
        """Checked after errors and at the top of every loop: a cancellation that a client library
        turned into an error (redis-py's timeouts can) or swallowed (Python 3.11's ``wait_for`` when
        the awaited thing finishes at the same moment) must not keep the loop alive and hang
        shutdown."""
        if self.stopping or _being_cancelled():
            raise asyncio.CancelledError from None

    def cancel_all(self) -> None:
        self.stopping = True
        for task in [*self.tasks, self.recovery.resync_task]:
            if task is not None:
                task.cancel()
        self.tasks.clear()
        self.presence.stop()

    async def stop(self) -> None:
        self.cancel_all()


def _being_cancelled() -> bool:
    task = asyncio.current_task()
    return bool(task is not None and task.cancelling())


_hub: Hub | None = None


async def get_hub() -> Hub:
    """This process's hub on the running event loop (a new loop, e.g. in tests, gets a new hub)."""
    global _hub
    loop = asyncio.get_running_loop()
    if _hub is None or _hub.loop is not loop or loop.is_closed():
        _hub = Hub()
    await _hub.start()
    return _hub


def current_hub() -> Hub | None:
    return _hub


def reset_hub() -> None:
    """Forget the hub (tests call this between event loops)."""
    global _hub
    if _hub is not None:
        _hub.cancel_all()
    _hub = None


def close_user_sockets(user_id: int) -> None:
    """Close every live socket of a user on every process (sign-out, lost access). Sync, after commit."""
    from asgiref.sync import async_to_sync

    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(
            CONTROL_GROUP, {"type": "live.control", "action": "close_user", "user_id": user_id}
        )
    except Exception:
        logger.exception("live: could not ask processes to close sockets of user %s", user_id)
