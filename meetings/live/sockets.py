"""The declared interface between the hub and the live sockets it serves.

The hub (``fanout``) sees a local socket only through ``LiveSocket``: it never reads a consumer's
private attributes, and a consumer never calls the hub's private functions. Anything either side
needs of the other belongs here, named.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

# Close codes sent by the server (docs/protocol.md, "Endpoints").
CLOSE_SIGNED_OUT = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_STALLED = 4408
CLOSE_FLOOD = 4429
# Sent by admission control (``admission``) when the process is saturated: "try again later"
# (like HTTP's 503; RFC 6455's 1013 is not a code daphne's autobahn lets a server send); the close reason is the number of seconds within which to retry.
CLOSE_TRY_AGAIN = 4503


@runtime_checkable
class LiveSocket(Protocol):
    """One local WebSocket as the hub sees it."""

    #: The signed-in user, or None (the public view, 傍聴).
    user_id: int | None
    sitting_id: int
    #: True on the public endpoint: no user, no presence row, no access re-check.
    public: bool
    #: May open the sitting's closed-session (秘密会) papers (the secretariat, the body's members);
    #: False for officials, who get events with such a paper's presentation blanked.
    reads_closed_session: bool

    @property
    def session_key(self) -> str | None:
        """The Django session the socket was opened with (checked for a sign-out missed while the
        channel layer was down), or None."""

    @property
    def closed(self) -> bool:
        """True once the socket is closing or closed: the hub stops writing to it."""

    def deliver(self, stream: str, seq: int, text: str, prepared: Any) -> None:
        """Write one event (``text``, also framed once for every socket as ``prepared``); never wait."""

    def close_from_hub(self, code: int) -> None:
        """Close the socket with ``code`` (sign-out, lost access, stalled reader)."""

    async def resync(self) -> bool:
        """Send a fresh full state, after any state already on its way; False when the socket is gone
        or the state could not be built."""
