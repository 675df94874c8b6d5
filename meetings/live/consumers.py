"""WebSocket consumers: ``/ws/sittings/<id>/`` for participants, ``/ws/public/sittings/<id>/`` (傍聴).

Thin by design: authenticate on connect, send the full state, validate each inbound message
against its schema (``protocol``), hand it to its handler (``dispatch``, in a worker thread), reply.
How bytes reach the socket and how floods are held off is the transport's business
(``transport``); broadcasts never pass through here one by one: the process's hub (``fanout``)
writes pre-framed events to the sockets through the interface they declare
(``sockets.LiveSocket``). The consumers have no channel-layer channel of their own (the hub holds
the only one per process), which keeps each idle follower small.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import OrderedDict
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import translation

from meetings.events import encode, group_name
from meetings.live import access, admission, dispatch, fanout, handshake, transport
from meetings.live.socketbase import SocketBase
from meetings.live.sockets import CLOSE_FLOOD, CLOSE_FORBIDDEN, CLOSE_SIGNED_OUT, CLOSE_STALLED  # noqa: F401
from meetings.live.transport import Transport, flood_cooldowns

logger = logging.getLogger(__name__)

ACCESS_RECHECK_S = 60.0


def language_from_scope(scope) -> str:
    cookies = scope.get("cookies") or {}
    candidates = [cookies.get(settings.LANGUAGE_COOKIE_NAME)]
    for name, value in scope.get("headers") or []:
        if name == b"accept-language":
            candidates += [
                lang for lang, _q in translation.trans_real.parse_accept_lang_header(value.decode("latin-1"))
            ]
    for code in candidates:
        if not code or code == "*":
            continue
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


fanout.register_control("flood_cooldown", flood_cooldowns.on_announced)

# States are shared by every socket of one view and sequence numbers (``handshake.states``): each
# is encoded once, not once per socket. Keyed by the state object, held while cached.
_encoded: OrderedDict[int, tuple[dict, str]] = OrderedDict()


def encoded_state(state: dict) -> str:
    hit = _encoded.get(id(state))
    if hit is not None and hit[0] is state:
        return hit[1]
    text = encode(state)
    _encoded[id(state)] = (state, text)
    while len(_encoded) > 64:
        _encoded.popitem(last=False)
    return text


class SittingConsumer(SocketBase, AsyncWebsocketConsumer):
    """Participants (members, secretariat, officials) of one sitting."""

    channel_layer_alias = "live-consumers-have-no-channel"  # not configured: no per-socket channel
    public = False

    # --- connection --------------------------------------------------------------------------
    async def connect(self) -> None:
        self.sitting_id = int(self.scope["url_route"]["kwargs"]["sitting_id"])
        user = self.scope.get("user")
        self.user_id = user.pk if getattr(user, "is_authenticated", False) else None
        self.lang = language_from_scope(self.scope)
        self.key = uuid.uuid4().hex
        self.hub = None
        self.streams: tuple[str, ...] = ()
        self.reads_closed_session = False
        self._held: list | None = []  # events held while a state is being built (None: not building)
        self._last_access_check = time.monotonic()
        self.following = True
        self._flood_user_id = self.user_id  # kept on the public view too, which forgets user_id
        self.ticket = admission.ticket_of(self.scope)
        self.transport = Transport(
            self.base_send, on_flood_warn=self._flood_warn, on_flood_close=self._flood_close
        )
        try:
            await self._handshake()
        finally:
            if self.ticket is not None:
                self.ticket.done()

    def _client_left(self) -> bool:
        """The client dropped or closed the socket during the handshake: do nothing more for it."""
        return self.ticket is not None and not self.ticket.alive()

    async def _handshake(self) -> None:
        """Every database stage is batched with the other handshakes of the moment, runs on the
        handshake threads (``handshake``), and is skipped once the client has left."""
        if flood_cooldowns.refuses(self._flood_user_id):
            await self.close(code=CLOSE_FLOOD)  # before any query or accept: an HTTP 403
            return
        if self._client_left():
            return
        grant = await self._authorize()
        if self._client_left():
            return
        if grant is None:
            await self.close(code=CLOSE_FORBIDDEN)  # before accept: an HTTP 403
            return
        self.streams, self.reads_closed_session = grant
        if self.public:
            self.user_id = None
        self.transport.guard_frames()  # before accept: no frame can arrive uncounted
        await self.accept()
        self.transport.opened()
        self.hub = await fanout.get_hub()
        for stream in self.streams:
            await self.hub.join(group_name(self.sitting_id, stream), self)
        if self._client_left():
            return
        await self.send_state()
        if self.closed:
            return
        if self.ticket is not None:
            self.ticket.done(served=True)
        if not self.public:
            self.hub.presence_open(key=self.key, sitting_id=self.sitting_id, user_id=self.user_id)

    async def _authorize(self) -> tuple[tuple[str, ...], bool] | None:
        """The streams received and whether closed-session papers may be read, or None (refused).
        Checked afresh on every connection (a tablet reconnecting right after its user lost the role
        or signed out is refused), in bulk with the other handshakes waiting."""
        alive = self.ticket.alive if self.ticket is not None else None
        user_id = None if self.public else self.user_id
        if user_id is None and not self.public:
            return None
        return await handshake.grants.get((user_id, self.sitting_id, self.public), alive)

    async def websocket_disconnect(self, message) -> None:
        """As channels' own, without its trip to the thread-sensitive worker to close old database
        connections (this consumer queries only through ``database_sync_to_async`` and the
        handshake threads, which do that themselves): a thousand tablets dropping at once must not
        queue a thousand trips in front of the votes."""
        await self.disconnect(message.get("code"))
        raise StopConsumer()

    async def disconnect(self, code) -> None:
        self.transport.stop()
        self._leave_groups()
        if self.hub is not None and not self.public and self.streams:
            self.hub.presence_close(key=self.key, sitting_id=self.sitting_id)

    def _leave_groups(self) -> None:
        if self.hub is not None:
            for stream in self.streams:
                self.hub.leave(group_name(self.sitting_id, stream), self)

    # --- the socket interface the hub sees (sockets.LiveSocket) -------------------------------
    @property
    def closed(self) -> bool:
        return self.transport.closed

    @property
    def session_key(self) -> str | None:
        return getattr(self.scope.get("session"), "session_key", None)

    def deliver(self, stream: str, seq: int, text: str, prepared: Any) -> None:
        """Called by the hub for each event: write the pre-framed bytes, nothing else."""
        if self._held is not None:
            self._held.append((stream, seq, text, prepared))
            return
        if not self.transport.send_frame(text, prepared):
            self.close_from_hub(CLOSE_STALLED)

    def close_from_hub(self, code: int) -> None:
        """Close this socket from outside its own coroutine (sign-out, lost access, stalled)."""
        if self.transport.closed:
            return
        self._leave_groups()
        self.transport.close(code, abort=code == CLOSE_STALLED)

    # --- outgoing -----------------------------------------------------------------------------
    async def send_state(self, re: Any = None) -> None:
        """Send the full state (with ``re`` when it answers a request with an ``id``); events
        arriving meanwhile are held and the newer ones sent after it. Built in bulk with the other
        sockets' states of the moment (one build per audience view and sequence numbers)."""
        self._held = self._held if self._held is not None else []
        audience = "public" if self.public else "members"
        request = (self.sitting_id, audience, self.streams, self.user_id, self.reads_closed_session)
        try:
            state = await handshake.states.get(request, self._still_wanted)
        except Exception:
            self._held = None
            raise
        # Two states may be built at once (a client's state.request while the hub resyncs every
        # socket): the first to finish takes the held events, the other has none left to send.
        held, self._held = self._held or [], None
        if state is None:  # the client left meanwhile, or its user no longer exists
            if not self.closed and not self._client_left():
                self.close_from_hub(CLOSE_FORBIDDEN)
            return
        if re is None:
            self._send_encoded(encoded_state(state))
        else:
            self.send_json({**state, "re": re})
        seqs = state.get("seqs", {})
        for stream, seq, text, prepared in held:
            if seq > seqs.get(stream, 0):
                self.deliver(stream, seq, text, prepared)

    def _still_wanted(self) -> bool:
        return not self.closed and not self._client_left()

    def _send_encoded(self, text: str) -> None:
        if not self.transport.send_text(text):
            self.close_from_hub(CLOSE_STALLED)

    # --- incoming -----------------------------------------------------------------------------
    async def dispatch(self, message) -> None:
        """As channels' dispatch, without closing old database connections first: every database
        call here goes through ``database_sync_to_async``, which does that itself, and skipping it
        saves a trip to the worker thread for every inbound message (pings included)."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    def _flood_close(self) -> None:
        if self.closed:
            return
        flood_cooldowns.start(self._flood_user_id)
        if self.hub is not None and self._flood_user_id is not None:  # and on every other process
            self.hub.announce(
                "flood_cooldown", user_id=self._flood_user_id, seconds=transport.FLOOD_COOLDOWN_S
            )
        logger.warning(
            "live: closed a flooding socket (user %s, sitting %s); reconnects refused for %.0f s",
            self._flood_user_id,
            self.sitting_id,
            transport.FLOOD_COOLDOWN_S,
        )
        self._leave_groups()
        self.transport.cut_off(CLOSE_FLOOD)

    async def receive(self, text_data=None, bytes_data=None) -> None:
        read = self._read(text_data)
        if read is None:
            return
        entry, message = read
        kind = message["type"]
        msg_id = message.get("id")
        re = {"re": msg_id} if msg_id is not None else {}
        if kind == "ping":
            await self._maybe_recheck_access()
            if not self.closed:
                self.send_json({"type": "pong", **re})
            return
        if kind == "state.request":
            await self.send_state(re=msg_id)
            return
        if kind == "follow":
            self.following = bool(message["following"])
            if not self.public:
                self.hub.presence_follow(
                    key=self.key,
                    sitting_id=self.sitting_id,
                    following=self.following,
                    page=message.get("page"),
                )
            if re:
                self.send_json({"type": "ack", "for": kind, **re})
            return
        reply = await dispatch.handle(
            entry, message, sitting_id=self.sitting_id, user_id=self.user_id, lang=self.lang
        )
        if reply is dispatch.REVOKED:
            self.close_from_hub(CLOSE_FORBIDDEN)
            return
        self._last_access_check = time.monotonic()
        if reply is not None:
            self.send_json(reply)

    async def _maybe_recheck_access(self) -> None:
        if self.public or time.monotonic() - self._last_access_check < ACCESS_RECHECK_S:
            return
        self._last_access_check = time.monotonic()
        allowed = await database_sync_to_async(access.still_allowed)([(self.user_id, self.sitting_id)])
        if not allowed.get((self.user_id, self.sitting_id)):
            self.close_from_hub(CLOSE_FORBIDDEN)
