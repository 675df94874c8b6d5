"""One live socket's way in and out: the flood guard on the way in, ordered writes on the way out.

* **Flood guard** (``FloodCounter``, ``FloodCooldowns``): every inbound message counts, WebSocket
  pings too, per socket and window. Up to ``FLOOD_SOFT`` are handled; the next one is answered with
  one ``flood`` error and the rest are dropped unanswered until the window ends; past ``FLOOD_HARD``
  the socket is closed (4429) and the user's reconnects are refused for ``FLOOD_COOLDOWN_S``. A
  clerk holding an arrow key sends ~30 page turns a second, so ``FLOOD_HARD`` stays out of reach.
* **Writes** (``Transport``): under daphne, text goes straight to the socket's autobahn protocol
  and broadcast frames, framed once, to its transport (``daphne_adapter``), so a write never waits;
  under any other ASGI server (and ``WebsocketCommunicator`` in tests) through a small outbox task
  that keeps the order. Either way a socket that stops reading is reported as stalled, never waited
  for.

Nothing here knows about sittings, messages or permissions.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from meetings.live import daphne_adapter

FLOOD_WINDOW_S = 10.0
FLOOD_SOFT = 120
FLOOD_HARD = 600
FLOOD_COOLDOWN_S = 60.0
FLOOD_DROP_AFTER_S = 1.0
MAX_OUTBOX = 500  # messages queued per socket on the generic (non-daphne) path


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

    def active(self) -> bool:
        """Whether anyone is cut off right now (when nobody is, no socket needs to say who it is)."""
        table = self._table()
        now = time.monotonic()
        for key in [key for key, until in table.items() if until <= now]:
            del table[key]
        return bool(table)

    def start(self, user_id: int | None, seconds: float | None = None) -> None:
        if user_id is None:  # anonymous (傍聴): no key that is not shared; the proxy limits addresses
            return
        table = self._table()
        now = time.monotonic()
        if len(table) >= self.MAX_ENTRIES:
            for key in [key for key, until in table.items() if until <= now]:
                del table[key]
        table[user_id] = max(
            table.get(user_id, 0.0), now + (FLOOD_COOLDOWN_S if seconds is None else seconds)
        )

    def on_announced(self, message: dict) -> None:
        """Another process cut this user off: refuse them here too (``Hub.announce``)."""
        user_id, seconds = message.get("user_id"), message.get("seconds")
        if isinstance(user_id, int) and isinstance(seconds, (int, float)) and 0 < seconds <= FLOOD_COOLDOWN_S:
            self.start(user_id, seconds)

    def clear(self) -> None:
        self._loop, self._until = None, {}


flood_cooldowns = FloodCooldowns()


class Transport:
    """One socket's writes (in order, never waiting) and its flood gate.

    ``send`` is the socket's ASGI send callable. ``on_flood_warn()`` and ``on_flood_close()`` are
    called when the flood guard's verdict is to warn or to cut off.
    """

    __slots__ = (
        "_send",
        "_on_flood_warn",
        "_on_flood_close",
        "flood",
        "protocol",
        "writer",
        "_outbox",
        "_outbox_task",
        "_gated_in_protocol",
        "closed",
    )

    def __init__(
        self,
        send: Callable[[dict], Awaitable[None]],
        *,
        on_flood_warn: Callable[[], None],
        on_flood_close: Callable[[], None],
    ) -> None:
        self._send = send
        self._on_flood_warn = on_flood_warn
        self._on_flood_close = on_flood_close
        self.flood = FloodCounter()
        self.protocol = daphne_adapter.find_protocol(send)
        self.writer: daphne_adapter.FrameWriter | None = None
        self._outbox: asyncio.Queue | None = None
        self._outbox_task: asyncio.Task | None = None
        self._gated_in_protocol = False
        self.closed = False

    # --- the flood gate ---------------------------------------------------------------------------
    def guard_frames(self) -> None:
        """Under daphne, count messages as autobahn hands them over, so a flood is dropped before
        daphne queues it for the consumer (the queue is unbounded, and the consumer would otherwise
        reach its counter only after working through the backlog). Call before accepting."""
        if self.protocol is None:
            return

        def on_frame(handle: Callable[[], None]) -> None:
            if not self.closed and self._judge():
                handle()

        daphne_adapter.intercept_frames(self.protocol, on_frame)
        self._gated_in_protocol = True

    def admit(self) -> bool:
        """Whether the consumer should handle an inbound message (counted here when daphne's
        frames are not gated: any other server, tests)."""
        if self.closed:
            return False
        return self._gated_in_protocol or self._judge()

    def _judge(self) -> bool:
        verdict = self.flood.verdict()
        if verdict == FloodCounter.HANDLE:
            return True
        if verdict == FloodCounter.WARN:
            self._on_flood_warn()
        elif verdict == FloodCounter.CLOSE:
            self._on_flood_close()
        return False

    # --- writing ----------------------------------------------------------------------------------
    def opened(self) -> None:
        """The handshake is done: frames may now be written straight to daphne's transport."""
        if self.protocol is not None:
            self.writer = daphne_adapter.FrameWriter(self.protocol)

    def send_text(self, text: str) -> bool:
        """Queue or write one text message after everything sent before; False when stalled."""
        if self.closed:
            return True
        if self.protocol is not None:
            return daphne_adapter.send_text(self.protocol, text)
        return self._enqueue(text)

    def send_frame(self, text: str, prepared: Any) -> bool:
        """Write a broadcast frame (``prepared`` once for every socket); False when stalled."""
        if self.closed:
            return True
        if self.writer is not None and prepared is not None:
            return self.writer.write(prepared)
        return self.send_text(text)

    def close(self, code: int, *, abort: bool = False) -> None:
        """Close after everything queued before (``abort``: drop at once, for stalled readers)."""
        if self.closed:
            return
        self.closed = True
        if self.protocol is not None:
            daphne_adapter.close(self.protocol, code, abort=abort)
            return
        self._enqueue(code, force=True)

    def cut_off(self, code: int) -> None:
        """Close a flooder: send ``code``, read nothing more, drop the connection soon."""
        self.close(code)
        if self.protocol is not None:
            daphne_adapter.stop_reading(
                self.protocol, drop_after=FLOOD_DROP_AFTER_S, loop=asyncio.get_running_loop()
            )

    def stop(self) -> None:
        """The socket is gone: forget anything still queued."""
        self.closed = True
        if self._outbox_task is not None:
            self._outbox_task.cancel()

    @property
    def queued(self) -> int:
        return self._outbox.qsize() if self._outbox is not None else 0

    def _enqueue(self, item: str | int, *, force: bool = False) -> bool:
        if self._outbox is None:
            self._outbox = asyncio.Queue()
            self._outbox_task = asyncio.get_running_loop().create_task(self._write_outbox())
        if not force and self._outbox.qsize() >= MAX_OUTBOX:
            return False
        self._outbox.put_nowait(item)
        return True

    async def _write_outbox(self) -> None:
        while True:
            item = await self._outbox.get()
            if isinstance(item, int):  # a close code queued behind the messages before it
                await self._send({"type": "websocket.close", "code": item})
                return
            await self._send({"type": "websocket.send", "text": item})
