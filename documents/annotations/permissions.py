"""Who may do what with annotations, bookmarks, offline packets and read receipts.

The rule for annotations is simple and has no exceptions: only their author ever sees them.
Every query in this app filters by ``member=request.user``; there is no clerk or admin override.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async

from council import permissions as org
from documents.models import Document
from documents.permissions import can_view


def can_view_document(user, document: Document) -> bool:
    """The documents app decides visibility; annotating needs exactly that."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(can_view(user, document))


def can_annotate(user, document: Document) -> bool:
    return can_view_document(user, document)


def can_keep_offline(user) -> bool:
    """Members (and staff who read packets) may keep an offline copy on a device."""
    return bool(getattr(user, "is_authenticated", False)) and (
        org.is_councillor(user) or org.is_clerk(user) or org.is_official(user)
    )


def can_manage_devices(user) -> bool:
    """Revoking another person's devices (a lost tablet) is for administrators and the secretariat."""
    return org.is_clerk(user)


def can_see_read_receipts(user) -> bool:
    return org.is_clerk(user)


acan_annotate = sync_to_async(can_annotate)
acan_view_document = sync_to_async(can_view_document)
