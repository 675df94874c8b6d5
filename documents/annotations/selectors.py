"""Reads for annotations, bookmarks and offline packets. Every read is for the member's own data.

``search_notes`` is the hook for the documents search: it returns only the caller's own typed
notes, never anyone else's.
"""

from __future__ import annotations

import datetime
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from documents.annotations import permissions
from documents.annotations.models import Annotation, Bookmark, OfflineDevice
from documents.models import Document, DocumentVersion


def own_annotations(user) -> QuerySet[Annotation]:
    """The only way into annotations: the author's own, live ones."""
    if not getattr(user, "is_authenticated", False):
        return Annotation.objects.none()
    return Annotation.objects.filter(member=user, deleted_at__isnull=True)


def annotations_for(user, version: DocumentVersion) -> QuerySet[Annotation]:
    return own_annotations(user).filter(version=version).select_related("conflict_of").order_by("page", "id")


def bookmarks_for(user, version: DocumentVersion) -> QuerySet[Bookmark]:
    if not getattr(user, "is_authenticated", False):
        return Bookmark.objects.none()
    return Bookmark.objects.filter(member=user, version=version).order_by("page")


@dataclass
class NoteHit:
    document: Document
    version: DocumentVersion
    page: int
    text: str
    kind: str
    needs_review: bool
    conflict: bool
    client_id: object = None


def _normal(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def search_notes(*, user, query: str, limit: int = 100) -> list[NoteHit]:
    """The member's own typed notes containing ``query`` (NFKC, whitespace-insensitive), newest first.

    Notes stay searchable even if the member can no longer open the document; the hit then
    simply has no reader link (callers check ``documents.permissions.can_view``)."""
    needle = _normal(query or "")
    if not needle:
        return []
    notes = (
        own_annotations(user)
        .filter(kind=Annotation.Kind.NOTE)
        .exclude(text="")
        .select_related("document", "version")
        .order_by("-updated_at")
    )
    hits = []
    for note in notes.iterator(chunk_size=500):
        # Python-side match: Django's icontains does not normalize full-width forms, and a
        # member's notes are few enough to scan.
        if needle.casefold() in _normal(note.text).casefold():
            hits.append(
                NoteHit(
                    note.document,
                    note.version,
                    note.page,
                    note.text,
                    note.kind,
                    note.needs_review,
                    note.conflict_of_id is not None,
                    note.client_id,
                )
            )
            if len(hits) >= limit:
                break
    return hits


def my_notes(user, *, query: str = "") -> list[NoteHit]:
    """Every note, highlight and drawing of the member across all documents (grouped by the page)."""
    if query:
        return search_notes(user=user, query=query, limit=500)
    rows = (
        own_annotations(user)
        .select_related("document", "version")
        .order_by("document__title", "document_id", "version__number", "page", "id")
    )
    return [
        NoteHit(
            a.document,
            a.version,
            a.page,
            a.text,
            a.kind,
            a.needs_review,
            a.conflict_of_id is not None,
            a.client_id,
        )
        for a in rows[:2000]
    ]


def current_version_ids(document_ids) -> set[int]:
    latest: dict[int, int] = {}
    for doc_id, version_id in (
        DocumentVersion.objects.filter(document_id__in=set(document_ids))
        .order_by("document_id", "number")
        .values_list("document_id", "id")
    ):
        latest[doc_id] = version_id
    return set(latest.values())


def my_bookmarks(user) -> QuerySet[Bookmark]:
    if not getattr(user, "is_authenticated", False):
        return Bookmark.objects.none()
    return (
        Bookmark.objects.filter(member=user)
        .select_related("document", "version")
        .order_by("document__title", "page")
    )


def needing_review(user) -> QuerySet[Annotation]:
    """Notes left on a changed page by a replacement (差し替え), waiting for their member."""
    return (
        own_annotations(user)
        .filter(needs_review=True)
        .select_related("document", "version", "review_version")
    )


def own_flagged(user, client_id) -> Annotation | None:
    return needing_review(user).filter(client_id=client_id).first()


# --- Offline packets ----------------------------------------------------------------------


@dataclass
class PacketItem:
    document: Document
    version: DocumentVersion
    sitting: object  # what the document is for (a sitting, in practice): shown as text, sorted by ``.date``


#: ``(user, today) -> {document id: sitting}``: the documents of the user's upcoming sittings that
#: may be taken out of the building (never those of a closed-session item), each with its
#: earliest upcoming sitting. Sittings are the meetings' business, and meetings builds on
#: documents, so the meetings app registers it (``meetings.apps``); without it nothing is offline.
UpcomingDocuments = Callable[[object, datetime.date], dict[int, object]]
_upcoming_documents: list[UpcomingDocuments] = []


def register_upcoming_documents(provider: UpcomingDocuments) -> None:
    _upcoming_documents[:] = [provider]


def packet_for(user, *, today=None) -> list[PacketItem]:
    """The released documents of the member's upcoming sittings that may be kept offline.

    Closed-session material is never included: documents with closed-session visibility here,
    and documents linked to a closed-session agenda item by the registered provider."""
    from documents.permissions import released_q, visible_documents

    if not permissions.can_keep_offline(user) or not _upcoming_documents:
        return []
    today = today or timezone.localdate()
    upcoming = _upcoming_documents[0](user, today)
    documents = (
        visible_documents(user)
        .filter(released_q())
        .filter(pk__in=list(upcoming))
        .exclude(visibility=Document.Visibility.CLOSED_SESSION)
        .distinct()
    )
    items = []
    for document in documents.order_by("title", "pk"):
        version = document.current_version
        if version is None or not permissions.can_view_document(user, document):
            continue
        items.append(PacketItem(document=document, version=version, sitting=upcoming[document.pk]))
    items.sort(key=lambda i: (i.sitting.date if i.sitting else today, i.document.title))
    return items


def devices_of(user) -> QuerySet[OfflineDevice]:
    return OfflineDevice.objects.filter(member=user).order_by("-last_seen_at")
