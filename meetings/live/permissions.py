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
    return council_permissions.is_clerk(user) or council_permissions.is_chair_of(
        user, sitting.body, on=sitting.date
    )


def can_present(user, sitting: Sitting, *, presenter_id: int | None) -> bool:
    """``presenter_id`` is the live state's presenter (None while the default presenters present)."""
    if presenter_id is not None and getattr(user, "pk", None) == presenter_id and can_follow(user, sitting):
        return True
    return can_run(user, sitting)


def is_closed_session_paper(document) -> bool:
    """A closed-session (秘密会) paper: by its visibility, or (unless public) because it belongs to a
    closed-session item. Only the body's members and the secretariat may open one."""
    from documents.models import Document

    if document.visibility == Document.Visibility.CLOSED_SESSION:
        return True
    if document.visibility == Document.Visibility.PUBLIC:
        return False
    return document.agenda_links.filter(agenda_item__closed_session=True).exists()


def reads_closed_session(user, sitting: Sitting) -> bool:
    """May this follower of the sitting open its closed-session papers? The secretariat and the
    body's members may; executive officials, who follow every sitting, may not."""
    if not getattr(user, "is_authenticated", False):
        return False
    return council_permissions.is_clerk(user) or council_permissions.is_member_of(
        user, sitting.body, on=sitting.date
    )


def presenting_refusal(document, *, sitting: Sitting, agenda_item) -> str | None:
    """Why ``document`` may not be presented in ``sitting`` while ``agenda_item`` (or None) is under
    way, or None when it may. Every follower of the members' stream receives what is presented,
    so it must be theirs to read:

    * ``unreleased``: not released, or for the secretariat only;
    * ``other_body``: a members-only paper of another body (the plenary's papers are every
      councillor's, so a committee may show them);
    * ``closed_session``: a closed-session (秘密会) paper, by its visibility or (unless public)
      because it belongs to a closed-session item, outside a closed-session item of its own body.

    During such an item the followers who may not open its papers (officials) receive the
    presentation blanked (``reads_closed_session``; ``meetings.events`` "narrow" payloads).
    """
    from documents.models import Document
    from documents.permissions import is_released

    if not is_released(document) or document.visibility == Document.Visibility.SECRETARIAT:
        return "unreleased"
    if document.council_id != sitting.body.council_id:
        return "other_body"
    own_body = document.body_id == sitting.body_id
    if document.visibility == Document.Visibility.PUBLIC:
        return None  # anyone may read it
    if is_closed_session_paper(document):
        if not own_body:
            return "other_body"
        if agenda_item is None or not agenda_item.closed_session:
            return "closed_session"
        return None
    if document.visibility == Document.Visibility.MEMBERS and not own_body and not document.body.is_plenary:
        return "other_body"
    return None


def can_watch_public(sitting: Sitting) -> bool:
    """The public view exists for sittings open to the public that have not been cancelled."""
    return sitting.is_public and sitting.status != Sitting.Status.CANCELLED


acan_run = sync_to_async(can_run)
acan_present = sync_to_async(can_present)
