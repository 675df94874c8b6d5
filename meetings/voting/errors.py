"""The domain error of the voting area (a ``council.errors.DomainError``), with codes such as
``not_entitled``, ``poll_closed``, ``unknown_choice``, ``no_quorum``, ``remote_plenary``,
``already_voted``.
"""

from __future__ import annotations

from council.errors import DomainError


class VotingError(DomainError):
    """A voting, attendance or floor change was refused; nothing was written."""
