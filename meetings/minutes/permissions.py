"""Who may do what with the minutes. Used by views and templates alike.

The secretariat drafts and edits; the chair and the nominated signers read the text under
review and sign it; members of the body read it once signed; everyone reads it once published.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async

from council.permissions import is_clerk, is_member_of, person_of
from meetings.minutes.models import Minutes


def can_manage(user) -> bool:
    """Draft, edit, import transcripts, nominate signers, submit, publish, correct."""
    return is_clerk(user)


def is_signatory(user, minutes: Minutes) -> bool:
    person = person_of(user)
    return bool(person and minutes.signatories.filter(person=person).exists())


def can_view(user, minutes: Minutes) -> bool:
    if minutes.state == Minutes.State.PUBLISHED or can_manage(user):
        return True
    if minutes.state == Minutes.State.DRAFT:
        return False
    if is_signatory(user, minutes):
        return True
    return minutes.is_frozen and is_member_of(user, minutes.sitting.body, on=minutes.sitting.date)


def can_sign(user, minutes: Minutes) -> bool:
    if minutes.state != Minutes.State.REVIEW or not is_signatory(user, minutes):
        return False
    return not minutes.signatures.filter(person=person_of(user)).exists()


def can_view_public(minutes: Minutes) -> bool:
    return minutes.state == Minutes.State.PUBLISHED


acan_manage = sync_to_async(can_manage)
acan_view = sync_to_async(can_view)
acan_sign = sync_to_async(can_sign)
