"""WebSocket consumers: ``/ws/sittings/<id>/`` for participants, ``/ws/public/sittings/<id>/`` (傍聴).

Thin by design: authenticate on connect, send the full state, validate each inbound message
against its schema (``meetings.live.protocol``), dispatch to its handler in a worker thread,
reply. Broadcasts never pass through here one by one: the process's hub (``fanout``) writes
pre-framed events to the sockets directly. The consumers have no channel-layer channel of their
own (the hub holds the only one per process), which keeps each idle follower small.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
import weakref
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _

from meetings.events import encode, group_name
from meetings.live import fanout, protocol
from meetings.live.state import build_state

logger = logging.getLogger(__name__)

# Inbound messages per socket and window: up to FLOOD_SOFT are handled; the next one is answered with
# one ``flood`` error and the rest are dropped unanswered until the window ends; past FLOOD_HARD the
# socket is closed (4429) and the user's reconnects are refused for FLOOD_COOLDOWN_S. A clerk holding
# an arrow key sends ~30 page turns a second, so FLOOD_HARD stays out of a person's reach.
FLOOD_WINDOW_S = 10.0
FLOOD_SOFT = 120
FLOOD_HARD = 600
FLOOD_COOLDOWN_S = 60.0
FLOOD_DROP_AFTER_S = 1.0
ACCESS_RECHECK_S = 60.0

CLOSE_FORBIDDEN = 4403
CLOSE_SIGNED_OUT = 4401
CLOSE_FLOOD = 4429
CLOSE_STALLED = 4408


def language_from_scope(scope) -> str:
    cookies = scope.get("cookies") or {}
    candidates = [cookies.get(settings.LANGUAGE_COOKIE_NAME)]
    for name, value in scope.get("headers") or []:
        if name == b"accept-language":
            candidates += [lang for lang, _q in translation.trans_real.parse_accept_lang_header(value.decode("latin-1"))]
    for code in candidates:
        if not code or code == "*":
            continue
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


class FloodCounter:
    """One socket's inbound messages in the current window, and what to do with the next one."""

    HANDLE, WARN, DROP, CLOSE = range(4)
    __slots__ = ("window_start", "count")

    def __init__(self) -> None:
        self.window_start = time.monotonic()
        self.count = 0

    def verdict(self) -> int:
        now = time.monotonic()
        if now - self.window_start > FLOOD_WINDOW_S:
            self.window_start, self.count = now, 0
        self.count += 1
        if self.count <= FLOOD_SOFT:
            return self.HANDLE
        if self.count == FLOOD_SOFT + 1:
            return self.WARN
        return self.DROP if self.count <= FLOOD_HARD else self.CLOSE

    def retry_after(self) -> int:
        return max(1, round(self.window_start + FLOOD_WINDOW_S - time.monotonic()))


class FloodCooldowns:
    """Users cut off for flooding, refused at connect until their cool-down ends.

    A cut-off flooder reconnects at once, and every accepted connection costs an authorization and
    a full state build; a refusal costs a dictionary lookup. Kept in each process, per event loop as
    the hub is (so each test's loop starts clean); a process that cuts a user off announces it
    through the hubs' control group, so the others refuse that user too (best effort: with Redis
    down, each process pays for at most one flood per user and cool-down).
    """

    MAX_ENTRIES = 10_000

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._until: dict[int, float] = {}

    def _table(self) -> dict[int, float]:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop, self._until = loop, {}
        return self._until

    def refuses(self, user_id: int | None) -> bool:
        if user_id is None:
            return False
        table = self._table()
        until = table.get(user_id)
        if until is None:
            return False
        if until > time.monotonic():
            return True
        del table[user_id]
        return False

    def start(self, user_id: int | None, seconds: float | None = None) -> None:
        if user_id is None:  # anonymous (傍聴): no key that is not shared; the proxy limits addresses
            return
        table = self._table()
        now = time.monotonic()
        if len(table) >= self.MAX_ENTRIES:
            for key in [key for key, until in table.items() if until <= now]:
                del table[key]
        table[user_id] = max(table.get(user_id, 0.0), now + (FLOOD_COOLDOWN_S if seconds is None else seconds))

    def on_announced(self, message: dict) -> None:
        """Another process cut this user off: refuse them here too (``fanout.Hub.announce``)."""
        user_id, seconds = message.get("user_id"), message.get("seconds")
        if isinstance(user_id, int) and isinstance(seconds, (int, float)) and 0 < seconds <= FLOOD_COOLDOWN_S:
            self.start(user_id, seconds)

    def clear(self) -> None:
        self._loop, self._until = None, {}


flood_cooldowns = FloodCooldowns()
fanout.register_control("flood_cooldown", flood_cooldowns.on_announced)


class SittingConsumer(AsyncWebsocketConsumer):
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
        self._pending: list | None = []
        self._outbox: asyncio.Queue | None = None
        self.protocol = self.writer = None
        self._writer: asyncio.Task | None = None
        self._closed = False
        self._flood = FloodCounter()
        self._frames_counted = False
        self._last_access_check = time.monotonic()
        self.following = True
        self._flood_user_id = self.user_id  # kept on the public view too, which forgets user_id
        if flood_cooldowns.refuses(self._flood_user_id):
            await self.close(code=CLOSE_FLOOD)  # before any query or accept: an HTTP 403
            return
        access = await database_sync_to_async(self._authorize)()
        if access is None:
            await self.close(code=CLOSE_FORBIDDEN)  # before accept: an HTTP 403
            return
        self.streams: tuple[str, ...] = access
        self.protocol = fanout.autobahn_protocol(self.base_send)
        if self.protocol is not None:
            self._count_frames(self.protocol)  # before accept: no frame can arrive uncounted
        await self.accept()
        self.writer = fanout.FrameWriter(self.protocol) if self.protocol is not None else None
        self.hub = await fanout.get_hub()
        for stream in self.streams:
            await self.hub.join(group_name(self.sitting_id, stream), self)
        await self.send_state()
        if not self.public:
            self.hub.presence_open(key=self.key, sitting_id=self.sitting_id, user_id=self.user_id)

    def _authorize(self) -> tuple[str, ...] | None:
        # Checked afresh on every connection: a tablet reconnecting right after its user lost the
        # role or signed out must be refused (no remembered answers).
        from meetings.live.permissions import can_follow, can_run
        from meetings.models import Sitting

        user = self.scope.get("user")
        sitting = Sitting.objects.select_related("body").filter(pk=self.sitting_id).first()
        if sitting is None or not can_follow(user, sitting):
            return None
        return ("members", "clerks") if can_run(user, sitting) else ("members",)

    async def disconnect(self, code) -> None:
        self._closed = True
        if self.hub is not None:
            for stream in getattr(self, "streams", ()):
                self.hub.leave(group_name(self.sitting_id, stream), self)
            if not self.public:
                self.hub.presence_close(key=self.key, sitting_id=self.sitting_id)
        if self._writer is not None:
            self._writer.cancel()

    # --- outgoing -----------------------------------------------------------------------------
    async def send_state(self) -> None:
        """Send the full state; events arriving meanwhile are held and the newer ones sent after."""
        self._pending = self._pending if self._pending is not None else []
        user = self.scope.get("user")
        audience = "public" if self.public else "members"
        try:
            state = await database_sync_to_async(self._build_state)(audience, user)
        except Exception:
            self._pending = None
            raise
        # Two states may be built at once (a client's state.request while the hub resyncs every
        # socket): the first to finish takes the held events, the other has none left to send.
        pending, self._pending = self._pending or [], None
        self.send_text(encode(state))
        seqs = state.get("seqs", {})
        for stream, seq, text, prepared in pending:
            if seq > seqs.get(stream, 0):
                self.deliver(stream, seq, text, prepared)

    def _build_state(self, audience: str, user) -> dict:
        with translation.override(self.lang):
            return build_state(sitting_id=self.sitting_id, audience=audience, user=user, streams=self.streams)

    def deliver(self, stream: str, seq: int, text: str, prepared: Any) -> None:
        """Called by the hub for each event: write the pre-framed bytes, nothing else."""
        if self._closed:
            return
        if self._pending is not None:
            self._pending.append((stream, seq, text, prepared))
            return
        writer = self.writer
        if writer is not None and prepared is not None:
            if not writer.write(prepared):
                self.close_from_hub(CLOSE_STALLED)
        else:
            self.send_text(text)

    def send_text(self, text: str) -> None:
        """Send one text frame in order with the events (synchronously under daphne)."""
        if self._closed:
            return
        proto = self.protocol
        if proto is not None:
            if proto.state == proto.STATE_OPEN:
                if fanout.buffered_bytes(proto) > fanout.MAX_BUFFER:
                    self.close_from_hub(CLOSE_STALLED)  # it asks but does not read its answers
                    return
                proto.sendMessage(text.encode("utf-8"), False)
            return
        if self._outbox is None:
            self._outbox = asyncio.Queue()
            self._writer = asyncio.get_running_loop().create_task(self._write_outbox())
        if self._outbox.qsize() >= fanout.MAX_OUTBOX:
            self.close_from_hub(CLOSE_STALLED)
            return
        self._outbox.put_nowait(text)

    async def _write_outbox(self) -> None:
        while True:
            item = await self._outbox.get()
            if isinstance(item, int):  # a close code queued behind the messages before it
                await self.base_send({"type": "websocket.close", "code": item})
                return
            await self.base_send({"type": "websocket.send", "text": item})

    def send_json(self, message: dict) -> None:
        self.send_text(encode(message))

    def close_from_hub(self, code: int) -> None:
        """Close this socket from outside its own coroutine (sign-out, lost access, stalled)."""
        if self._closed:
            return
        self._closed = True
        for stream in getattr(self, "streams", ()):
            if self.hub is not None:
                self.hub.leave(group_name(self.sitting_id, stream), self)
        proto = self.protocol
        if proto is not None:
            if code == CLOSE_STALLED:
                proto.dropConnection(abort=True)
            else:
                proto.sendClose(code=code)
            return
        if self._outbox is None:
            self._outbox = asyncio.Queue()
            self._writer = asyncio.get_running_loop().create_task(self._write_outbox())
        self._outbox.put_nowait(code)

    # --- incoming -----------------------------------------------------------------------------
    async def dispatch(self, message) -> None:
        """As channels' dispatch, without closing old database connections first: every database
        call here goes through ``database_sync_to_async``, which does that itself, and skipping it
        saves a trip to the worker thread for every inbound message (pings included)."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    def _count_frames(self, proto) -> None:
        """Count messages in daphne's protocol, as autobahn hands them over, so that a flood is
        dropped before daphne queues it for this consumer (the queue is unbounded, and the
        consumer would otherwise reach its counter only after working through the backlog).
        WebSocket pings count too: autobahn answers them itself, out of the consumer's sight."""
        counter = self._flood

        def counted(handle):
            def on_frame(*args) -> None:
                if self._closed:
                    return
                verdict = counter.verdict()
                if verdict == FloodCounter.HANDLE:
                    handle(*args)
                elif verdict == FloodCounter.WARN:
                    self._flood_warn()
                elif verdict == FloodCounter.CLOSE:
                    self._flood_close()

            return on_frame

        proto.onMessage = counted(proto.onMessage)  # daphne's: queue the message for this consumer
        proto.onPing = counted(proto.onPing)  # autobahn's: answer with a pong
        self._frames_counted = True

    def _flood_warn(self) -> None:
        with translation.override(self.lang):
            self.send_json({"type": "error", "code": "flood", "message": _("Too many messages; slow down."),
                            "retry_after": self._flood.retry_after()})

    def _flood_close(self) -> None:
        if self._closed:
            return
        flood_cooldowns.start(self._flood_user_id)
        if self.hub is not None and self._flood_user_id is not None:  # and on every other process
            self.hub.announce("flood_cooldown", user_id=self._flood_user_id, seconds=FLOOD_COOLDOWN_S)
        logger.warning("live: closed a flooding socket (user %s, sitting %s); reconnects refused for %.0f s",
                       self._flood_user_id, self.sitting_id, FLOOD_COOLDOWN_S)
        self.close_from_hub(CLOSE_FLOOD)
        proto = self.protocol
        if proto is not None:
            # Read nothing more (the client's backlog stays in the kernel, where it costs no work) and
            # drop the connection soon without waiting for the close handshake. Not closed at once:
            # unread input would turn the close into a reset, and the client would miss the 4429.
            transport = getattr(proto, "transport", None)
            if transport is not None:
                transport.pauseProducing()
            asyncio.get_running_loop().call_later(FLOOD_DROP_AFTER_S, proto.dropConnection, True)

    async def receive(self, text_data=None, bytes_data=None) -> None:
        if self._closed:
            return
        if not self._frames_counted:  # not under daphne: count here
            verdict = self._flood.verdict()
            if verdict != FloodCounter.HANDLE:
                if verdict == FloodCounter.WARN:
                    self._flood_warn()
                elif verdict == FloodCounter.CLOSE:
                    self._flood_close()
                return
        with translation.override(self.lang):
            try:
                entry, message = protocol.parse(text_data, public=self.public)
            except protocol.Invalid as exc:
                self.send_json({"type": "error", "code": exc.code, "message": exc.message,
                                **({"re": exc.msg_id} if exc.msg_id is not None else {})})
                return
        kind = message["type"]
        msg_id = message.get("id")
        if kind == "ping":
            await self._maybe_recheck_access()
            if not self._closed:
                self.send_json({"type": "pong", **({"re": msg_id} if msg_id is not None else {})})
            return
        if kind == "state.request":
            await self.send_state()
            return
        if kind == "follow":
            self.following = bool(message["following"])
            if not self.public:
                self.hub.presence_follow(key=self.key, sitting_id=self.sitting_id, following=self.following,
                                         page=message.get("page"))
            if msg_id is not None:
                self.send_json({"type": "ack", "re": msg_id, "for": kind})
            return
        if entry.batch_handler is not None:
            reply = await _batches_here().submit(self, entry, message)
        else:
            reply = await database_sync_to_async(self._run_handler)(entry, message)
        if reply is _REVOKED:
            self.close_from_hub(CLOSE_FORBIDDEN)
            return
        self._last_access_check = time.monotonic()
        if reply is not None:
            self.send_json(reply)

    async def _maybe_recheck_access(self) -> None:
        if self.public or time.monotonic() - self._last_access_check < ACCESS_RECHECK_S:
            return
        self._last_access_check = time.monotonic()
        allowed = await database_sync_to_async(fanout._still_allowed)([(self.user_id, self.sitting_id)])
        if not allowed.get((self.user_id, self.sitting_id)):
            self.close_from_hub(CLOSE_FORBIDDEN)

    def _run_handler(self, entry, message: dict) -> dict | object | None:
        return _run_calls(entry, sitting_id=self.sitting_id, lang=self.lang, calls=[(self.user_id, message)])[0]


_REVOKED = object()


def _unavailable(message: dict) -> dict:
    msg_id = message.get("id")
    return {"type": "error", "code": "unavailable", "for": message.get("type"),
            "message": _("The server could not reach its database; nothing was changed. Please try again."),
            **({"re": msg_id} if msg_id is not None else {})}


def _reply(message: dict, result) -> dict | None:
    """What the sender gets: the handler's answer, an ``ack`` when it asked with an ``id``, or the
    refusal's translated message."""
    kind, msg_id = message["type"], message.get("id")
    re = {"re": msg_id} if msg_id is not None else {}
    if isinstance(result, ValidationError):
        text = str(result.messages[0]) if result.messages else _("The request was refused.")
        return {"type": "error", "code": getattr(result, "code", None) or "refused", "message": text,
                "for": kind, **re}
    if isinstance(result, Exception):
        return {"type": "error", "code": "server", "message": _("Something went wrong; nothing was changed."),
                "for": kind, **re}
    if result is None:
        return {"type": "ack", "for": kind, **re} if re else None
    reply = dict(result)
    reply.setdefault("type", "reply")
    reply.setdefault("for", kind)
    reply.update(re)
    return reply


def _run_calls(entry, *, sitting_id: int, lang: str, calls: list[tuple[int | None, dict]]) -> list:
    """Run inbound messages of one type and sitting in a worker thread; one answer for each.

    Permission is checked again for every message, with a fresh user (``_REVOKED`` closes the
    socket). With a batch handler the allowed messages are handled in one call; otherwise one by
    one. A database that went away for a moment (restart, failover) gets "try again" and keeps
    the socket: the transaction rolled back, so nothing changed, and a retry with the same token
    counts once.
    """
    from django.contrib.auth import get_user_model
    from django.db import DatabaseError, close_old_connections

    from meetings.live.permissions import can_follow
    from meetings.models import Sitting

    with translation.override(lang):
        try:
            users = get_user_model().objects.select_related("person").filter(is_active=True).in_bulk(
                {user_id for user_id, _message in calls if user_id is not None}
            )
            sitting = Sitting.objects.select_related("body").filter(pk=sitting_id).first()
            answers: list = [None] * len(calls)
            allowed: list[tuple[int, object, dict]] = []
            for index, (user_id, message) in enumerate(calls):
                user = users.get(user_id)
                if user is None or sitting is None or not can_follow(user, sitting):
                    answers[index] = _REVOKED
                else:
                    allowed.append((index, user, message))
            if entry.batch_handler is not None and allowed:
                try:
                    results = entry.batch_handler(sitting_id=sitting_id,
                                                  calls=[(user, message) for _i, user, message in allowed])
                except DatabaseError:
                    raise
                except Exception as exc:
                    logger.exception("live: batch handler for %s failed", entry.type)
                    results = [exc] * len(allowed)
                for (index, _user, message), result in zip(allowed, results, strict=True):
                    answers[index] = _reply(message, result)
                return answers
            for index, user, message in allowed:
                try:
                    result = entry.handler(user=user, sitting_id=sitting_id, message=message)
                except ValidationError as exc:
                    result = exc
                except DatabaseError:
                    raise
                except Exception as exc:
                    logger.exception("live: handler for %s failed", message["type"])
                    result = exc
                answers[index] = _reply(message, result)
            return answers
        except DatabaseError:
            logger.warning("live: database unavailable while handling %s", entry.type)
            close_old_connections()
            return [_unavailable(message) for _user_id, message in calls]


class _Batches:
    """Group commit for types with a batch handler: per sitting, type and language, the messages
    that arrive while a batch runs wait (in order) and form the next batch. The first message is
    never held back for others, so a lone ballot is as fast as before."""

    def __init__(self) -> None:
        self.waiting: dict[tuple, list[tuple[SittingConsumer, dict, asyncio.Future]]] = {}
        self.running: set[tuple] = set()

    async def submit(self, consumer: SittingConsumer, entry, message: dict):
        key = (entry.type, consumer.sitting_id, consumer.lang)
        future = asyncio.get_running_loop().create_future()
        self.waiting.setdefault(key, []).append((consumer, message, future))
        if key not in self.running:
            self.running.add(key)
            asyncio.get_running_loop().create_task(self._drain(key, entry))
        return await future

    async def _drain(self, key: tuple, entry) -> None:
        _type, sitting_id, lang = key
        try:
            while self.waiting.get(key):
                items = self.waiting.pop(key)
                try:
                    answers = await database_sync_to_async(_run_calls)(
                        entry, sitting_id=sitting_id, lang=lang,
                        calls=[(consumer.user_id, message) for consumer, message, _f in items],
                    )
                except BaseException as exc:  # noqa: BLE001 - every waiter must hear of it
                    for _c, _m, future in items:
                        if not future.done():
                            future.set_exception(exc)
                    if isinstance(exc, asyncio.CancelledError):
                        raise
                    continue
                for (_c, _m, future), answer in zip(items, answers, strict=True):
                    if not future.done():
                        future.set_result(answer)
        finally:
            self.running.discard(key)
            for _c, _m, future in self.waiting.pop(key, []):  # only when cancelled (shutdown)
                if not future.done():
                    future.cancel()


_batches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Batches] = weakref.WeakKeyDictionary()


def _batches_here() -> _Batches:
    """The batches of this event loop (one per process under daphne; one per test in the tests)."""
    loop = asyncio.get_running_loop()
    batches = _batches.get(loop)
    if batches is None:
        batches = _batches[loop] = _Batches()
    return batches


class PublicSittingConsumer(SittingConsumer):
    """The public view (傍聴): no sign-in, only the public stream, only public-safe data."""

    public = True

    def _authorize(self) -> tuple[str, ...] | None:
        from meetings.live.permissions import can_watch_public
        from meetings.models import Sitting

        sitting = Sitting.objects.filter(pk=self.sitting_id).first()
        if sitting is None or not can_watch_public(sitting):
            return None
        self.user_id = None
        return ("public",)

    def _build_state(self, audience: str, user) -> dict:
        from django.contrib.auth.models import AnonymousUser

        with translation.override(self.lang):
            return build_state(sitting_id=self.sitting_id, audience="public", user=AnonymousUser(),
                               streams=self.streams)
