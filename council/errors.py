"""The domain error: what every area's services raise when they refuse a change.

``DomainError`` carries a stable ``code`` (``not_entitled``, ``poll_closed``, ``too_large`` …) that
tests and clients rely on, and a message already translated into the active language. It is a
``ValidationError``, so a view can hand it straight to ``form.add_error`` and the message appears
beside the form. Each area names its own subclass (``VotingError``, ``DocumentError`` …) so a
caller can tell where a refusal came from; views and consumers catch ``DomainError`` and show it
one way: ``text`` on a page, ``as_dict()`` (``{"code", "error"}``) in JSON and on the sockets.

An ``invalid`` refusal names the input it is about as ``field`` (the name the request used:
``status``, ``reason``, ``person_id`` …), which the sockets send on to the client (docs/protocol.md,
"Errors") and JSON answers carry beside the code.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import JsonResponse


class DomainError(ValidationError):
    """A service refused a change; nothing was written."""

    default_code = "refused"
    code = default_code  # ValidationError sets ``code`` only for a single message

    field: str | None = None

    def __init__(self, message, code: str | None = None, params=None, *, field: str | None = None):
        super().__init__(message, code=code or self.default_code, params=params)
        self.field = field

    @property
    def text(self) -> str:
        """The message (or the messages, for a refusal of several fields), as shown to the user."""
        return " ".join(str(message) for message in self.messages)

    def __str__(self) -> str:
        return self.text

    def as_dict(self) -> dict:
        answer = {"code": self.code, "error": self.text}
        if self.field is not None:
            answer["field"] = self.field
        return answer


def refusal_response(exc: DomainError, *, status: int = 400, **extra) -> JsonResponse:
    """The JSON answer of every endpoint that refuses a change: ``{"code", "error", **extra}``."""
    return JsonResponse({**exc.as_dict(), **extra}, status=status)


class Refused(DomainError):
    """A change to the organisation or to the meetings' schedule was refused."""
