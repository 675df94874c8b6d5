"""The matters PDFs, served from the stored file the job worker made (``pdfs``), never rendered here.

While the file is missing or stale the answer is a small page "being prepared" that reloads itself
(202 for the clerk; 503 with Retry-After for the public), and the render is queued once.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.template.loader import render_to_string
from django.views.decorators.http import require_http_methods

from council import permissions
from documents.serving import StoredFile, file_response
from meetings.matters import pdfs, rules
from meetings.matters.models import CommitteeReport, QuestionCall, RenderedPdf

RETRY_SECONDS = 5


def _stored(row: RenderedPdf, filename: str) -> StoredFile:
    return StoredFile(
        name=row.file.name,
        size=row.size or row.file.size,
        etag=f'"{row.key}-{row.html_sha256[:16]}"',
        last_modified=row.rendered_at,
        content_type="application/pdf",
        filename=filename,
    )


def _preparing(request: HttpRequest, *, status: int) -> HttpResponse:
    html = render_to_string("meetings/matters/pdf_preparing.html", {"retry": RETRY_SECONDS}, request=request)
    response = HttpResponse(html, status=status)
    response["Retry-After"] = str(RETRY_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


async def _answer(
    request: HttpRequest, found: tuple[RenderedPdf | None, str], *, status: int
) -> HttpResponse:
    row, filename = found
    if row is None:
        return await sync_to_async(_preparing)(request, status=status)
    return file_response(request, _stored(row, filename))


async def _clerk(request: HttpRequest) -> HttpResponse | None:
    user = await request.auser()
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not await sync_to_async(permissions.is_clerk)(user):
        raise PermissionDenied
    return None


def _report(pk: int, *, public: bool) -> tuple[RenderedPdf | None, str]:
    reports = CommitteeReport.objects.select_related("matter", "body")
    if public:
        reports = reports.filter(matter__published_at__isnull=False)
    report = reports.filter(pk=pk).first()
    if report is None:
        raise Http404
    # A committee report is public once the chair has reported it to the plenary.
    if public and not report.matter.steps.filter(kind=rules.CHAIR_REPORT, report=report).exists():
        raise Http404
    return pdfs.current(pdfs.REPORT, report.pk), f"report-{report.pk}.pdf"


def _questions(session_pk: int) -> tuple[RenderedPdf | None, str]:
    call = QuestionCall.objects.filter(session_id=session_pk).first()
    if call is None:
        raise Http404
    return pdfs.current(pdfs.QUESTIONS, call.pk), f"questions-{call.session_id}.pdf"


async def report_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    # Who may ask comes first, as on every clerk page: a stranger's POST is refused, not "405".
    refused = await _clerk(request)
    if refused is not None:
        return refused
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    found = await sync_to_async(_report)(pk, public=False)
    return await _answer(request, found, status=202)


@require_http_methods(["GET", "HEAD"])
async def public_report_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    found = await sync_to_async(_report)(pk, public=True)
    return await _answer(request, found, status=503)


async def questions_preview_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    # Who may ask comes first, as on every clerk page: a stranger's POST is refused, not "405".
    refused = await _clerk(request)
    if refused is not None:
        return refused
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    found = await sync_to_async(_questions)(pk)
    return await _answer(request, found, status=202)
