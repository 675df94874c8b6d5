"""Who may see and manage sessions, sittings and orders of business.

Built on ``council.permissions``; used by views, templates (through the context they are given)
and consumers alike. Async twins carry an ``a`` prefix.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async

from council import permissions as org
from meetings.models import Sitting


def can_manage_meetings(user) -> bool:
    """Create sessions and sittings, edit and publish orders of business: the secretariat."""
    return org.is_clerk(user)


def can_view_sitting(user, sitting: Sitting) -> bool:
    """Members of the body, the secretariat and executive officials see a sitting's page."""
    return org.is_clerk(user) or org.is_official(user) or org.is_member_of(user, sitting.body)


def can_follow(user, sitting: Sitting) -> bool:
    """Follow the sitting live (the members' stream, the voting panel): the secretariat, members of
    the sitting's body on its date, and executive officials of the same council (they attend to
    explain bills). The one meaning for ``meetings.live`` and ``meetings.voting``."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if org.is_clerk(user):
        return True
    if org.is_official(user):
        return org.person_of(user).council_id == sitting.body.council_id
    return org.is_member_of(user, sitting.body, on=sitting.date)


def can_view_agenda(user, sitting: Sitting) -> bool:
    """Members see the order of business once it is published; the secretariat sees drafts too."""
    if org.is_clerk(user):
        return True
    return sitting.agenda_published_at is not None and can_view_sitting(user, sitting)


acan_manage_meetings = sync_to_async(can_manage_meetings)
acan_view_sitting = sync_to_async(can_view_sitting)
acan_view_agenda = sync_to_async(can_view_agenda)
acan_follow = sync_to_async(can_follow)
