"""Thin views for the annotated-PDF export: start the job, follow it, fetch the file.

Nothing here renders a PDF: ``export_start`` queues the job (``annotations.jobs``) and answers at
once; the job worker makes the file. An export is its member's only: another member, a clerk or an
administrator gets the same 404 as for a missing one.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from council.errors import refusal_response
from documents.annotations import jobs, permissions
from documents.annotations.models import AnnotationExport
from documents.models import Document
from documents.serving import StoredFile, file_response


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _own_export(user, pk: int) -> AnnotationExport:
    export = (
        AnnotationExport.objects.select_related("document", "version")
        .filter(pk=pk, member_id=getattr(user, "pk", None))
        .first()
    )
    if export is None or not permissions.can_view_document(user, export.document):
        raise Http404("No such export")
    return export


def status_payload(export: AnnotationExport) -> dict:
    done = export.state == AnnotationExport.State.DONE and bool(export.output)
    return {
        "id": export.pk,
        "document": export.document_id,
        "title": export.document.title,
        "state": export.state,
        "state_label": export.get_state_display(),
        "progress": export.progress,
        "message": jobs.describe(export),
        "error": export.error,
        "finished": export.finished,
        "annotations": export.annotation_count,
        "status_url": reverse("documents:annotations:export_status", args=[export.pk]),
        "page_url": reverse("documents:annotations:export_page", args=[export.pk]),
        "file_url": reverse("documents:annotations:export_file", args=[export.pk]) if done else "",
        "filename": export.filename,
        "size": export.size,
        "expires": date_format(timezone.localtime(export.created_at + jobs.export_keep()), "DATETIME_FORMAT")
        if done
        else "",
    }


@require_POST
def export_start(request: HttpRequest, document_id: int) -> HttpResponse:
    """Queue the member's annotated copy of the document's current version and answer at once."""
    if not request.user.is_authenticated:
        return JsonResponse({"code": "signed_out", "error": _("Sign in to keep notes.")}, status=403)
    document = get_object_or_404(Document, pk=document_id)
    if not permissions.can_annotate(request.user, document):
        raise Http404("No such document")
    try:
        export = jobs.export_start(member=request.user, document=document)
    except jobs.AnnotationError as exc:
        return refusal_response(exc)
    if _wants_json(request):
        return JsonResponse({"ok": True, **status_payload(export)}, status=202)
    return redirect("documents:annotations:export_page", pk=export.pk)


@require_GET
@never_cache
def export_status(request: HttpRequest, pk: int) -> HttpResponse:
    """What the reader's export sheet polls."""
    if not request.user.is_authenticated:
        return JsonResponse({"code": "signed_out", "error": _("Sign in to keep notes.")}, status=403)
    try:
        export = _own_export(request.user, pk)
    except Http404:
        return JsonResponse({"code": "not_found", "error": _("There is no such export.")}, status=404)
    return JsonResponse(status_payload(export))


@login_required
@require_GET
def export_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The export's own page (without script, or opened again later): the same panel as the sheet."""
    export = _own_export(request.user, pk)
    return render(
        request, "documents/annotations/export.html", {"export": export, "status": status_payload(export)}
    )


def _stored_export(user, pk: int) -> StoredFile:
    export = _own_export(user, pk)
    if export.state != AnnotationExport.State.DONE or not export.output:
        raise Http404("Not ready")
    return StoredFile(
        name=export.output.name,
        size=export.size or export.output.size,
        etag=f'"export-{export.pk}-{export.size}"',
        last_modified=export.finished_at or export.created_at,
        content_type="application/pdf",
        filename=export.filename,
    )


@require_http_methods(["GET", "HEAD"])
async def export_file(request: HttpRequest, pk: int) -> HttpResponse:
    """The finished file, to its member only (by nginx with ``X-Accel-Redirect`` in production)."""
    user = await request.auser()
    if not user.is_authenticated:
        raise Http404("No such export")
    stored = await sync_to_async(_stored_export)(user, pk)
    response = file_response(request, stored, as_attachment=True)
    response["Cache-Control"] = "private, no-store"  # the member's private notes: never in a cache
    return response
