"""Fan-out: one channel-layer message per event and process, one pre-framed write per socket.

Each server process runs one ``Hub`` (created on the first live connection, on the running event
loop). The hub owns the process's only channel-layer channel for live traffic: it subscribes that
channel to the groups of the sittings and audiences its local sockets follow (``live.s12.members``
…), so a page turn published once (``meetings.events.publish``) reaches each process exactly once,
however many followers it serves. The hub then frames the pre-encoded text once (an autobahn
``PreparedMessage``) and hands the same bytes to every local socket of that group.

Per-socket work on this hot path is only writing bytes: under daphne, the socket's autobahn
protocol is found behind the ASGI ``send`` callable and ``sendPreparedMessage`` writes the frame
to its transport. Under any other ASGI server (and ``WebsocketCommunicator`` in tests) each socket
falls back to an ordinary ASGI ``websocket.send`` through a small per-socket outbox.

A socket that stops reading is closed once its unsent bytes pass ``MAX_BUFFER`` (the others are
never waited for). The hub also listens on a control group for sign-outs and revoked access, and
keeps its group subscriptions and presence rows fresh.

Redis keeps no data across a restart, so the hub's group subscriptions vanish with it, and events
published meanwhile never arrive. The hub notices either way: its receive fails (it then backs off
and retries), or its own heartbeat, sent through the layer to a group only it joins, does not come
back. It then joins every group again and sends each local socket a fresh full state.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any, Protocol

from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

CONTROL_GROUP = "live.control"
# Unsent bytes per socket before it counts as a stalled reader (the environment may lower it for tests).
MAX_BUFFER = int(os.environ.get("COUNCIL_LIVE_MAX_BUFFER", str(1024 * 1024)))
MAX_OUTBOX = 500  # messages queued per socket on the generic (non-daphne) path
# Optional cap on the kernel's send buffer per socket (bytes): bounds the memory a stalled tablet can
# hold and makes a stalled reader visible sooner. Unset: the kernel autotunes (up to tcp_wmem's max).
SOCKET_SNDBUF = int(os.environ.get("COUNCIL_LIVE_SNDBUF", "0"))
HOUSEKEEPING_SECONDS = 30.0
RETRY_FIRST, RETRY_MAX = 0.1, 2.0  # backoff while the channel layer is unreachable (seconds)
DROP_POOLS_EVERY = 5  # failed restores in a row before the layer's pooled connections are dropped
# The hub's heartbeat through the layer: it catches subscriptions lost without a receive error
# (a Redis restart hidden by redis-py's reconnect-and-retry, a flush, an eviction).
WATCH_SECONDS = 5.0
WATCH_TIMEOUT = 5.0
RESYNC_CONCURRENCY = 32


class LocalSocket(Protocol):
    user_id: int | None

    def deliver(self, stream: str, seq: int, text: str, prepared: Any) -> None: ...

    def close_from_hub(self, code: int) -> None: ...

    async def send_state(self) -> None: ...


# --- finding daphne's protocol behind the ASGI send ---------------------------------------------


def autobahn_protocol(send) -> Any | None:
    """The daphne/autobahn WebSocket protocol behind an ASGI ``send`` callable, or None.

    daphne passes ``functools.partial(server.handle_reply, protocol)``; channels' session
    middleware wraps it in a bound method whose instance keeps it as ``real_send``.
    """
    try:
        from autobahn.websocket.protocol import WebSocketProtocol
    except ImportError:  # pragma: no cover - daphne always brings autobahn
        return None
    current = send
    for _ in range(8):
        if isinstance(current, functools.partial):
            args = current.args
            if len(args) == 1 and isinstance(args[0], WebSocketProtocol):
                return args[0]
            return None
        owner = getattr(current, "__self__", None)
        if owner is not None and hasattr(owner, "real_send"):
            current = owner.real_send
            continue
        return None
    return None


def buffered_bytes(protocol) -> int:
    """Bytes written to the socket's transport and not yet sent (0 when unknown)."""
    transport = getattr(protocol, "transport", None)
    try:
        return len(transport.dataBuffer) - transport.offset + transport._tempDataLen
    except AttributeError:
        return 0


class FrameWriter:
    """Writes a pre-framed WebSocket message to one daphne socket as cheaply as possible.

    Twisted buffers every ``transport.write`` and sends on the next reactor turn, which costs two
    epoll changes and a callback per socket. When nothing is waiting in the transport's buffer we
    send straight on the (non-blocking) socket, as asyncio transports do, and hand only an unsent
    remainder to Twisted, which then keeps the order. Anything unusual (TLS started on the
    transport, compression negotiated, autobahn's own send queue in use) takes autobahn's
    ``sendPreparedMessage``.
    """

    __slots__ = ("protocol", "transport", "sock", "direct")

    def __init__(self, protocol) -> None:
        self.protocol = protocol
        self.transport = getattr(protocol, "transport", None)
        self.sock = getattr(self.transport, "socket", None)
        if SOCKET_SNDBUF and self.sock is not None:
            import socket

            try:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_SNDBUF)
            except OSError:
                pass
        self.direct = (
            self.sock is not None
            and not getattr(self.transport, "TLS", True)
            and getattr(protocol, "_perMessageCompress", None) is None
            and hasattr(self.transport, "_tempDataLen")
        )

    def is_open(self) -> bool:
        return self.protocol.state == self.protocol.STATE_OPEN

    def write(self, prepared) -> bool:
        """Write one prepared frame; False when the socket is stalled (too much unsent)."""
        protocol = self.protocol
        if protocol.state != protocol.STATE_OPEN:
            return True
        transport = self.transport
        if not self.direct or protocol.send_queue:
            if buffered_bytes(protocol) > MAX_BUFFER:
                return False
            protocol.sendPreparedMessage(prepared)
            return True
        pending = len(transport.dataBuffer) - transport.offset + transport._tempDataLen
        data = prepared.payloadHybi
        if pending:
            if pending > MAX_BUFFER:
                return False
            transport.write(data)
            return True
        if not transport.connected or transport.disconnecting:
            return True
        try:
            sent = self.sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            return True  # the connection is going away; Twisted will notice and clean up
        if sent < len(data):
            transport.write(data[sent:])
        return True


def prepare(text: str) -> Any:
    """Frame a text message once for many sockets (autobahn's broadcast optimization)."""
    try:
        from autobahn.websocket.protocol import PreparedMessage
    except ImportError:  # pragma: no cover
        return None
    return PreparedMessage(text.encode("utf-8"), False, False, False)


# --- the hub ------------------------------------------------------------------------------------


# Other modules' control actions, e.g. the consumers' flood cool-down shared by every process.
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
        self.groups: dict[str, set[LocalSocket]] = defaultdict(set)
        self.subscribed: set[str] = set()
        self.lock = asyncio.Lock()
        self.tasks: list[asyncio.Task] = []
        self.started = False
        self.delivered = 0
        self.frames = 0
        self._presence_dirty: set[int] = set()
        self._presence_ops: dict[str, dict] = {}
        self._presence_task: asyncio.Task | None = None
        self.stopping = False
        self.watch_group = f"live.hub.{self.server_id}"
        self._restore_lock = asyncio.Lock()
        self._receive_failing = False
        self._watch_sent = 0
        self._watch_seen = 0
        self._watch_back: asyncio.Event | None = None
        self._resync_task: asyncio.Task | None = None
        self._resync_wanted = False
        self.restores = 0  # times the subscriptions were restored (tests, diagnostics)

    async def start(self) -> None:
        if self.started:
            return
        self.started = True
        if self.layer is not None:
            self.channel = await self.layer.new_channel()
            # The loops first: if Redis is down right now, the joins below fail (and so does this
            # first connection), but the loops restore them once it answers.
            self.tasks.append(self.loop.create_task(self._receive_loop()))
            self.tasks.append(self.loop.create_task(self._watch_loop()))
        self.tasks.append(self.loop.create_task(self._housekeeping_loop()))
        if self.layer is not None:
            await self.layer.group_add(CONTROL_GROUP, self.channel)
            await self.layer.group_add(self.watch_group, self.channel)

    # membership ----------------------------------------------------------------------------
    async def join(self, group: str, sock: LocalSocket) -> None:
        self.groups[group].add(sock)
        if group not in self.subscribed and self.layer is not None:
            async with self.lock:
                if group not in self.subscribed:
                    await self.layer.group_add(group, self.channel)
                    self.subscribed.add(group)

    def leave(self, group: str, sock: LocalSocket) -> None:
        members = self.groups.get(group)
        if members is not None:
            members.discard(sock)
        # The subscription stays until housekeeping finds the group empty for a while, so a
        # quick reconnect never races an unsubscribe.

    def local_count(self, group: str) -> int:
        return len(self.groups.get(group, ()))

    # receiving -------------------------------------------------------------------------------
    async def _receive_loop(self) -> None:
        backoff = RETRY_FIRST
        failures = 0
        while True:
            self._stop_if_cancelled()
            try:
                message = await self._receive_one()
                backoff, failures = RETRY_FIRST, 0  # only now: a receive that keeps failing backs off
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # e.g. Redis restarting
                self._stop_if_cancelled()
                if not self._receive_failing:
                    logger.warning("live hub: receive failed (%s); restoring subscriptions", _brief(exc))
                self._receive_failing = True
                # Whatever Redis held may be gone (groups, queued events): join again and resync
                # every socket once it answers, backing off while it does not.
                while True:
                    self._stop_if_cancelled()
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, RETRY_MAX)
                    try:
                        await self.restore(f"receive failed: {_brief(exc)}")
                    except asyncio.CancelledError:
                        raise
                    except Exception as again:
                        self._stop_if_cancelled()
                        failures += 1
                        logger.warning("live hub: channel layer still unreachable (%s); next try in %.1fs",
                                       _brief(again), backoff)
                        if failures % DROP_POOLS_EVERY == 0:
                            await self._drop_pools()
                        continue
                    break
                self._receive_failing = False
                continue
            try:
                self.dispatch(message)
            except Exception:
                logger.exception("live hub: could not dispatch %r", message.get("type"))

    async def _receive_one(self) -> dict:
        """``layer.receive`` in a task of its own, so that cancelling the hub always ends it.

        redis-py sends each command under ``asyncio.wait_for``, which on Python 3.11 swallows a
        cancellation that arrives just as the send completes; channels_redis then keeps repeating
        its blocking read (BZPOPMIN) until a message comes, and shutdown would wait for ever.
        """
        receiving = self.loop.create_task(self.layer.receive(self.channel))
        try:
            return await asyncio.shield(receiving)
        except asyncio.CancelledError:
            _cancel_until_done(receiving)
            raise

    def _stop_if_cancelled(self) -> None:
        """Checked after errors and at the top of every loop: a cancellation that a client library
        turned into an error (redis-py's timeouts can) or swallowed (Python 3.11's ``wait_for`` when
        the awaited thing finishes at the same moment) must not keep the loop alive and hang
        shutdown."""
        if self.stopping or _being_cancelled():
            raise asyncio.CancelledError from None

    async def _drop_pools(self) -> None:
        """Drop the layer's pooled connections, so the next try starts from fresh ones."""
        close_pools = getattr(self.layer, "close_pools", None)
        if close_pools is None:
            return
        try:
            async with asyncio.timeout(5):
                await close_pools()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._stop_if_cancelled()
            logger.warning("live hub: could not drop the channel layer's connections (%s)", _brief(exc))

    # recovering from a lost channel layer --------------------------------------------------
    async def restore(self, why: str) -> None:
        """Join every group again (Redis keeps none across a restart), then send every local socket
        a fresh state: the events published while the subscriptions were gone never arrive.

        Raises when the layer is still unreachable; the caller retries.
        """
        async with self._restore_lock:
            await self.layer.group_add(CONTROL_GROUP, self.channel)
            await self.layer.group_add(self.watch_group, self.channel)
            async with self.lock:  # not while housekeeping drops an empty group or a socket joins one
                groups = self.subscribed | {group for group, members in self.groups.items() if members}
                for group in sorted(groups):
                    await self.layer.group_add(group, self.channel)
                self.subscribed |= groups
            self.restores += 1
        logger.warning("live hub: rejoined %d groups (%s); sending a fresh state to every socket",
                       len(groups), why)
        self.resync_all()

    def resync_all(self) -> None:
        """Send every local socket a fresh full state (in the background, a few at a time)."""
        self._resync_wanted = True
        if self._resync_task is None or self._resync_task.done():
            self._resync_task = self.loop.create_task(self._resync_loop())
            self.tasks = [task for task in self.tasks if not task.done()]
            self.tasks.append(self._resync_task)

    async def _resync_loop(self) -> None:
        limit = asyncio.Semaphore(RESYNC_CONCURRENCY)

        async def one(sock: LocalSocket) -> bool:
            async with limit:
                return await _resync_socket(sock)

        # Never cancelled half-way by a newer restore (a socket would keep holding its events):
        # a restore meanwhile asks for one more round instead.
        while self._resync_wanted:
            self._resync_wanted = False
            # Sign-outs and lost access announced while the layer was down never arrived.
            try:
                await self._recheck_access()
            except asyncio.CancelledError:
                raise
            except Exception:
                self._stop_if_cancelled()
                logger.exception("live hub: access recheck after a restore failed")
            started = time.monotonic()
            socks = list(self.all_sockets())
            sent = sum(await asyncio.gather(*(one(sock) for sock in socks)))
            logger.warning("live hub: fresh state sent to %d of %d sockets in %.1fs", sent, len(socks),
                           time.monotonic() - started)

    async def _watch_loop(self) -> None:
        """Send a heartbeat through the layer to ourselves; when it does not come back, restore."""
        while True:
            self._stop_if_cancelled()
            await asyncio.sleep(WATCH_SECONDS)
            if self._receive_failing:
                continue  # the receive loop is restoring already
            self._watch_sent += 1
            nonce, restores = self._watch_sent, self.restores
            self._watch_back = asyncio.Event()
            try:
                await self.layer.group_send(self.watch_group, {"type": "live.watch", "nonce": nonce})
                async with asyncio.timeout(WATCH_TIMEOUT):
                    await self._watch_back.wait()
                continue
            except asyncio.CancelledError:
                raise
            except TimeoutError:
                if self._watch_seen >= nonce:
                    continue
                why = f"own heartbeat not back within {WATCH_TIMEOUT:g}s"
            except Exception as exc:
                self._stop_if_cancelled()
                # Unreachable: the next heartbeat that gets through shows whether the groups survived.
                logger.warning("live hub: heartbeat not sent (%s)", _brief(exc))
                continue
            if self._receive_failing or self.restores != restores:
                continue  # restored meanwhile (the heartbeat may have been lost on the way)
            try:
                await self.restore(why)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._stop_if_cancelled()
                logger.warning("live hub: could not restore subscriptions (%s); trying again soon", _brief(exc))

    def dispatch(self, message: dict) -> None:
        kind = message.get("type")
        if kind == "live.frame":
            self.fan_out(message["group"], message["stream"], message["seq"], message["text"])
        elif kind == "live.control":
            self.control(message)
        elif kind == "live.watch":
            self._watch_seen = max(self._watch_seen, int(message.get("nonce") or 0))
            if self._watch_back is not None and self._watch_seen >= self._watch_sent:
                self._watch_back.set()

    def fan_out(self, group: str, stream: str, seq: int, text: str) -> int:
        """Write one pre-framed message to every local socket of ``group``; return how many."""
        members = self.groups.get(group)
        if not members:
            return 0
        prepared = prepare(text)
        self.frames += 1
        count = 0
        for sock in tuple(members):
            try:
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
                    sock.close_from_hub(4401)
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
                self._stop_if_cancelled()
                logger.warning("live hub: could not announce %s (%s)", action, _brief(exc))

        task = self.loop.create_task(send())
        self.tasks = [t for t in self.tasks if not t.done()]
        self.tasks.append(task)

    def all_sockets(self) -> set[LocalSocket]:
        result: set[LocalSocket] = set()
        for members in self.groups.values():
            result |= members
        return result

    # presence ----------------------------------------------------------------------------
    # Who is connected is written in batches (once a second per process, one transaction), so a
    # hundred tablets connecting at once cost the database one write, not a hundred.
    def presence_open(self, *, key: str, sitting_id: int, user_id: int) -> None:
        self._presence_ops[key] = {"op": "open", "sitting": sitting_id, "user": user_id, "following": True,
                                   "page": None}
        self.presence_changed(sitting_id)

    def presence_follow(self, *, key: str, sitting_id: int, following: bool, page: int | None) -> None:
        op = self._presence_ops.get(key)
        if op is not None and op["op"] == "open":
            op.update(following=following, page=page)
        else:
            self._presence_ops[key] = {"op": "update", "sitting": sitting_id, "following": following, "page": page}
        self.presence_changed(sitting_id)

    def presence_close(self, *, key: str, sitting_id: int) -> None:
        op = self._presence_ops.get(key)
        if op is not None and op["op"] == "open":
            del self._presence_ops[key]  # opened and closed within one batch: nothing to write
        else:
            self._presence_ops[key] = {"op": "close", "sitting": sitting_id}
        self.presence_changed(sitting_id)

    def presence_changed(self, sitting_id: int) -> None:
        """Tell clerk consoles (debounced, once a second per process) that presence changed."""
        self._presence_dirty.add(sitting_id)
        if self._presence_task is None or self._presence_task.done():
            self._presence_task = self.loop.create_task(self._flush_presence())

    async def _flush_presence(self, delay: float = 1.0) -> None:
        from channels.db import database_sync_to_async

        while True:
            await asyncio.sleep(delay)
            dirty, self._presence_dirty = self._presence_dirty, set()
            ops, self._presence_ops = self._presence_ops, {}
            try:
                await database_sync_to_async(_write_presence)(self.server_id, ops, sorted(dirty))
            except Exception:
                logger.exception("live hub: presence for sittings %s", sorted(dirty))
            if not self._presence_dirty:  # changes made while writing go in the next batch
                return

    async def flush_presence_now(self) -> None:
        """Write pending presence at once (tests, shutdown)."""
        if self._presence_task is not None and not self._presence_task.done():
            self._presence_task.cancel()
        await self._flush_presence(delay=0)

    # housekeeping --------------------------------------------------------------------------
    async def _housekeeping_loop(self) -> None:
        from channels.db import database_sync_to_async

        empty_since: dict[str, float] = {}
        while True:
            self._stop_if_cancelled()
            await asyncio.sleep(HOUSEKEEPING_SECONDS)
            try:
                now = time.monotonic()
                if self.layer is not None:
                    # Re-adding refreshes the group's expiry.
                    await self.layer.group_add(CONTROL_GROUP, self.channel)
                    await self.layer.group_add(self.watch_group, self.channel)
                    for group in list(self.subscribed):
                        if self.groups.get(group):
                            empty_since.pop(group, None)
                            await self.layer.group_add(group, self.channel)
                        elif now - empty_since.setdefault(group, now) > 120:
                            async with self.lock:
                                if not self.groups.get(group):
                                    await self.layer.group_discard(group, self.channel)
                                    self.subscribed.discard(group)
                                    empty_since.pop(group, None)
                await database_sync_to_async(_refresh_presence)(self.server_id)
                await self._recheck_access()
            except asyncio.CancelledError:
                raise
            except Exception:
                self._stop_if_cancelled()
                logger.exception("live hub: housekeeping failed")

    async def _recheck_access(self) -> None:
        """Close sockets of users who lost access (one check per user and sitting), and of
        sessions that ended (signed out) without the hub hearing of it, e.g. while Redis was down."""
        from channels.db import database_sync_to_async

        pairs: dict[tuple[int, int], list[LocalSocket]] = defaultdict(list)
        sessions: dict[str, list[LocalSocket]] = defaultdict(list)
        for sock in self.all_sockets():
            if getattr(sock, "user_id", None) is not None and not getattr(sock, "public", False):
                pairs[(sock.user_id, sock.sitting_id)].append(sock)
                key = _session_key(sock)
                if key:
                    sessions[key].append(sock)
        if not pairs:
            return
        allowed, alive = await database_sync_to_async(_access_now)(list(pairs), set(sessions))
        for key, socks in sessions.items():
            if key not in alive:
                for sock in socks:
                    sock.close_from_hub(4401)
        for pair, socks in pairs.items():
            if not allowed.get(pair, False):
                for sock in socks:
                    sock.close_from_hub(4403)

    async def stop(self) -> None:
        self.stopping = True
        for task in self.tasks:
            task.cancel()
        self.tasks.clear()


async def _resync_socket(sock: LocalSocket) -> bool:
    """Send one socket a fresh state; False when it is gone or the state could not be built."""
    send_state = getattr(sock, "send_state", None)
    if send_state is None:
        return False
    # A state already on its way (a socket still connecting, or answering its state.request) may
    # have been read before the groups were joined again: let it finish, then send a newer one.
    # (Two states built at once for one socket would each claim the events held meanwhile.)
    deadline = time.monotonic() + 10
    while getattr(sock, "_pending", None) is not None and time.monotonic() < deadline:
        if getattr(sock, "_closed", False):
            return False
        await asyncio.sleep(0.05)
    if getattr(sock, "_closed", False):
        return False
    try:
        await send_state()
    except asyncio.CancelledError:
        raise
    except Exception:
        logger.warning("live hub: could not send a fresh state to a socket", exc_info=True)
        return False
    return True


def _cancel_until_done(task: asyncio.Task, tries: int = 100) -> None:
    """Cancel a task, and again every 0.1 s (up to ``tries`` times) while a library swallows it."""
    if task.done():
        return
    if tries == 100:
        task.add_done_callback(lambda t: t.cancelled() or t.exception())  # nobody awaits it now
    task.cancel()
    if tries > 1:
        task.get_loop().call_later(0.1, _cancel_until_done, task, tries - 1)


def _brief(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:200]


def _write_presence(server_id: str, ops: dict[str, dict], sittings: list[int]) -> None:
    """Apply a batch of connection changes and tell each sitting's console, in one transaction."""
    from django.db import transaction
    from django.utils import timezone

    from meetings.events import publish
    from meetings.live import selectors
    from meetings.live.models import LiveConnection

    now = timezone.now()
    with transaction.atomic():
        opened = [LiveConnection(sitting_id=op["sitting"], user_id=op["user"], server=server_id, key=key,
                                 following=op["following"], page=op["page"], connected_at=now, seen_at=now)
                  for key, op in ops.items() if op["op"] == "open"]
        if opened:
            LiveConnection.objects.bulk_create(opened, ignore_conflicts=True)
        closed = [key for key, op in ops.items() if op["op"] == "close"]
        if closed:
            LiveConnection.objects.filter(key__in=closed).delete()
        for key, op in ops.items():
            if op["op"] == "update":
                LiveConnection.objects.filter(key=key).update(following=op["following"], page=op["page"], seen_at=now)
        for sitting_id in sittings:
            publish(sitting_id=sitting_id, type="presence.changed", audience="clerks",
                    payload={"connections": selectors.connections(sitting_id=sitting_id)})


def _refresh_presence(server_id: str) -> None:
    import datetime

    from django.utils import timezone

    from meetings.live.models import LiveConnection

    now = timezone.now()
    LiveConnection.objects.filter(server=server_id).update(seen_at=now)
    LiveConnection.objects.filter(seen_at__lt=now - datetime.timedelta(hours=1)).delete()


def _session_key(sock) -> str | None:
    session = (getattr(sock, "scope", None) or {}).get("session")
    return getattr(session, "session_key", None)


def _sessions_alive(keys: set[str]) -> set[str]:
    """Which of these sessions still exist (a signed-out session is deleted)."""
    from importlib import import_module

    from django.conf import settings
    from django.utils import timezone

    if not keys:
        return set()
    if settings.SESSION_ENGINE in ("django.contrib.sessions.backends.db",
                                   "django.contrib.sessions.backends.cached_db"):
        from django.contrib.sessions.models import Session

        return set(Session.objects.filter(session_key__in=keys, expire_date__gt=timezone.now())
                   .values_list("session_key", flat=True))
    store = import_module(settings.SESSION_ENGINE).SessionStore
    return {key for key in keys if store().exists(key)}


def _access_now(pairs: list[tuple[int, int]], session_keys: set[str]):
    return _still_allowed(pairs), _sessions_alive(session_keys)


def _still_allowed(pairs: list[tuple[int, int]]) -> dict[tuple[int, int], bool]:
    from django.contrib.auth import get_user_model

    from meetings.live.permissions import can_follow
    from meetings.models import Sitting

    User = get_user_model()
    users = {u.pk: u for u in User.objects.filter(pk__in={p[0] for p in pairs}).select_related("person")}
    sittings = {s.pk: s for s in Sitting.objects.filter(pk__in={p[1] for p in pairs}).select_related("body")}
    result = {}
    for user_id, sitting_id in pairs:
        user, sitting = users.get(user_id), sittings.get(sitting_id)
        result[(user_id, sitting_id)] = bool(user and sitting and can_follow(user, sitting))
    return result


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


def _being_cancelled() -> bool:
    task = asyncio.current_task()
    return bool(task is not None and task.cancelling())


def reset_hub() -> None:
    """Forget the hub (tests call this between event loops)."""
    global _hub
    if _hub is not None:
        _hub.stopping = True
        for task in [*_hub.tasks, _hub._presence_task, _hub._resync_task]:
            if task is not None:
                task.cancel()
    _hub = None


def close_user_sockets(user_id: int) -> None:
    """Close every live socket of a user on every process (sign-out, lost access). Sync, after commit."""
    from asgiref.sync import async_to_sync

    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(CONTROL_GROUP, {"type": "live.control", "action": "close_user",
                                                        "user_id": user_id})
    except Exception:
        logger.exception("live: could not ask processes to close sockets of user %s", user_id)
