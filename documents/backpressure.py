"""Flow control for streamed HTTP responses under daphne.

Daphne hands every ``http.response.body`` message straight to Twisted's transport, which buffers
whatever the client has not yet received; ASGI ``send`` never waits. A tablet on poor chamber
Wi-Fi downloading a 150 MB packet would therefore make the server hold most of the file in memory
while the file view streams it from disk. ``SendBackpressure`` wraps the HTTP application: after
each body chunk of a streamed response it waits (without blocking the loop) while the connection's
unsent bytes are above ``HIGH_WATER``, so memory per connection stays around one chunk plus the
high-water mark whatever the file size and the client's speed.

Under other ASGI servers (which do their own flow control) the probe finds no Twisted transport
and the wrapper only passes messages through.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

HIGH_WATER = 1024 * 1024
MAX_WAIT_STEP = 0.05


def _unsent_bytes_probe(send) -> Callable[[], int | None] | None:
    """For daphne's ``send`` (a partial bound to its Twisted request): a function giving the bytes
    waiting in the connection's transport buffer, or None once the connection is gone."""
    args = getattr(send, "args", None)
    if not args:
        return None
    request = args[0]
    if not hasattr(request, "channel") or not hasattr(request, "finished"):
        return None

    def unsent() -> int | None:
        channel = request.channel
        if request.finished or channel is None:
            return None
        transport = getattr(channel, "transport", None)
        if transport is None or getattr(transport, "disconnected", False):
            return None
        data = getattr(transport, "dataBuffer", b"")
        return len(data) - getattr(transport, "offset", 0) + getattr(transport, "_tempDataLen", 0)

    return unsent


class SendBackpressure:
    """ASGI middleware: streamed response bodies wait for the client to drain the buffer."""

    def __init__(self, app, *, high_water: int = HIGH_WATER) -> None:
        self.app = app
        self.high_water = high_water

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        unsent = _unsent_bytes_probe(send)
        if unsent is None:
            return await self.app(scope, receive, send)
        high_water = self.high_water

        async def paced_send(message) -> None:
            await send(message)
            if message.get("type") != "http.response.body" or not message.get("more_body"):
                return
            delay = 0.001
            while True:
                waiting = unsent()
                if waiting is None or waiting <= high_water:
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_WAIT_STEP)

        return await self.app(scope, receive, paced_send)
