"""PDFs of the matters area, rendered by the job worker only (issue 15): a committee report
(委員会審査報告書) and the clerk's preview of the list of general questions (一般質問通告一覧).

A ``RenderedPdf`` row keeps the file and the SHA-256 of the HTML it was made from. ``current``
answers the stored file when its HTML is still today's; otherwise it queues one render (after
commit, once per HTML: asking again while it waits queues nothing) and answers None, and the view
says "being prepared". WeasyPrint runs in ``render_task`` only, in ``manage.py run_worker``.
"""

from __future__ import annotations

import datetime
import hashlib
import logging

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks import task

from meetings.matters.models import CommitteeReport, QuestionCall, RenderedPdf

logger = logging.getLogger(__name__)
REPORT = "report"
QUESTIONS = "questions"
KINDS = (REPORT, QUESTIONS)
# A render asked for this long ago and not done (worker stopped, job lost) may be asked for again.
REQUEUE_AFTER = datetime.timedelta(minutes=5)


def key_for(kind: str, pk: int) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown PDF kind {kind!r}")
    return f"{kind}-{int(pk)}"


def document_html(kind: str, pk: int) -> str | None:
    """Today's HTML of the document, or None when it no longer exists."""
    if kind == REPORT:
        from meetings.matters.reports import report_html

        report = CommitteeReport.objects.select_related("matter__council", "body").filter(pk=pk).first()
        return report_html(report) if report else None
    from meetings.matters.questions import list_html

    call = QuestionCall.objects.select_related("session__council").filter(pk=pk).first()
    return list_html(call) if call else None


def _sha(html: str) -> str:
    return hashlib.sha256(html.encode()).hexdigest()


def _is_current(row: RenderedPdf, sha: str) -> bool:
    return bool(row.file) and row.html_sha256 == sha and default_storage.exists(row.file.name)


def _row_for_update(key: str) -> RenderedPdf:
    row = RenderedPdf.objects.select_for_update().filter(key=key).first()
    if row is not None:
        return row
    try:
        with transaction.atomic():
            return RenderedPdf.objects.create(key=key)
    except IntegrityError:  # created meanwhile by another request
        return RenderedPdf.objects.select_for_update().get(key=key)


def current(kind: str, pk: int, *, html: str | None = None) -> RenderedPdf | None:
    """The stored PDF if it was made from today's HTML; else queue its render (once) and answer None."""
    html = document_html(kind, pk) if html is None else html
    if html is None:
        return None
    sha = _sha(html)
    key = key_for(kind, pk)
    row = RenderedPdf.objects.filter(key=key).first()
    if row is not None and _is_current(row, sha):
        return row
    with transaction.atomic():
        row = _row_for_update(key)
        if _is_current(row, sha):
            return row
        now = timezone.now()
        if row.queued_sha256 == sha and row.queued_at and row.queued_at > now - REQUEUE_AFTER:
            return None  # already waiting for the worker
        row.queued_sha256, row.queued_at = sha, now
        row.save(update_fields=["queued_sha256", "queued_at"])
        transaction.on_commit(lambda: render_task.enqueue(kind, int(pk)))
    return None


def queue(kind: str, pk: int) -> None:
    """Render ahead once the surrounding transaction commits (a report created, edited, reported)."""
    transaction.on_commit(lambda: current(kind, pk))


@task()
def render_task(kind: str, pk: int) -> None:
    """The render, in the job worker: the PDF of today's HTML, replacing the stale one."""
    from meetings.minutes.rendering import render_pdf

    html = document_html(kind, pk)
    if html is None:
        return
    sha = _sha(html)
    key = key_for(kind, pk)
    row = RenderedPdf.objects.filter(key=key).first()
    if row is not None and _is_current(row, sha):
        return
    data = render_pdf(html).data
    with transaction.atomic():
        row = _row_for_update(key)
        old = row.file.name if row.file else ""
        row.file.save(f"{key}-{sha[:12]}.pdf", ContentFile(data), save=False)
        row.size, row.html_sha256, row.rendered_at = len(data), sha, timezone.now()
        if row.queued_sha256 == sha:
            row.queued_sha256, row.queued_at = "", None
        row.save()
        new = row.file.name
    if old and old != new:
        default_storage.delete(old)
    logger.info("rendered %s (%d bytes)", key, len(data))
