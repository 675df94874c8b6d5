"""Who may follow, run and present a sitting. Used by views, consumers and handlers alike.

* follow (members' endpoint): the secretariat, members of the sitting's body, and executive
  officials of the same council (they attend to explain bills);
* run (open, recess, resume, close, move through the agenda, choose what is presented, hand
  presenting over and take it back): the secretariat and the chair of the body;
* present (turn pages of the presented document): whoever may run the sitting, and the person
  the presenting was handed to;
* the public view (傍聴): anyone, for sittings open to the public.

Async twins (``a``-prefix) run the same checks off the event loop.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async

from council import permissions as council_permissions
from meetings.models import Sitting
from meetings.permissions import can_follow  # the one meaning of following, for live and voting alike


def can_run(user, sitting: Sitting) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return council_permissions.is_clerk(user) or council_permissions.is_chair_of(user, sitting.body, on=sitting.date)


def can_present(user, sitting: Sitting, *, presenter_id: int | None) -> bool:
    """``presenter_id`` is the live state's presenter (None while the default presenters present)."""
    if presenter_id is not None and getattr(user, "pk", None) == presenter_id and can_follow(user, sitting):
        return True
    return can_run(user, sitting)


def can_watch_public(sitting: Sitting) -> bool:
    """The public view exists for sittings open to the public that have not been cancelled."""
    return sitting.is_public and sitting.status != Sitting.Status.CANCELLED


acan_run = sync_to_async(can_run)
acan_present = sync_to_async(can_present)
