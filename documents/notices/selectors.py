"""Reads for notices: a member's inbox, a notice's receipts, who has opened a released document."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from documents.models import Document
from documents.notices import permissions
from documents.notices.models import Notice, NoticeReceipt


def inbox(user) -> QuerySet[NoticeReceipt]:
    """The user's notices, newest (or most recently resent) first, with the notice joined."""
    if not getattr(user, "is_authenticated", False):
        return NoticeReceipt.objects.none()
    return (
        NoticeReceipt.objects.filter(user=user)
        .select_related("notice", "notice__document")
        .prefetch_related("notice__attachments")
        .order_by("-last_sent_at", "-notice_id")
    )


def unread_count(user) -> int:
    return inbox(user).filter(opened_at__isnull=True).count()


def notice_for(user, notice_id: int) -> Notice:
    """The notice if ``user`` may read it; 404 for missing and forbidden alike."""
    notice = Notice.objects.select_related("council", "sender", "document").filter(pk=notice_id).first()
    if notice is None or not permissions.can_read(user, notice):
        raise Http404("No such notice")
    return notice


def sent_notices(council=None) -> QuerySet[Notice]:
    """For the secretariat: every notice with its recipient and read counts."""
    qs = Notice.objects.all()
    if council is not None:
        qs = qs.filter(council=council)
    return qs.annotate(
        recipients=Count("receipts", distinct=True),
        opened=Count("receipts", filter=Q(receipts__opened_at__isnull=False), distinct=True),
    ).order_by("-last_sent_at", "-id")


def receipts_of(notice: Notice) -> QuerySet[NoticeReceipt]:
    return notice.receipts.select_related("user", "user__person").order_by("opened_at", "user__username")


@dataclass
class ReaderRow:
    user: object
    opened_at: object
    last_seen_at: object
    version_number: int | None


def document_readers(document: Document) -> list[ReaderRow]:
    """Everyone who should read a released document, and whether and when they opened it (既読).

    Opening is recorded by the reader (``documents.Receipt``)."""
    from documents.models import Receipt
    from documents.notices.services import readers_of

    seen = {r.user_id: r for r in Receipt.objects.filter(document=document)}
    rows = []
    for user in readers_of(document):
        r = seen.get(user.pk)
        rows.append(
            ReaderRow(
                user=user,
                opened_at=r.first_seen_at if r else None,
                last_seen_at=r.last_seen_at if r else None,
                version_number=r.version_number if r else None,
            )
        )
    rows.sort(
        key=lambda row: (
            row.opened_at is not None,
            getattr(getattr(row.user, "person", None), "seat_number", None) or 999,
        )
    )
    return rows


def released_documents_with_counts(council=None) -> list[dict]:
    from documents.permissions import released_q

    documents = Document.objects.filter(released_q()).select_related("body").order_by("-released_at", "-id")
    if council is not None:
        documents = documents.filter(council=council)
    result = []
    for document in documents[:200]:
        readers = document_readers(document)
        opened = sum(1 for r in readers if r.opened_at)
        result.append({"document": document, "readers": len(readers), "opened": opened})
    return result
