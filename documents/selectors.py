"""Reads for documents: fetch-and-authorize, badges, version history, full-text search.

Every read that returns documents to a user goes through ``documents.permissions``; a document
the user may not see is reported exactly like a missing one (``Http404``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from documents import permissions
from documents.errors import DocumentWithdrawn
from documents.models import Document, DocumentVersion, Page, Receipt, ReplacementNotice

NEW = "new"
UPDATED = "updated"


def document_for(user, document_id: int) -> Document:
    """The document if ``user`` may see it; 404 for missing and forbidden alike."""
    document = Document.objects.select_related("body", "council").filter(pk=document_id).first()
    if (
        document is not None
        and not permissions.can_manage(user)
        and permissions.was_withdrawn_for(user, document)
    ):
        raise DocumentWithdrawn(document)
    if document is None or not permissions.can_view(user, document):
        raise Http404("No such document")
    return document


def version_for(user, version_id: int) -> DocumentVersion:
    """The version if ``user`` may read it (older versions: clerks only); 404 otherwise."""
    version = (
        DocumentVersion.objects.select_related("document", "document__body").filter(pk=version_id).first()
    )
    if version is None or not permissions.can_view_version(user, version):
        raise Http404("No such document")
    return version


def page_for(user, version_id: int, number: int) -> Page:
    version = version_for(user, version_id)
    page = Page.objects.filter(version=version, number=number).first()
    if page is None or not page.thumbnail:
        raise Http404("No such page")
    return page


def current_versions(document_ids) -> dict[int, DocumentVersion]:
    """The latest version of each document id, in one query."""
    latest: dict[int, DocumentVersion] = {}
    for version in DocumentVersion.objects.filter(document_id__in=list(document_ids)).order_by(
        "document_id", "number"
    ):
        latest[version.document_id] = version
    return latest


def badges_for(user, documents) -> dict[int, str]:
    """``{document_id: "new" | "updated"}`` for released documents the user has not opened,
    or has opened in an older version than the current one. Clerks get no badges."""
    if not getattr(user, "is_authenticated", False) or permissions.can_manage(user):
        return {}
    documents = list(documents)
    seen = dict(
        Receipt.objects.filter(user=user, document__in=documents).values_list("document_id", "version_number")
    )
    latest = current_versions(d.pk for d in documents)
    badges = {}
    for document in documents:
        version = latest.get(document.pk)
        if version is None or not permissions.is_released(document):
            continue
        if document.pk not in seen:
            badges[document.pk] = NEW
        elif seen[document.pk] < version.number:
            badges[document.pk] = UPDATED
    return badges


def unread_notices(user) -> QuerySet[ReplacementNotice]:
    """Replacements the user has not looked at; none for a withdrawn document (it leaves no traces)."""
    if not getattr(user, "is_authenticated", False):
        return ReplacementNotice.objects.none()
    return (
        ReplacementNotice.objects.filter(user=user, read_at__isnull=True)
        .exclude(version__document__release_state=Document.Release.WITHDRAWN)
        .select_related("version", "version__document")
    )


def version_history(document: Document) -> list[DocumentVersion]:
    return list(document.versions.order_by("-number").select_related("created_by"))


def change_summary_text(changes: dict) -> str:
    """One line saying what a replacement changed, e.g. "Changed pages: 2. Added pages: 4."."""
    if not changes or not changes.get("pages"):
        return ""
    parts = []
    for key, label in (
        ("changed", _("Changed pages:")),
        ("added", _("Added pages:")),
        ("removed", _("Removed pages:")),
    ):
        if changes.get(key):
            parts.append(f"{label} {', '.join(str(n) for n in changes[key])}.")
    return " ".join(parts) or _("No page changed.")


# --- search ------------------------------------------------------------------------------------


def normalize(text: str) -> str:
    """As stored in ``Page.search_text``: NFKC, whitespace removed (see the ingest worker)."""
    return "".join(unicodedata.normalize("NFKC", text).split())


@dataclass
class Hit:
    document: Document
    version: DocumentVersion
    page: int
    snippet: SafeString


def _snippet(search_text: str, needle: str, *, width: int = 40) -> SafeString:
    match = re.search(re.escape(needle), search_text, flags=re.IGNORECASE)
    if not match:
        return mark_safe(escape(search_text[: width * 2]))
    start, end = match.span()
    before = search_text[max(start - width, 0) : start]
    after = search_text[end : end + width]
    prefix = "…" if start > width else ""
    suffix = "…" if end + width < len(search_text) else ""
    return mark_safe(
        f"{prefix}{escape(before)}<mark>{escape(search_text[start:end])}</mark>{escape(after)}{suffix}"
    )


def search_pages(user, query: str, *, limit: int = 100) -> list[Hit]:
    """Pages of the current versions of documents ``user`` may see whose text contains ``query``.

    Japanese has no word boundaries, so this is a substring match (``icontains``) on the
    normalized page text; a council's few thousand pages do not need a search engine."""
    needle = normalize(query)
    if not needle:
        return []
    documents = permissions.visible_documents(user)
    latest = current_versions(documents.values_list("pk", flat=True))
    pages = (
        Page.objects.filter(version_id__in=[v.pk for v in latest.values()], search_text__icontains=needle)
        .select_related("version", "version__document")
        .order_by("version__document__title", "version__document_id", "number")[:limit]
    )
    return [
        Hit(
            document=p.version.document,
            version=p.version,
            page=p.number,
            snippet=_snippet(p.search_text, needle),
        )
        for p in pages
    ]
