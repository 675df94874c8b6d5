"""What the two live sockets do alike: the members' consumer (``consumers.SittingConsumer``) and the
public follower (``public.PublicSocket``, 傍聴).

Both read a message through the flood guard and the protocol, answer in order with the events,
warn a flooder once, and resync by sending a fresh state after any state already on its way. Each
keeps what differs: how its state is built and sent (``send_state``), how it closes, what a flooder
costs it.
"""

from __future__ import annotations

import asyncio
import time

from django.utils import translation
from django.utils.translation import gettext as _

from meetings.events import encode
from meetings.live import protocol
from meetings.live.sockets import CLOSE_STALLED

RESYNC_WAIT_S = 10.0  # how long a resync waits for a state already on its way


class SocketBase:
    """Mixed into a live socket that has ``transport`` (``transport.Transport``), ``lang``,
    ``public``, ``closed``, ``close_from_hub(code)``, ``send_state()`` and ``_held`` (the events
    held while a state is on its way; None when no state is)."""

    __slots__ = ()

    def send_json(self, message: dict) -> None:
        """Send one message in order with the events (synchronously under daphne)."""
        if not self.transport.send_text(encode(message)):
            self.close_from_hub(CLOSE_STALLED)  # it asks but does not read its answers

    def _flood_warn(self) -> None:
        with translation.override(self.lang):
            self.send_json(
                {
                    "type": "error",
                    "code": "flood",
                    "message": _("Too many messages; slow down."),
                    "retry_after": self.transport.flood.retry_after(),
                }
            )

    def _read(self, text: str | None) -> tuple[protocol.Registered | None, dict] | None:
        """The inbound message and its registration (``protocol.parse``); None when the flood
        guard drops it, or when it is refused (then answered with its error)."""
        if not self.transport.admit():
            return None
        with translation.override(self.lang):
            try:
                return protocol.parse(text, public=self.public)
            except protocol.Invalid as exc:
                self.send_json(exc.as_error())
                return None

    async def resync(self) -> bool:
        # A state already on its way (a socket still connecting, or answering its state.request) may
        # have been read before the groups were joined again: let it finish, then send a newer one.
        # (Two states built at once for one socket would each claim the events held meanwhile.)
        deadline = time.monotonic() + RESYNC_WAIT_S
        while self._held is not None and time.monotonic() < deadline:
            if self.closed:
                return False
            await asyncio.sleep(0.05)
        if self.closed:
            return False
        await self.send_state()
        return True
