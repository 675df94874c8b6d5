"""The annotated-PDF export as a background job: an ``AnnotationExport`` row the member owns, a task
(django-tasks, database backend) enqueued after commit and run by the job worker
(``manage.py run_worker``), progress written to the row for the reader's export sheet to poll.

pikepdf never runs in a daphne process for this: a 300-page bill with notes on every page would
hold a thread of the process that carries the live page turns. The queue is in the database, so a
job survives a restart of either side; one left "running" by a crash is marked failed
(``interrupted``) by the next export or clean-up. The file holds the member's private notes: it is
kept ``export_keep()`` (``COUNCIL_ANNOTATION_EXPORT_KEEP_HOURS``) and then removed with its row, by
a clean-up task queued for that moment (and by every later export); audit entries carry ids and counts.
"""

from __future__ import annotations

import datetime
import logging

import pikepdf
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tasks import task

from council.audit import audit_record
from documents.annotations import permissions, selectors
from documents.annotations.export import annotated_pdf
from documents.annotations.models import AnnotationExport
from documents.annotations.services import AnnotationError
from documents.models import Document

logger = logging.getLogger(__name__)
STALE_AFTER = datetime.timedelta(minutes=10)

State = AnnotationExport.State

# What the sheet says at each stage, and for each failure, in the reader's language (not the worker's).
STAGES = {
    "": gettext_lazy("Waiting for the job worker…"),
    "reading": gettext_lazy("Reading your notes…"),
    "drawing": gettext_lazy("Drawing your notes into the pages…"),
    "saving": gettext_lazy("Saving the PDF…"),
    "done": gettext_lazy("Your PDF with your notes is ready."),
}
ERRORS = {
    "unreadable": gettext_lazy(
        "The document's file could not be read, so the PDF could not be made. Tell the secretariat."
    ),
    "gone": gettext_lazy("This document is no longer available to you."),
    "interrupted": gettext_lazy("The export was interrupted (the server restarted). Try again."),
    "failed": gettext_lazy("The PDF could not be made. Try again; if it fails again, tell the secretariat."),
}


def export_keep() -> datetime.timedelta:
    return datetime.timedelta(hours=float(getattr(settings, "COUNCIL_ANNOTATION_EXPORT_KEEP_HOURS", 24)))


def describe(export: AnnotationExport) -> str:
    """The sentence the member sees for the export's state, in the active language."""
    if export.state == State.FAILED:
        return str(ERRORS.get(export.error) or ERRORS["failed"])
    if export.state == State.DONE:
        return str(STAGES["done"])
    return str(STAGES.get(export.stage) or STAGES[""])


# --- Starting -------------------------------------------------------------------------------


def export_start(*, member, document: Document) -> AnnotationExport:
    """Queue the member's annotated copy of the current version; it starts once this commits.

    A second tap while one is queued or running returns that one. The member's earlier copies of
    the same document are removed (their files after commit)."""
    if not permissions.can_annotate(member, document):
        raise AnnotationError(_("This document is no longer available to you."), code="not_found")
    version = document.current_version
    if version is None:
        raise AnnotationError(_("This document has no file to export yet."), code="no_file")
    with transaction.atomic():
        _mark_interrupted()
        pending = (
            AnnotationExport.objects.select_for_update()
            .filter(
                member=member, document=document, version=version, state__in=[State.QUEUED, State.RUNNING]
            )
            .first()
        )
        if pending is not None:
            return pending
        earlier = list(AnnotationExport.objects.filter(member=member, document=document))
        _remove(earlier)
        export = AnnotationExport.objects.create(
            member=member,
            document=document,
            version=version,
            annotation_count=selectors.annotations_for(member, version).count(),
        )
        audit_record(
            action="annotations.export_queued",
            actor=member,
            target=export,
            data={"document": document.pk, "version": version.pk, "annotations": export.annotation_count},
        )
        transaction.on_commit(lambda: export_task.enqueue(export.pk))
    return export


@task()
def export_task(export_id: int) -> None:
    """The queued form of ``run_export``, run by the job worker."""
    run_export(export_id)


# --- Running (in the worker) ----------------------------------------------------------------


def _step(export_id: int, *, stage: str, progress: int) -> None:
    AnnotationExport.objects.filter(pk=export_id, state=State.RUNNING).update(
        stage=stage, progress=min(100, max(0, progress))
    )


def _fail(export_id: int, error: str) -> None:
    AnnotationExport.objects.filter(pk=export_id).update(
        state=State.FAILED, error=error, finished_at=timezone.now()
    )


def run_export(export_id: int) -> None:
    # Claim it: whoever flips it from queued runs it; a second delivery of the task does nothing.
    claimed = AnnotationExport.objects.filter(pk=export_id, state=State.QUEUED).update(
        state=State.RUNNING, stage="reading", progress=5, started_at=timezone.now()
    )
    if not claimed:
        return
    export = AnnotationExport.objects.select_related("member", "document", "version").get(pk=export_id)
    try:
        if not permissions.can_annotate(export.member, export.document):
            _fail(export_id, "gone")
            return
        own = list(selectors.annotations_for(export.member, export.version))
        _step(export_id, stage="drawing", progress=15)

        shown = [15]

        def progress(done: int, total: int) -> None:
            percent = 15 + int(65 * done / max(total, 1))
            if percent >= shown[0] + 5:  # a write per five percent, not per page
                shown[0] = percent
                _step(export_id, stage="drawing", progress=percent)

        data = annotated_pdf(version=export.version, annotations=own, progress=progress)
        _step(export_id, stage="saving", progress=85)
        export.output.save(f"annotated-{export.member_id}-{export.pk}.pdf", ContentFile(data), save=False)
        AnnotationExport.objects.filter(pk=export_id).update(
            output=export.output.name,
            size=len(data),
            annotation_count=len(own),
            state=State.DONE,
            stage="done",
            progress=100,
            finished_at=timezone.now(),
        )
        _schedule_cleanup(export)
    except (pikepdf.PdfError, OSError, ValueError):
        logger.exception("annotation export %s: the document's file could not be read", export_id)
        _fail(export_id, "unreadable")
    except Exception:  # the member sees a clear sentence; the log has the traceback
        logger.exception("annotation export %s failed", export_id)
        _fail(export_id, "failed")
    finally:
        try:
            exports_cleanup()
        except Exception:
            logger.exception("annotation export clean-up failed")


# --- Clean-up -------------------------------------------------------------------------------


def _mark_interrupted() -> int:
    return AnnotationExport.objects.filter(
        state__in=[State.QUEUED, State.RUNNING], created_at__lt=timezone.now() - STALE_AFTER
    ).update(state=State.FAILED, error="interrupted", finished_at=timezone.now())


def _remove(exports: list[AnnotationExport]) -> None:
    """Delete rows now and their files once the deletion has committed."""
    names = [e.output.name for e in exports if e.output]
    AnnotationExport.objects.filter(pk__in=[e.pk for e in exports]).delete()
    if names:
        storage = AnnotationExport._meta.get_field("output").storage

        def delete_files() -> None:
            for name in names:
                try:
                    storage.delete(name)
                except OSError:
                    logger.warning("annotation export file %s could not be removed", name)

        transaction.on_commit(delete_files)


@task()
def cleanup_task() -> None:
    """Queued to run when a finished copy falls due, so it goes even if nobody exports again."""
    exports_cleanup()


def _schedule_cleanup(export: AnnotationExport) -> None:
    if not cleanup_task.get_backend().supports_defer:  # the tests' immediate backend cannot wait
        return
    try:
        cleanup_task.using(
            run_after=export.created_at + export_keep() + datetime.timedelta(minutes=1)
        ).enqueue()
    except Exception:  # the copy is made; the next export's clean-up removes it instead
        logger.exception("annotation export %s: the clean-up could not be queued", export.pk)


def exports_cleanup(*, now: datetime.datetime | None = None) -> int:
    """Remove copies older than ``export_keep()`` (rows and files) and fail jobs left running."""
    now = now or timezone.now()
    with transaction.atomic():
        interrupted = _mark_interrupted()
        old = list(AnnotationExport.objects.select_for_update().filter(created_at__lt=now - export_keep()))
        _remove(old)
        if old or interrupted:
            audit_record(
                action="annotations.exports_cleaned",
                target_type="annotations.annotationexport",
                data={"removed": len(old), "interrupted": interrupted},
            )
    return len(old)
