"""Document pages and the authorized file views. Thin: parse, authorize, call, render."""

from __future__ import annotations

import functools

from asgiref.sync import sync_to_async
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from council.models import Body
from documents import permissions, selectors, services
from documents.errors import DocumentError, DocumentWithdrawn
from documents.models import Document
from documents.reader import documents_payload, reader_config
from documents.serving import StoredFile, file_response
from documents.uploads import (
    created_document,
    limit_upload,
    parse_release_at,
    receive_upload,
    replaced_version,
)


def withdrawn_page(view):
    """A reader who could open a document before it was withdrawn is told so, in their language,
    with 410 Gone; anyone else gets the same 404 as for a missing document."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except DocumentWithdrawn as exc:
            return render(request, "documents/withdrawn.html", {"document": exc.document}, status=410)

    return wrapper


def _filename(version) -> str:
    title = version.document.title.replace("/", "／").replace("\\", "＼")
    if version.number > 1:
        return f"{title}（第{version.number}版）.pdf"
    return f"{title}.pdf"


def _stored_version(user, version_id: int) -> StoredFile:
    version = selectors.version_for(user, version_id)
    return StoredFile(
        name=version.served_file.name,
        size=version.served_file.size,
        etag=f'"{version.served_sha256[:32]}"',
        last_modified=version.created_at,
        content_type="application/pdf",
        filename=_filename(version),
    )


def _stored_thumbnail(user, version_id: int, number: int) -> StoredFile:
    page = selectors.page_for(user, version_id, number)
    return StoredFile(
        name=page.thumbnail.name,
        size=page.thumbnail.size,
        etag=f'"{page.content_hash[:16]}{page.text_hash[:16]}"',
        last_modified=page.version.created_at,
        content_type="image/jpeg",
        filename=f"p{number}.jpg",
    )


@require_http_methods(["GET", "HEAD"])
async def version_file(request: HttpRequest, version_id: int) -> HttpResponse:
    """The linearized copy of a version, with ranges. 404 for missing and forbidden alike."""
    user = await request.auser()
    stored = await sync_to_async(_stored_version)(user, version_id)
    as_attachment = request.GET.get("download") == "1"
    return file_response(request, stored, as_attachment=as_attachment)


@require_http_methods(["GET", "HEAD"])
async def thumbnail(request: HttpRequest, version_id: int, number: int) -> HttpResponse:
    user = await request.auser()
    stored = await sync_to_async(_stored_thumbnail)(user, version_id, number)
    return file_response(request, stored)


# --- pages -------------------------------------------------------------------------------------


@require_GET
def document_list(request: HttpRequest) -> HttpResponse:
    documents = list(
        permissions.visible_documents(request.user).select_related("body").order_by("-created_at")[:200]
    )
    latest = selectors.current_versions(d.pk for d in documents)
    badges = selectors.badges_for(request.user, documents)
    rows = [{"document": d, "version": latest.get(d.pk), "badge": badges.get(d.pk)} for d in documents]
    return render(
        request,
        "documents/list.html",
        {
            "rows": rows,
            "can_manage": permissions.can_manage(request.user),
            "notices": selectors.unread_notices(request.user)[:20],
        },
    )


@require_GET
@withdrawn_page
def document_detail(request: HttpRequest, document_id: int) -> HttpResponse:
    document = selectors.document_for(request.user, document_id)
    can_manage = permissions.can_manage(request.user)
    history = selectors.version_history(document)
    current = history[0] if history else None
    if current is not None and request.user.is_authenticated:
        services.receipt_record(user=request.user, version=current)
    return render(
        request,
        "documents/detail.html",
        {
            "document": document,
            "current": current,
            "history": history if can_manage else history[:1],
            "can_manage": can_manage,
            "is_released": permissions.is_released(document),
            "visibility_choices": Document.Visibility.choices,
            "upload_max": _upload_max(),
        },
    )


@require_GET
@withdrawn_page
def document_read(request: HttpRequest, document_id: int) -> HttpResponse:
    """One document in the reader (from search hits and document lists): ?page=N&q=words."""
    document = selectors.document_for(request.user, document_id)
    if not document.versions.exists():
        raise Http404("No file")
    return render(
        request,
        "documents/read.html",
        {
            "document": document,
            "query": request.GET.get("q", "")[:200],
            "documents": documents_payload(request.user, [document]),
            "agenda": [],
            "config": reader_config(),
        },
    )


@login_required
@require_POST
def document_opened(request: HttpRequest, version_id: int) -> HttpResponse:
    """The reader tells us a member opened a version: they now hold it (clears the badge)."""
    version = selectors.version_for(request.user, version_id)
    services.receipt_record(user=request.user, version=version)
    return JsonResponse({"ok": True})


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:200]
    hits = selectors.search_pages(request.user, query) if query else []
    return render(request, "documents/search.html", {"query": query, "hits": hits})


@require_GET
def search_json(request: HttpRequest) -> HttpResponse:
    """Search for the reader: the same rules, as JSON."""
    query = request.GET.get("q", "").strip()[:200]
    hits = selectors.search_pages(request.user, query) if query else []
    return JsonResponse(
        {
            "query": query,
            "hits": [
                {
                    "document": h.document.pk,
                    "title": h.document.title,
                    "version": h.version.pk,
                    "page": h.page,
                    "snippet": str(h.snippet),
                }
                for h in hits
            ],
        }
    )


# --- secretariat -------------------------------------------------------------------------------


def _upload_max() -> int:
    from django.conf import settings

    return settings.COUNCIL_UPLOAD_MAX_BYTES


def _require_manager(request: HttpRequest) -> None:
    if not permissions.can_manage(request.user):
        raise PermissionDenied


@login_required
@require_GET
def upload_page(request: HttpRequest) -> HttpResponse:
    """Upload documents not tied to a sitting (the sitting page has its own upload)."""
    _require_manager(request)
    return render(
        request,
        "documents/upload.html",
        {
            "bodies": Body.objects.all(),
            "visibility_choices": Document.Visibility.choices,
            "upload_url": reverse("documents:upload_file"),
            "upload_max": _upload_max(),
        },
    )


@csrf_exempt  # the upload handlers must be set before the body is read; CSRF is checked below
@login_required
def upload_file(request: HttpRequest) -> HttpResponse:
    """XHR target: one file per request. Answers JSON ``{ok, document, url}`` or ``{ok: false, error}``."""
    if request.method != "POST":
        return JsonResponse({"ok": False, "error": _("Use POST.")}, status=405)
    _require_manager(request)
    limit_upload(request)
    return _upload_file(request)


@csrf_protect
def _upload_file(request: HttpRequest) -> HttpResponse:
    def create(upload, post):
        body = Body.objects.filter(pk=post.get("body") or 0).first()
        if body is None:
            raise DocumentError(_("Choose the body the document belongs to."), reason="body")
        return services.document_create(
            body=body,
            title=post.get("title") or upload.name.rsplit(".", 1)[0],
            path=upload.temporary_file_path(),
            original_name=upload.name,
            actor=request.user,
            visibility=post.get("visibility") or "members",
            release_now=post.get("release") == "now",
            release_at=parse_release_at(post.get("release_at", "")),
        )

    return receive_upload(request, create, created_document)


@csrf_exempt
@login_required
def replace_file(request: HttpRequest, document_id: int) -> HttpResponse:
    """XHR target: a new version (差し替え) of a document."""
    if request.method != "POST":
        return JsonResponse({"ok": False, "error": _("Use POST.")}, status=405)
    _require_manager(request)
    limit_upload(request)
    return _replace_file(request, document_id)


@csrf_protect
def _replace_file(request: HttpRequest, document_id: int) -> HttpResponse:
    document = selectors.document_for(request.user, document_id)

    def replace(upload, post):
        return services.document_replace(
            document=document,
            path=upload.temporary_file_path(),
            original_name=upload.name,
            actor=request.user,
            note=post.get("note", ""),
        )

    return receive_upload(request, replace, replaced_version)


@login_required
@require_POST
def change_release(request: HttpRequest, document_id: int) -> HttpResponse:
    _require_manager(request)
    document = selectors.document_for(request.user, document_id)
    action = request.POST.get("action")
    try:
        if action == "release":
            services.document_release(document=document, actor=request.user)
            messages.success(request, _("The document is released."))
        elif action == "schedule":
            at = parse_release_at(request.POST.get("release_at", ""))
            if at is None:
                raise DocumentError(_("Give the release time as a date and time."), reason="release_at")
            services.document_release(document=document, actor=request.user, at=at)
            messages.success(request, _("The release is scheduled."))
        elif action == "withdraw":
            if request.POST.get("confirm") != "yes":  # withdrawing cannot be undone: ask first
                return render(request, "documents/withdraw_confirm.html", {"document": document})
            services.document_withdraw(document=document, actor=request.user)
            messages.success(request, _("The document is withdrawn."))
        elif action == "update":
            services.document_update(
                document=document,
                actor=request.user,
                title=request.POST.get("title"),
                visibility=request.POST.get("visibility"),
            )
            messages.success(request, _("The document is saved."))
        else:
            raise Http404
    except DocumentError as exc:
        messages.error(request, exc.text)
    return redirect("documents:detail", document_id=document.pk)
