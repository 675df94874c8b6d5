"""Who may send notices, read them and see read receipts (既読).

Notices are not private the way annotations are: the secretariat sees who opened each one.
A notice and its attachments are readable by its recipients and by the secretariat only.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async

from council import permissions as org


def can_send(user) -> bool:
    return org.is_clerk(user)


def can_see_receipts(user) -> bool:
    return org.is_clerk(user)


def can_read(user, notice) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if org.is_clerk(user):
        return True
    return notice.receipts.filter(user=user).exists()


acan_read = sync_to_async(can_read)
