"""The public view's socket (傍聴, ``/ws/public/sittings/<id>/``): a crowd of anonymous followers.

A contested sitting can draw thousands of residents at once, and every one of them receives exactly
the same thing: the public stream. So a public follower is kept as small and as cheap as possible:

* **No per-socket work on the database thread.** Whether the sitting may be watched and the full
  public state are built together, once, as a ``Snapshot`` (one trip to the database thread), encoded
  and framed once, and written as the same bytes to every public socket that arrives while it is
  current. It is current while no newer public event has reached this process's hub since it was
  built (every change the public may see is published on the public stream, so state + events =
  a fresh state), the hub has not lost its subscriptions meanwhile, and for at most
  ``SNAPSHOT_SECONDS`` (edits published nowhere, such as a sitting closed to the public, show up
  that soon). Sockets arriving while a snapshot is being built wait for that build.
* **No session, no user.** The route skips the session and authentication middleware
  (``council/asgi.py``): the public view needs neither, and each lookup is a trip to the database
  thread.
* **No pretty-printing per handshake** (``daphne_adapter.lighten_autobahn``, applied by admission
  control in front of every socket).
* **A small object per socket.** ``PublicSocket`` (slots) holds the sitting, its transport, the
  events held while its state is on the way, and the language of its error messages; no consumer
  instance, no channel-layer channel, no copy of the state.

The socket speaks the same protocol as the members' endpoint, limited to what the public may send
(``ping``, ``state.request``, ``follow``; ``meetings.live.protocol``), under the same flood guard
(``transport``), and is fed by the same hub (``fanout``) through ``sockets.LiveSocket``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from channels.db import database_sync_to_async

from meetings.events import encode, group_name
from meetings.live import admission, daphne_adapter, fanout
from meetings.live.socketbase import SocketBase
from meetings.live.sockets import CLOSE_FLOOD, CLOSE_STALLED
from meetings.live.transport import Transport, flood_cooldowns

logger = logging.getLogger(__name__)

SNAPSHOT_SECONDS = 2.0
STREAM = "public"
CLOSE_FORBIDDEN_HTTP = 4403  # before accept, daphne answers any close with HTTP 403


class Snapshot:
    """Whether a sitting may be watched, and its public state encoded and framed once."""

    __slots__ = ("allowed", "seq", "text", "prepared", "expires", "epoch")

    def __init__(self, *, allowed: bool, state: dict | None, epoch: int) -> None:
        self.allowed = allowed
        self.seq = state["seq"] if state else 0
        self.text = encode(state) if state else ""
        self.prepared = daphne_adapter.prepare(self.text) if state else None
        self.expires = time.monotonic() + SNAPSHOT_SECONDS
        self.epoch = epoch


def _build(sitting_id: int) -> tuple[bool, dict | None]:
    """(may the public watch it, its public state) in one trip to the database thread (sync)."""
    from django.contrib.auth.models import AnonymousUser

    from meetings.live.permissions import can_watch_public
    from meetings.live.state import build_state
    from meetings.models import Sitting

    sitting = Sitting.objects.filter(pk=sitting_id).only("pk", "is_public", "status").first()
    if sitting is None or not can_watch_public(sitting):
        return False, None
    return True, build_state(sitting_id=sitting_id, audience=STREAM, user=AnonymousUser(), streams=(STREAM,))


class Snapshots:
    """The current public snapshot of each sitting followed on this process, per hub."""

    def __init__(self) -> None:
        self.hub: fanout.Hub | None = None
        self.current: dict[int, Snapshot] = {}
        self.building: dict[int, asyncio.Future] = {}
        self.builds = 0  # how many were built (tests, diagnostics)

    def _valid(self, snap: Snapshot | None, hub: fanout.Hub, group: str) -> bool:
        return (
            snap is not None
            and snap.epoch == hub.restores
            and hub.seen_seq(group) <= snap.seq
            and time.monotonic() < snap.expires
        )

    async def get(self, hub: fanout.Hub, sitting_id: int) -> Snapshot:
        """A snapshot current for a socket that has joined the sitting's public group already."""
        if hub is not self.hub:
            self.hub, self.current, self.building = hub, {}, {}
        group = group_name(sitting_id, STREAM)
        for _attempt in range(5):
            snap = self.current.get(sitting_id)
            if self._valid(snap, hub, group):
                return snap
            pending = self.building.get(sitting_id)
            if pending is None:
                pending = hub.loop.create_future()
                self.building[sitting_id] = pending
                hub.keep_task(hub.loop.create_task(self._build_into(hub, sitting_id, pending)))
            snap = await asyncio.shield(pending)
            # A build started before this socket joined may miss an event that arrived in between:
            # then it is not current for this socket, and the next round builds a newer one.
            if self._valid(snap, hub, group) or not snap.allowed:
                return snap
        return snap

    async def _build_into(self, hub: fanout.Hub, sitting_id: int, pending: asyncio.Future) -> None:
        epoch = hub.restores
        try:
            allowed, state = await database_sync_to_async(_build)(sitting_id)
            snap = Snapshot(allowed=allowed, state=state, epoch=epoch)
            self.builds += 1
            if not (state or {}).get("incomplete"):  # a part failed: for the waiters only, not shared
                self.current[sitting_id] = snap
            pending.set_result(snap)
        except asyncio.CancelledError:
            pending.cancel()
            raise
        except Exception as exc:
            pending.set_exception(exc)
            pending.exception()  # retrieved: the waiters re-raise it
        finally:
            if self.building.get(sitting_id) is pending:
                del self.building[sitting_id]


snapshots = Snapshots()


class PublicSocket(SocketBase):
    """One public follower as the hub sees it (``sockets.LiveSocket``)."""

    __slots__ = ("sitting_id", "group", "transport", "_held", "floor", "lang", "hub", "__weakref__")

    user_id = None
    public = True
    reads_closed_session = False
    session_key = None

    def __init__(self, sitting_id: int, send, lang: str) -> None:
        self.sitting_id = sitting_id
        self.group = group_name(sitting_id, STREAM)
        self.lang = lang
        self._held: list | None = []  # events held while a state is on its way (None: not holding)
        self.floor = 0  # the seq of the last state sent: older events are dropped
        self.hub: fanout.Hub | None = None
        self.transport = Transport(send, on_flood_warn=self._flood_warn, on_flood_close=self._flood_close)

    @property
    def closed(self) -> bool:
        return self.transport.closed

    def deliver(self, stream: str, seq: int, text: str, prepared: Any) -> None:
        if self._held is not None:
            self._held.append((stream, seq, text, prepared))
            return
        if seq <= self.floor:
            return
        if not self.transport.send_frame(text, prepared):
            self.close_from_hub(CLOSE_STALLED)

    def close_from_hub(self, code: int) -> None:
        if self.transport.closed:
            return
        self.leave()
        self.transport.close(code, abort=code == CLOSE_STALLED)

    def leave(self) -> None:
        if self.hub is not None:
            self.hub.leave(self.group, self)

    async def send_state(self, re: Any = None, snap: Snapshot | None = None) -> None:
        """Send a current snapshot (shared bytes; its own copy only to answer a request ``re``),
        then the events held meanwhile that are newer."""
        self._held = self._held if self._held is not None else []
        try:
            if snap is None:
                snap = await snapshots.get(self.hub, self.sitting_id)
        except BaseException:
            self._held = None
            raise
        held, self._held = self._held or [], None
        if re is None:
            ok = self.transport.send_frame(snap.text, snap.prepared)
        else:
            ok = self.transport.send_text(snap.text[:-1] + ',"re":' + encode(re) + "}")
        if not ok:
            self.close_from_hub(CLOSE_STALLED)
            return
        self.floor = max(self.floor, snap.seq)
        for stream, seq, text, prepared in held:
            self.deliver(stream, seq, text, prepared)

    def _flood_close(self) -> None:
        if self.closed:
            return
        # Anonymous: no user to refuse later (the proxy limits addresses); cut this socket off.
        logger.warning("live: closed a flooding public socket (sitting %s)", self.sitting_id)
        self.leave()
        self.transport.cut_off(CLOSE_FLOOD)

    async def on_text(self, text: str | None) -> None:
        read = self._read(text)
        if read is None:
            return
        _entry, message = read
        kind, msg_id = message["type"], message.get("id")
        re = {"re": msg_id} if msg_id is not None else {}
        if kind == "state.request":
            await self.send_state(re=msg_id)
        elif kind == "ping":
            self.send_json({"type": "pong", **re})
        elif re:  # follow, the only other public message: nothing to record for the public
            self.send_json({"type": "ack", "for": kind, **re})


def _session_user_id(session_key: str) -> int | None:
    """The user signed in with this session, if any (sync)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import SESSION_KEY

    value = import_module(settings.SESSION_ENGINE).SessionStore(session_key).get(SESSION_KEY)
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


async def _cut_off(scope) -> bool:
    """Whether the socket comes with the session of a user cut off for flooding (``transport``):
    they are refused here too. Looked up only while someone is cut off at all."""
    from django.conf import settings

    if not flood_cooldowns.active():
        return False
    session_key = (scope.get("cookies") or {}).get(settings.SESSION_COOKIE_NAME)
    if not session_key:
        return False
    return flood_cooldowns.refuses(await database_sync_to_async(_session_user_id)(session_key))


class PublicFollower:
    """The ASGI application of ``/ws/public/sittings/<id>/`` (one coroutine per socket)."""

    async def __call__(self, scope, receive, send) -> None:
        from meetings.live.consumers import language_from_scope

        sitting_id = int(scope["url_route"]["kwargs"]["sitting_id"])
        sock = PublicSocket(sitting_id, send, language_from_scope(scope))
        ticket = admission.ticket_of(scope)  # admission control's slot, held until the state is sent
        try:
            await self._handshake(scope, receive, send, sock, ticket)
        finally:
            if ticket is not None:
                ticket.done()  # refused, failed or gone (a no-op once served)
        del scope, ticket  # neither kept for the socket's lifetime
        if sock.hub is None or sock.closed:
            return
        try:
            while True:
                message = await receive()
                kind = message["type"]
                if kind == "websocket.receive":
                    await sock.on_text(message.get("text"))
                elif kind == "websocket.disconnect":
                    break
        finally:
            sock.transport.stop()
            sock.leave()

    async def _handshake(self, scope, receive, send, sock: PublicSocket, ticket) -> None:
        """Refuse or accept and send the state (``sock.hub`` stays None unless accepted)."""

        def gone() -> bool:  # the client left during the handshake: do nothing more for it
            return ticket is not None and not ticket.alive()

        if (await receive())["type"] != "websocket.connect":
            return
        if await _cut_off(scope):
            await send({"type": "websocket.close", "code": CLOSE_FLOOD})  # HTTP 403, before any query
            return
        if gone():
            return
        hub = await fanout.get_hub()
        sock.hub = hub
        await hub.join(sock.group, sock)  # before the snapshot: events from now on are held
        try:
            snap = await snapshots.get(hub, sock.sitting_id)
        except BaseException:
            sock.leave()
            sock.hub = None
            raise
        if not snap.allowed or gone():
            sock.leave()
            sock.hub = None
            if snap.allowed:
                return
            await send({"type": "websocket.close", "code": CLOSE_FORBIDDEN_HTTP})  # HTTP 403
            return
        sock.transport.guard_frames()  # before accept: no frame can arrive uncounted
        await send({"type": "websocket.accept"})
        sock.transport.opened()
        try:
            await sock.send_state(snap=snap)
        except BaseException:
            sock.transport.stop()
            sock.leave()
            raise
        if ticket is not None and not sock.closed:
            ticket.done(served=True)


public_follower = PublicFollower()
