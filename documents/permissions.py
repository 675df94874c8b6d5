"""Who may see and manage agenda documents. Every access decision about a document goes
through here: page views, file and thumbnail downloads, search results, WebSocket messages.

Rules:
- Clerks (secretariat staff and administrators) manage documents and see everything,
  drafts, withdrawn documents and superseded versions included.
- Nobody else sees a document before it is released (release state "released", or
  "scheduled" with ``release_at`` in the past), nor after it is withdrawn.
- Released documents by visibility:
  - public: everybody, anonymous visitors included;
  - members: members of the document's body (for the plenary, every councillor in office)
    and executive officials (they attend to explain the bills and receive the packet);
  - closed session (秘密会): members of the body only — not officials, not the public;
  - secretariat: clerks only.
- Only the current version of a document is readable to non-clerks; older versions stay
  readable to the secretariat (history of 差し替え).

The async twins (``a``-prefix) run the same checks off the event loop for consumers.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.db.models import Q, QuerySet
from django.utils import timezone

from council import permissions as council_permissions
from documents.models import Document, DocumentVersion


def released_q(*, now=None) -> Q:
    """Documents released now: released, or scheduled with the release time passed."""
    now = now or timezone.now()
    return Q(release_state=Document.Release.RELEASED) | Q(
        release_state=Document.Release.SCHEDULED, release_at__isnull=False, release_at__lte=now
    )


def is_released(document: Document, *, now=None) -> bool:
    if document.release_state == Document.Release.RELEASED:
        return True
    if document.release_state == Document.Release.SCHEDULED and document.release_at is not None:
        return document.release_at <= (now or timezone.now())
    return False


def can_manage(user) -> bool:
    """Upload, replace, release and withdraw documents: clerks and administrators."""
    return council_permissions.is_clerk(user)


def is_public(document: Document) -> bool:
    """Anyone, signed in or not, may read it."""
    return is_released(document) and document.visibility == Document.Visibility.PUBLIC


def can_view(user, document: Document) -> bool:
    if can_manage(user):
        return True
    if not is_released(document):
        return False
    return _may_read_when_released(user, document)


def was_withdrawn_for(user, document: Document) -> bool:
    """A released document the user could read has been withdrawn: they are told so (410), since
    they knew of it. Anyone else gets the plain 404, so the answer reveals nothing new."""
    return (
        document.release_state == Document.Release.WITHDRAWN
        and document.released_at is not None
        and _may_read_when_released(user, document)
    )


def _may_read_when_released(user, document: Document) -> bool:
    visibility = document.visibility
    if visibility == Document.Visibility.PUBLIC:
        return True
    if visibility == Document.Visibility.MEMBERS:
        if council_permissions.is_official(user):
            person = council_permissions.person_of(user)
            return person.council_id == document.council_id
        return council_permissions.is_member_of(user, document.body)
    if visibility == Document.Visibility.CLOSED_SESSION:
        return council_permissions.is_member_of(user, document.body)
    return False  # secretariat only


def can_view_version(user, version: DocumentVersion) -> bool:
    """The current version to whoever may view the document; older versions to clerks only."""
    if can_manage(user):
        return True
    if not can_view(user, version.document):
        return False
    latest = version.document.versions.order_by("-number").values_list("id", flat=True).first()
    return latest == version.id


def visible_documents(user) -> QuerySet[Document]:
    """The documents ``user`` may view, as one query (used by lists and search)."""
    documents = Document.objects.all()
    if can_manage(user):
        return documents
    visible = Q(visibility=Document.Visibility.PUBLIC)
    person = council_permissions.person_of(user)
    if person is not None and person.active:
        body_ids = list(council_permissions.bodies_for(user).values_list("id", flat=True))
        member_of = Q(body_id__in=body_ids)
        visible |= Q(visibility=Document.Visibility.CLOSED_SESSION) & member_of
        if council_permissions.is_official(user):
            visible |= Q(visibility=Document.Visibility.MEMBERS, council_id=person.council_id)
        else:
            visible |= Q(visibility=Document.Visibility.MEMBERS) & member_of
    return documents.filter(released_q()).filter(visible)


acan_view = sync_to_async(can_view)
acan_view_version = sync_to_async(can_view_version)
acan_manage = sync_to_async(can_manage)
ais_public = sync_to_async(is_public)
