"""The domain error of live sessions.

A ``ValidationError`` (like ``council.errors.Refused``), so a view can show it beside a form and
the consumer can turn it into ``{"type": "error", ...}``. The message is translated when raised,
in the language active for the user (the consumer activates the user's language around handlers).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError


class Refused(ValidationError):
    """A live-session change or request was refused; nothing was written."""

    def __init__(self, message, code: str = "refused", params=None):
        super().__init__(message, code=code, params=params)

    @property
    def text(self) -> str:
        return str(self.messages[0]) if self.messages else ""
