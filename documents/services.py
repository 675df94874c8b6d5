"""State changes for documents: upload, replacement (差し替え), release, withdrawal, receipts.

Reading an uploaded file happens before any database write, in a limited process
(``documents.ingest``); a refused file leaves nothing stored. Accepted files go through
Django's storage API under generated names. Every change writes an audit entry in the same
transaction; if the transaction fails, the files it stored are deleted again.
"""

from __future__ import annotations

import datetime
import os
import uuid
from pathlib import Path

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from council.audit import audit_record
from council.models import Body
from documents import permissions
from documents.errors import DocumentError
from documents.ingest import IngestResult, read_pdf
from documents.models import Document, DocumentVersion, Page, Receipt, ReplacementNotice

__all__ = [
    "DocumentError",
    "document_create",
    "document_replace",
    "document_release",
    "document_withdraw",
    "document_update",
    "release_due_documents",
    "receipt_record",
    "page_changes",
]


# --- storing an ingested file ----------------------------------------------------------------


class _StoredFiles:
    """Names written to storage for one version; deleted again if the transaction fails."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def save(self, prefix: str, suffix: str, path: Path) -> str:
        with open(path, "rb") as f:
            name = default_storage.save(f"{prefix}{uuid.uuid4().hex}{suffix}", File(f))
        self.names.append(name)
        return name

    def delete_all(self) -> None:
        for name in self.names:
            try:
                default_storage.delete(name)
            except OSError:
                pass


def _store_version(
    *,
    document: Document,
    number: int,
    result: IngestResult,
    original: Path,
    original_name: str,
    actor,
    note: str,
    files: _StoredFiles,
) -> DocumentVersion:
    """Writes the files and rows of one version; runs inside the caller's transaction."""
    served_name = files.save("documents/served/", ".pdf", result.served_path)
    original_name_stored = files.save("documents/original/", ".pdf", original)
    version = DocumentVersion.objects.create(
        document=document,
        number=number,
        served_file=served_name,
        original_file=original_name_stored,
        original_name=os.path.basename(original_name)[:255],
        original_sha256=result.original_sha256,
        served_sha256=result.served_sha256,
        size=result.served_size,
        page_count=result.page_count,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        note=note[:300],
        ingest_changes=result.changes,
    )
    pages = []
    for page in result.pages:
        thumb = files.save("documents/thumbs/", ".jpg", result.thumbnail_path(page))
        pages.append(
            Page(
                version=version,
                number=page["number"],
                text=page["text"],
                search_text=page["search_text"],
                text_hash=page["text_hash"],
                content_hash=page["content_hash"],
                thumbnail=thumb,
                width=page["width"],
                height=page["height"],
            )
        )
    Page.objects.bulk_create(pages, batch_size=200)
    return version


def _ingest(path: str | os.PathLike) -> IngestResult:
    return read_pdf(path)


def _check_title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise DocumentError(_("Give the document a title."), reason="title")
    return title[:300]


# --- announcements (documents.notices) --------------------------------------------------------


def _announce_release_on_commit(document: Document, actor=None) -> None:
    """After commit, a notice to the document's readers (the notices area; e-mail when configured).
    A failure there must not undo the release: it is logged, and the notices sweep retries."""

    def announce() -> None:
        from documents.notices.services import notify_document_released

        notify_document_released(document=Document.objects.get(pk=document.pk), actor=actor)

    transaction.on_commit(announce, robust=True)


def _announce_replacement_on_commit(version: DocumentVersion, actor=None) -> None:
    def announce() -> None:
        from documents.notices.services import notify_document_replaced

        notify_document_replaced(
            version=DocumentVersion.objects.select_related("document").get(pk=version.pk), actor=actor
        )

    transaction.on_commit(announce, robust=True)


# --- create and replace ----------------------------------------------------------------------


def document_create(
    *,
    body: Body,
    title: str,
    path: str | os.PathLike,
    original_name: str,
    actor,
    visibility: str = Document.Visibility.MEMBERS,
    release_at: datetime.datetime | None = None,
    release_now: bool = False,
) -> Document:
    """A new document with its first version, from the uploaded file at ``path``.

    Starts as a draft unless ``release_now`` or a ``release_at`` (scheduled) is given."""
    if not permissions.can_manage(actor):
        raise DocumentError(_("Only the secretariat can upload documents."), reason="forbidden")
    title = _check_title(title)
    if visibility not in Document.Visibility.values:
        raise DocumentError(_("Choose who may see the document."), reason="visibility")
    result = _ingest(path)
    files = _StoredFiles()
    try:
        with transaction.atomic():
            now = timezone.now()
            document = Document.objects.create(
                council=body.council,
                body=body,
                title=title,
                visibility=visibility,
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
            if release_now:
                document.release_state, document.released_at = Document.Release.RELEASED, now
            elif release_at is not None:
                document.release_state, document.release_at = Document.Release.SCHEDULED, release_at
            document.save(update_fields=["release_state", "released_at", "release_at"])
            version = _store_version(
                document=document,
                number=1,
                result=result,
                original=Path(path),
                original_name=original_name,
                actor=actor,
                note="",
                files=files,
            )
            audit_record(
                action="documents.created",
                actor=actor,
                target=document,
                data={
                    "version": version.pk,
                    "pages": version.page_count,
                    "sha256": version.original_sha256,
                    "visibility": visibility,
                    "release_state": document.release_state,
                    "ingest_changes": version.ingest_changes,
                },
            )
            if release_now:
                _announce_release_on_commit(document, actor)
    except BaseException:
        files.delete_all()
        raise
    finally:
        result.cleanup()
    return document


def page_changes(*, old: DocumentVersion, new: DocumentVersion) -> dict:
    """What changed between two versions, page by page.

    A page is unchanged when the same page number has the same text hash and content hash in
    both. Returns ``{"unchanged": {old_page: new_page}, "changed": [...], "added": [...],
    "removed": [...], "pages": [old_count, new_count]}`` (page numbers are 1-based)."""
    old_pages = dict(Page.objects.filter(version=old).values_list("number", "text_hash"))
    old_content = dict(Page.objects.filter(version=old).values_list("number", "content_hash"))
    unchanged: dict[int, int] = {}
    changed: list[int] = []
    added: list[int] = []
    new_numbers = set()
    for number, text_hash, content_hash in (
        Page.objects.filter(version=new).values_list("number", "text_hash", "content_hash").order_by("number")
    ):
        new_numbers.add(number)
        if number not in old_pages:
            added.append(number)
        elif old_pages[number] == text_hash and old_content[number] == content_hash:
            unchanged[number] = number
        else:
            changed.append(number)
    removed = sorted(n for n in old_pages if n not in new_numbers)
    return {
        "unchanged": unchanged,
        "changed": changed,
        "added": added,
        "removed": removed,
        "pages": [old.page_count, new.page_count],
    }


def document_replace(
    *, document: Document, path: str | os.PathLike, original_name: str, actor, note: str = ""
) -> DocumentVersion:
    """Replacement (差し替え): a new version of ``document`` from the file at ``path``.

    Members' annotations on unchanged pages are carried to the new version; everyone who holds
    the document gets a replacement notice saying what changed."""
    from documents.annotations.services import carry_forward

    if not permissions.can_manage(actor):
        raise DocumentError(_("Only the secretariat can replace documents."), reason="forbidden")
    result = _ingest(path)
    files = _StoredFiles()
    try:
        with transaction.atomic():
            document = Document.objects.select_for_update().get(pk=document.pk)
            old = document.versions.order_by("-number").first()
            number = (old.number + 1) if old else 1
            new = _store_version(
                document=document,
                number=number,
                result=result,
                original=Path(path),
                original_name=original_name,
                actor=actor,
                note=note,
                files=files,
            )
            summary: dict = {}
            if old is not None:
                summary = page_changes(old=old, new=new)
                # JSON keys are strings; keep the stored summary JSON-shaped.
                new.change_summary = {
                    **summary,
                    "unchanged": {str(k): v for k, v in summary["unchanged"].items()},
                    "previous_version": old.pk,
                }
                new.save(update_fields=["change_summary"])
                carry_forward(old=old, new=new, unchanged_pages=summary["unchanged"])
            notified = _notify_holders(document=document, version=new)
            _announce_replacement_on_commit(new, actor)
            audit_record(
                action="documents.replaced",
                actor=actor,
                target=document,
                data={
                    "version": new.pk,
                    "number": new.number,
                    "pages": new.page_count,
                    "sha256": new.original_sha256,
                    "changed": summary.get("changed", []),
                    "added": summary.get("added", []),
                    "removed": summary.get("removed", []),
                    "notified": notified,
                    "ingest_changes": new.ingest_changes,
                },
            )
    except BaseException:
        files.delete_all()
        raise
    finally:
        result.cleanup()
    return new


def _notify_holders(*, document: Document, version: DocumentVersion) -> int:
    """A notice for every member who holds (has opened) the document and may still see it."""
    from django.contrib.auth import get_user_model

    holders = get_user_model().objects.filter(
        pk__in=Receipt.objects.filter(document=document).values("user_id")
    )
    notices = [
        ReplacementNotice(version=version, user=user)
        for user in holders
        if permissions.can_view(user, document)
    ]
    ReplacementNotice.objects.bulk_create(notices, ignore_conflicts=True)
    return len(notices)


# --- release -----------------------------------------------------------------------------------


def document_release(*, document: Document, actor, at: datetime.datetime | None = None) -> Document:
    """Release now, or schedule the release for ``at`` (a time in the past releases now)."""
    if not permissions.can_manage(actor):
        raise DocumentError(_("Only the secretariat can release documents."), reason="forbidden")
    with transaction.atomic():
        document = Document.objects.select_for_update().get(pk=document.pk)
        if not document.versions.exists():
            raise DocumentError(_("This document has no file yet."), reason="no_file")
        now = timezone.now()
        if at is None or at <= now:
            document.release_state = Document.Release.RELEASED
            document.released_at = now
            document.release_at = None
        else:
            document.release_state = Document.Release.SCHEDULED
            document.release_at = at
            document.released_at = None
        document.save(update_fields=["release_state", "released_at", "release_at"])
        audit_record(
            action="documents.released" if at is None or at <= now else "documents.scheduled",
            actor=actor,
            target=document,
            data={"release_at": document.release_at, "visibility": document.visibility},
        )
        if document.release_state == Document.Release.RELEASED:
            _announce_release_on_commit(document, actor)
    return document


def document_withdraw(*, document: Document, actor) -> Document:
    """Withdraw: nobody but the secretariat sees it any more."""
    if not permissions.can_manage(actor):
        raise DocumentError(_("Only the secretariat can withdraw documents."), reason="forbidden")
    with transaction.atomic():
        document = Document.objects.select_for_update().get(pk=document.pk)
        document.release_state = Document.Release.WITHDRAWN
        document.release_at = None
        document.save(update_fields=["release_state", "release_at"])
        audit_record(action="documents.withdrawn", actor=actor, target=document)
    return document


def document_update(
    *, document: Document, actor, title: str | None = None, visibility: str | None = None
) -> Document:
    """Change the title or the visibility (public, members, secretariat, closed session)."""
    if not permissions.can_manage(actor):
        raise DocumentError(_("Only the secretariat can change documents."), reason="forbidden")
    with transaction.atomic():
        document = Document.objects.select_for_update().get(pk=document.pk)
        changes = {}
        if title is not None:
            changes["title"] = document.title = _check_title(title)
        if visibility is not None:
            if visibility not in Document.Visibility.values:
                raise DocumentError(_("Choose who may see the document."), reason="visibility")
            changes["visibility"] = document.visibility = visibility
        document.save(update_fields=list(changes) or None)
        audit_record(action="documents.updated", actor=actor, target=document, data=changes)
    return document


def release_due_documents(*, now: datetime.datetime | None = None) -> int:
    """Marks scheduled documents whose time has come as released (cron; visibility already
    treats them as released, this makes the state explicit). Returns how many."""
    now = now or timezone.now()
    count = 0
    with transaction.atomic():
        due = Document.objects.select_for_update().filter(
            release_state=Document.Release.SCHEDULED, release_at__isnull=False, release_at__lte=now
        )
        for document in due:
            document.release_state = Document.Release.RELEASED
            document.released_at = document.release_at
            document.save(update_fields=["release_state", "released_at"])
            audit_record(
                action="documents.released",
                target=document,
                data={"scheduled_for": document.release_at, "by": "schedule"},
            )
            _announce_release_on_commit(document)
            count += 1
    return count


# --- receipts ------------------------------------------------------------------------------------


def receipt_record(*, user, version: DocumentVersion) -> None:
    """``user`` opened ``version``: they now hold the document (clears "new"/"updated")."""
    if not getattr(user, "is_authenticated", False):
        return
    now = timezone.now()
    with transaction.atomic():
        receipt, created = Receipt.objects.select_for_update().get_or_create(
            document_id=version.document_id,
            user=user,
            defaults={"version_number": version.number, "first_seen_at": now, "last_seen_at": now},
        )
        if not created and receipt.version_number < version.number:
            receipt.version_number = version.number
        receipt.last_seen_at = now
        receipt.save(update_fields=["version_number", "last_seen_at"])
        ReplacementNotice.objects.filter(
            user=user,
            version__document_id=version.document_id,
            version__number__lte=version.number,
            read_at__isnull=True,
        ).update(read_at=now)
