"""Who may do what with the roll, the floor and votes. Used by views, WebSocket handlers and
templates alike; each check has an async twin.

- The clerk (secretariat) keeps the roll, records identity checks and enters standing counts.
- The chair (委員長/議長) runs the floor and the votes; the clerk may operate the console for the
  chair, and every action records who did it.
- Remote requests are decided by the chair of the body (the clerk may record the chair's decision).
- Members of the body request the floor, check in online, vote and object.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async

from council import permissions as council_permissions
from council.permissions import is_chair_of, is_clerk, is_member_of, person_of
from meetings.models import Sitting


def can_keep_roll(user, sitting: Sitting) -> bool:
    return is_clerk(user)


def can_chair(user, sitting: Sitting) -> bool:
    """Run the floor and votes (the chair, or the clerk at the console)."""
    return is_clerk(user) or is_chair_of(user, sitting.body, on=sitting.date)


def can_decide_remote(user, sitting: Sitting) -> bool:
    return can_chair(user, sitting)


def can_take_part(user, sitting: Sitting) -> bool:
    """A member of the body on the sitting's date: requests the floor, checks in, votes."""
    return council_permissions.is_councillor(user) and is_member_of(user, sitting.body, on=sitting.date)


def sees_clerk_view(user, sitting: Sitting) -> bool:
    """Who sees who has not yet voted, pending remote requests and suggestions."""
    return can_chair(user, sitting)


__all__ = ["person_of"]

acan_keep_roll = sync_to_async(can_keep_roll)
acan_chair = sync_to_async(can_chair)
acan_decide_remote = sync_to_async(can_decide_remote)
acan_take_part = sync_to_async(can_take_part)
