"""The domain error of live sessions (a ``council.errors.DomainError``).

The consumer turns it into ``{"type": "error", ...}``. The message is translated when raised, in
the language active for the user (the consumer activates the user's language around handlers).
"""

from __future__ import annotations

from council.errors import DomainError


class Refused(DomainError):
    """A live-session change or request was refused; nothing was written."""
