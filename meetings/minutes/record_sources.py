"""Adapters from the apps that keep the sitting's record (meetings.voting: the roll, the floor,
motions and polls; meetings.live: opening, recess and closing times) to ``record`` dataclasses.

Kept apart so that the rest of the minutes code depends only on the plain shape in ``record``.
"""

from __future__ import annotations

from meetings.minutes.record import SittingRecord


def fill(record: SittingRecord, sitting) -> None:
    """Add attendance, turns, votes and status changes to ``record``."""
    return None
