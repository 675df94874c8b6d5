"""Admission control for WebSocket handshakes: refuse early and cheaply when saturated.

A process restarted under a full chamber receives every tablet's handshake at once. Each one costs
database work (who the user is, whether they may follow, the full state); daphne drops a handshake
not accepted within a few seconds, and queued work for clients already gone would then keep the
server busy with nobody (congestion collapse). So, outermost in the WebSocket stack and before any
query:

* ``Admission`` counts the handshakes in progress in this process (from the ASGI scope's arrival to
  the full state sent, or the socket gone). Past ``HANDSHAKE_LIMIT`` a new one is accepted and
  closed at once with ``CLOSE_TRY_AGAIN`` (4503, "try again later"), its reason the number of
  seconds within which to retry (clients wait a random part of it: full jitter);
* each admitted handshake carries a ``Ticket`` (``scope["live.ticket"]``): ``ticket.alive()`` is
  False once the client dropped or closed the socket (daphne's protocol state, or a
  ``websocket.disconnect`` already waiting in the ASGI receive queue), and the consumer checks it
  before each database stage, so work for a client that is gone is skipped.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any

from meetings.live import daphne_adapter
from meetings.live.sockets import CLOSE_TRY_AGAIN

logger = logging.getLogger(__name__)

# Handshakes in progress per process before new ones are refused (the environment may change it).
HANDSHAKE_LIMIT = int(os.environ.get("COUNCIL_LIVE_HANDSHAKES", "400"))
# ... and once the oldest handshake in progress has waited this long (the queue is longer than the
# process works through in time; daphne drops a handshake not accepted within 5 s), while at least
# ``QUEUE_FLOOR`` are in progress.
MAX_QUEUE_WAIT_S = float(os.environ.get("COUNCIL_LIVE_HANDSHAKE_WAIT", "2.0"))
QUEUE_FLOOR = 8
RETRY_MIN_S, RETRY_MAX_S = 1.0, 5.0
SCOPE_KEY = "live.ticket"


class Ticket:
    """One admitted handshake: whether its client is still there, and its slot (released once)."""

    __slots__ = ("admission", "receive", "send", "protocol", "started", "released")

    def __init__(self, admission: Admission, receive, send) -> None:
        self.admission = admission
        self.receive = receive
        self.send = send
        self.protocol = daphne_adapter.find_protocol(send)
        self.started = time.monotonic()
        self.released = False

    def alive(self) -> bool:
        """False once the client has dropped or closed the socket (nothing more is worth doing)."""
        if self.protocol is not None and daphne_adapter.is_gone(self.protocol):
            return False
        return not disconnect_waiting(self.receive)

    def done(self, *, served: bool = False) -> None:
        """The handshake is over (``served``: its state sent; else refused, or the client gone):
        free the slot."""
        if not self.released:
            self.released = True
            self.admission.release(self, served=served)


def disconnect_waiting(receive) -> bool:
    """A ``websocket.disconnect`` already queued for the application (daphne and channels' test
    communicator both hand the application ``asyncio.Queue.get``)."""
    queue = getattr(receive, "__self__", None)
    items = getattr(queue, "_queue", None) if isinstance(queue, asyncio.Queue) else None
    if not items:
        return False
    return any(isinstance(m, dict) and m.get("type") == "websocket.disconnect" for m in items)


class Admission:
    """This process's handshakes in progress, and the recent rate at which they complete."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = HANDSHAKE_LIMIT if limit is None else limit
        self.in_progress = 0
        self.admitted = 0
        self.refused = 0
        self.completed = 0
        self.served = 0  # handshakes that ended with the state sent
        self.abandoned = 0  # handshakes whose client left before its state was sent
        self._recent: list[float] = []  # completion times (for the retry hint)
        self._waiting: dict[int, float] = {}  # handshakes in progress, oldest first: id -> start

    def full(self) -> bool:
        if self.in_progress >= self.limit:
            return True
        if self.in_progress < QUEUE_FLOOR or not self._waiting:
            return False
        return time.monotonic() - next(iter(self._waiting.values())) > MAX_QUEUE_WAIT_S

    def admit(self, receive, send) -> Ticket:
        self.in_progress += 1
        self.admitted += 1
        ticket = Ticket(self, receive, send)
        self._waiting[id(ticket)] = ticket.started
        return ticket

    def release(self, ticket: Ticket, *, served: bool = False) -> None:
        self.in_progress -= 1
        self._waiting.pop(id(ticket), None)
        now = time.monotonic()
        self.completed += 1
        self.served += served
        self._recent.append(now)
        if len(self._recent) > 256:
            del self._recent[:128]

    def retry_after(self) -> float:
        """Seconds within which a refused client should try again: the time to work through the
        handshakes in progress at the recent completion rate, between 1 and 5 s."""
        now = time.monotonic()
        recent = [t for t in self._recent if now - t < 5.0]
        rate = len(recent) / max(0.5, now - recent[0]) if len(recent) > 1 else 0.0
        if rate <= 0:
            return RETRY_MAX_S
        return round(min(RETRY_MAX_S, max(RETRY_MIN_S, 2 * self.in_progress / rate)), 1)

    def stats(self) -> dict[str, Any]:
        return {
            "in_progress": self.in_progress,
            "admitted": self.admitted,
            "refused": self.refused,
            "served": self.served,
            "abandoned": self.abandoned,
        }


admission = Admission()


async def refuse(receive, send, retry_after: float) -> None:
    """Accept and close at once with 4503 and the retry window; no query, no application."""
    message = await receive()
    if message.get("type") != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    reason = f"{retry_after:g}"
    protocol = daphne_adapter.find_protocol(send)
    if protocol is not None and daphne_adapter.is_open(protocol):  # daphne's ASGI close drops reasons
        daphne_adapter.close(protocol, CLOSE_TRY_AGAIN, reason=reason)
        return
    await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN, "reason": reason})


class AdmissionMiddleware:
    """ASGI middleware, outermost for WebSockets: count, refuse when saturated, hand out tickets."""

    def __init__(self, app, *, admission_: Admission | None = None) -> None:
        self.app = app
        self.admission = admission_
        daphne_adapter.lighten_autobahn()  # half of what a handshake costs daphne's loop

    async def __call__(self, scope, receive, send):
        if scope.get("type") != "websocket":
            return await self.app(scope, receive, send)
        control = self.admission or admission
        if control.full():
            control.refused += 1
            if control.refused % 500 == 1:
                logger.warning(
                    "live: %s handshakes in progress; refusing (4503) for now", control.in_progress
                )
            return await refuse(receive, send, control.retry_after())
        ticket = control.admit(receive, send)
        try:
            return await self.app({**scope, SCOPE_KEY: ticket}, receive, send)
        finally:
            if not ticket.released:
                control.abandoned += 0 if ticket.alive() else 1
            ticket.done()


def ticket_of(scope) -> Ticket | None:
    return scope.get(SCOPE_KEY)
