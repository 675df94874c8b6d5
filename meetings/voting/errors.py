"""The domain error of the voting area.

A ``ValidationError`` (as the live consumer expects), carrying a translated message and a stable
``code`` (``not_entitled``, ``poll_closed``, ``unknown_choice``, ``no_quorum``, ``remote_plenary``,
``already_voted`` …) that tests and clients can rely on.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError


class VotingError(ValidationError):
    """A voting, attendance or floor change was refused; nothing was written."""

    def __init__(self, message, code: str = "refused", params=None):
        super().__init__(message, code=code, params=params)

    @property
    def text(self) -> str:
        return str(self.messages[0]) if self.messages else ""
