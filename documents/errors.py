"""The error document services raise when they refuse something (a ``council.errors.DomainError``)."""

from __future__ import annotations

from council.errors import DomainError


class DocumentError(DomainError):
    """A refused document operation; nothing was stored. ``message`` is in the user's language;
    ``reason`` is the code (``too_large``, ``not_pdf`` …)."""

    def __init__(self, message: str, *, reason: str = "refused") -> None:
        super().__init__(message, code=reason)
        self.reason = reason


class DocumentWithdrawn(Exception):
    """The user asked for a document they could read before it was withdrawn (answered with 410)."""

    def __init__(self, document) -> None:
        super().__init__(f"document {document.pk} was withdrawn")
        self.document = document
