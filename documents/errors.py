"""The error document services raise when they refuse something; the message is translated."""

from __future__ import annotations


class DocumentError(Exception):
    """A refused document operation; nothing was stored. ``message`` is in the user's language."""

    def __init__(self, message: str, *, reason: str = "refused") -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


class DocumentWithdrawn(Exception):
    """The user asked for a document they could read before it was withdrawn (answered with 410)."""

    def __init__(self, document) -> None:
        super().__init__(f"document {document.pk} was withdrawn")
        self.document = document
