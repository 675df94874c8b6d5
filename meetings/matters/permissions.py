"""Who may manage matters and who may give notice of general questions.

The public pages need no check beyond the selectors (published, public, never secret ballots).
"""

from __future__ import annotations

from asgiref.sync import sync_to_async

from council import permissions as org


def can_manage_matters(user) -> bool:
    """Submit matters, record steps, publish results: the secretariat."""
    return org.is_clerk(user)


def can_give_questions(user) -> bool:
    """Give notice of general questions: a councillor in office."""
    return org.is_councillor(user)


acan_manage_matters = sync_to_async(can_manage_matters)
acan_give_questions = sync_to_async(can_give_questions)
