"""Background generation: a ``GenerationJob`` row, a queued task (django-tasks, database backend)
enqueued after commit and run by the job worker (``manage.py run_worker``), and progress written to
the row for the clerk's page to poll.

WeasyPrint never runs in a daphne process, where it would hold up the live page turns; the queue is
in the database, so a job survives a restart of either side. A job left "running" by a crash is
marked failed when the next one starts. Tests and single-process tools can set
``MINUTES_JOBS_INLINE`` to run jobs in the committing thread.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from council.audit import audit_record
from meetings.minutes.models import GenerationJob, Minutes

logger = logging.getLogger(__name__)
STALE_AFTER = datetime.timedelta(minutes=10)


def job_start(
    *, sitting, kind: str, actor, minutes: Minutes | None = None, final: bool = False
) -> GenerationJob:
    """Queue a job; it starts once the surrounding transaction commits."""
    with transaction.atomic():
        stale = GenerationJob.objects.filter(
            state__in=[GenerationJob.State.QUEUED, GenerationJob.State.RUNNING],
            created_at__lt=timezone.now() - STALE_AFTER,
        )
        stale.update(state=GenerationJob.State.FAILED, message="interrupted", finished_at=timezone.now())
        job = GenerationJob.objects.create(
            sitting=sitting,
            minutes=minutes,
            kind=kind,
            final=final,
            created_by=actor if getattr(actor, "pk", None) else None,
            message=_("Queued"),
        )
        audit_record(
            action="minutes.job_queued",
            actor=actor,
            target=job,
            data={"kind": kind, "final": final, "minutes": minutes.pk if minutes else None},
        )
        transaction.on_commit(lambda: launch(job.pk))
    return job


def launch(job_id: int) -> None:
    if getattr(settings, "MINUTES_JOBS_INLINE", False):
        run_job(job_id)
        return
    generation_task.enqueue(job_id)


@task()
def generation_task(job_id: int) -> None:
    """The queued form of ``run_job``, run by the job worker."""
    run_job(job_id)


def _progress(job_id: int, percent: int, message: str) -> None:
    GenerationJob.objects.filter(pk=job_id).update(progress=min(100, max(0, percent)), message=message[:200])


def run_job(job_id: int) -> None:
    # Claim the job: whoever flips it from queued runs it, anyone else leaves it alone.
    claimed = GenerationJob.objects.filter(pk=job_id, state=GenerationJob.State.QUEUED).update(
        state=GenerationJob.State.RUNNING, started_at=timezone.now(), progress=5, message=_("Started")
    )
    if not claimed:
        return
    job = GenerationJob.objects.select_related("sitting", "minutes").get(pk=job_id)
    try:
        if job.kind == GenerationJob.Kind.DRAFT:
            _run_draft(job)
        else:
            _run_pdf(job)
    except Exception as exc:  # the clerk sees the failure; the log has the traceback
        logger.exception("minutes job %s failed", job_id)
        message = "; ".join(getattr(exc, "messages", [])) or str(exc) or exc.__class__.__name__
        GenerationJob.objects.filter(pk=job_id).update(
            state=GenerationJob.State.FAILED, message=message[:200], finished_at=timezone.now()
        )
        return
    GenerationJob.objects.filter(pk=job_id).update(
        state=GenerationJob.State.DONE, progress=100, message=_("Done"), finished_at=timezone.now()
    )


def _run_draft(job: GenerationJob) -> None:
    from meetings.minutes import services
    from meetings.minutes.record import load_record

    _progress(job.pk, 20, _("Reading the record of the sitting"))
    record = load_record(job.sitting)
    _progress(job.pk, 60, _("Writing the draft"))
    minutes = services.draft_generate(sitting=job.sitting, actor=job.created_by, record=record)
    GenerationJob.objects.filter(pk=job.pk).update(minutes=minutes)


def _run_pdf(job: GenerationJob) -> None:
    from meetings.minutes import rendering, selectors, services

    _progress(job.pk, 10, _("Preparing the document"))
    minutes = job.minutes
    html = rendering.document_html(selectors.document_context(minutes))

    def progress(percent: int, _stage: str) -> None:
        _progress(job.pk, percent, _("Laying out pages") if percent < 80 else _("Writing the PDF"))

    rendered = rendering.render_pdf(html, progress=progress)
    if job.final:
        from meetings.minutes import pdfsign

        _progress(job.pk, 90, _("Signing the PDF"))
        signed = pdfsign.sign_minutes_pdf(data=rendered.data, minutes=minutes)
        services.pdf_freeze(minutes=minutes, data=signed, pages=rendered.pages)
    else:
        job.output.save(
            f"minutes-{minutes.sitting_id}-v{minutes.version}-preview.pdf",
            ContentFile(rendered.data),
            save=False,
        )
        GenerationJob.objects.filter(pk=job.pk).update(output=job.output.name)
    _progress(job.pk, 95, _("%(pages)s pages") % {"pages": rendered.pages})
