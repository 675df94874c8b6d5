"""Thin views for annotations, bookmarks, "my notes", review after replacement, offline packets
and the Service Worker (the annotated-PDF export is in ``export_views``, its job in ``jobs``).

Every view reads and writes only the signed-in member's own annotations. A document or
annotation the member may not see answers exactly like a missing one (404).
"""

from __future__ import annotations

import io
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from council import jsoninput
from council.errors import refusal_response
from documents.annotations import permissions, selectors, services
from documents.annotations.models import Annotation, OfflineDevice
from documents.models import DocumentVersion

# Static files a packet keeps so the reader works without a connection.
OFFLINE_ASSET_PREFIXES = ("js/", "css/", "vendor/pdfjs/pdf")


def reader_url(document_id: int, version_id: int | None = None, page: int = 1) -> str:
    """Where the reader opens a document at a page (the reader is the documents area's page)."""
    for name, kwargs in (
        ("documents:read", {"document_id": document_id}),
        ("documents:detail", {"document_id": document_id}),
    ):
        try:
            url = reverse(name, kwargs=kwargs)
        except NoReverseMatch:
            continue
        query = f"?page={page}" + (f"&version={version_id}" if version_id else "")
        return url + query
    return "#"


# The JSON the reader layer and the offline worker send (``static/js/annotations``, ``static/js/offline``).
_ID = {"type": ["integer", "string"]}
SYNC = {
    "properties": {
        "changes": {"type": "array", "items": {"type": "object"}, "maxItems": 1000},
        "device_id": {"type": ["string", "null"], "maxLength": 100},
    },
    "required": ["changes"],
}
BOOKMARK = {
    "properties": {"version": _ID, "page": {"type": "integer"}, "label": {"type": ["string", "null"]}},
    "required": ["version", "page"],
}
PACKET = {
    "properties": {
        "device_id": {"type": "string", "minLength": 1, "maxLength": 100},
        "label": {"type": ["string", "null"], "maxLength": 300},
    },
    "required": ["device_id"],
}
_PACKET = jsoninput.validator(PACKET)


def _annotatable_version(user, version_id) -> DocumentVersion:
    """A version whose document the member may see (their own notes may sit on older versions)."""
    version = (
        DocumentVersion.objects.select_related("document", "document__body").filter(pk=version_id).first()
    )
    if version is None or not permissions.can_annotate(user, version.document):
        raise Http404("No such document")
    return version


def _api_login_required(view):
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return JsonResponse({"error": _("Sign in to keep notes.")}, status=403)
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


# --- API for the reader layer ---------------------------------------------------------------


@_api_login_required
@require_GET
@never_cache
def api_version(request: HttpRequest, version_id: int) -> HttpResponse:
    """The member's own annotations and bookmarks on one version."""
    version = _annotatable_version(request.user, version_id)
    return JsonResponse(
        {
            "version": version.pk,
            "document": version.document_id,
            "annotations": [services.serialize(a) for a in selectors.annotations_for(request.user, version)],
            "bookmarks": list(selectors.bookmarks_for(request.user, version).values_list("page", flat=True)),
            "review_count": selectors.needing_review(request.user).filter(document=version.document).count(),
        }
    )


@_api_login_required
@require_POST
@jsoninput.json_input(SYNC)
def api_sync(request: HttpRequest, body: dict) -> HttpResponse:
    """A batch of changes from one of the member's devices (see services.annotations_sync)."""
    try:
        result = services.annotations_sync(
            member=request.user, changes=body["changes"], device_id=body.get("device_id")
        )
    except services.AnnotationError as exc:
        return refusal_response(exc)
    return JsonResponse(result)


@_api_login_required
@require_POST
@jsoninput.json_input(BOOKMARK)
def api_bookmark(request: HttpRequest, body: dict) -> HttpResponse:
    version = _annotatable_version(request.user, body["version"])
    page = body["page"]
    try:
        bookmark = services.bookmark_toggle(
            member=request.user, version=version, page=page, label=str(body.get("label") or "")
        )
    except services.AnnotationError as exc:
        return refusal_response(exc)
    return JsonResponse({"page": page, "bookmarked": bookmark is not None})


@_api_login_required
@require_GET
@never_cache
def api_notes_search(request: HttpRequest) -> HttpResponse:
    """The member's own typed notes matching ``q``, for the reader's search (same shape as its hits)."""
    query = request.GET.get("q", "").strip()[:200]
    hits = selectors.search_notes(user=request.user, query=query, limit=50) if query else []
    hits = [h for h in hits if permissions.can_view_document(request.user, h.document)]
    current = selectors.current_version_ids(h.document.pk for h in hits)
    return JsonResponse(
        {
            "query": query,
            "hits": [
                {
                    "document": h.document.pk,
                    "title": h.document.title,
                    "version": h.version.pk,
                    "page": h.page,
                    "current": h.version.pk in current,
                    "text": h.text[:300],
                    "url": reader_url(
                        h.document.pk, h.version.pk if h.version.pk in current else None, h.page
                    ),
                }
                for h in hits
            ],
        }
    )


# --- My notes, bookmarks and review ---------------------------------------------------------


@login_required
@require_GET
def my_notes(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:200]
    notes = selectors.my_notes(request.user, query=query)
    current = selectors.current_version_ids(hit.document.pk for hit in notes)
    rows = []
    for hit in notes:
        if hit.needs_review:
            url = reverse("documents:annotations:review_detail", kwargs={"client_id": hit.client_id})
        elif hit.version.pk in current:
            url = reader_url(hit.document.pk, hit.version.pk, hit.page)
        else:  # kept on a replaced version: open the same page of the current one
            url = reader_url(hit.document.pk, None, hit.page)
        rows.append({"hit": hit, "url": url, "old": hit.version.pk not in current})
    bookmarks = [
        {"bookmark": b, "url": reader_url(b.document_id, b.version_id, b.page)}
        for b in selectors.my_bookmarks(request.user)
    ]
    return render(
        request,
        "documents/annotations/my_notes.html",
        {
            "query": query,
            "rows": rows,
            "bookmarks": bookmarks,
            "review_count": selectors.needing_review(request.user).count(),
        },
    )


@login_required
@require_GET
def review_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "documents/annotations/review_list.html", {"flagged": selectors.needing_review(request.user)}
    )


def _flagged(request: HttpRequest, client_id) -> Annotation:
    annotation = selectors.own_flagged(request.user, client_id)
    if annotation is None or not permissions.can_view_document(request.user, annotation.document):
        raise Http404("No such note")
    return annotation


@login_required
def review_detail(request: HttpRequest, client_id) -> HttpResponse:
    """Old page with the member's notes beside the same page of the current version."""
    annotation = _flagged(request, client_id)
    current = annotation.document.current_version
    if request.method == "POST":
        move = request.POST.get("move_to_page")
        try:
            services.review_resolve(
                member=request.user, annotation=annotation, move_to_page=int(move) if move else None
            )
        except (ValueError, services.AnnotationError) as exc:
            messages.error(
                request,
                exc.text
                if isinstance(exc, services.AnnotationError)
                else _("That page does not exist in the current version."),
            )
            return redirect("documents:annotations:review_detail", client_id=client_id)
        messages.success(request, _("Done. The note is no longer marked for review."))
        return redirect("documents:annotations:review_list")
    siblings = selectors.own_annotations(request.user).filter(
        version=annotation.version, page=annotation.page
    )
    new_page = min(annotation.page, current.page_count) if current else None
    return render(
        request,
        "documents/annotations/review_detail.html",
        {
            "annotation": annotation,
            "current": current,
            "new_page": new_page,
            "siblings": siblings,
            "reader": reader_url(annotation.document_id, current.pk if current else None, new_page or 1),
        },
    )


@login_required
@require_GET
def review_page_image(request: HttpRequest, client_id, which: str) -> HttpResponse:
    """A PNG of the old page (where the flagged note sits) or the current version's page.

    The reader shows members only the current version; this is the one place a member sees
    an older page, and only the page their own flagged note is on."""
    import pypdfium2 as pdfium

    annotation = _flagged(request, client_id)
    if which == "old":
        version, number = annotation.version, annotation.page
    else:
        version = annotation.document.current_version
        number = min(annotation.page, version.page_count) if version else 0
    if version is None or not 1 <= number <= version.page_count:
        raise Http404("No such page")
    with version.served_file.open("rb") as handle:
        pdf = pdfium.PdfDocument(handle.read())
    try:
        page = pdf[number - 1]
        scale = 900 / max(page.get_width(), 1)
        image = page.render(scale=scale).to_pil()
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=True)
    finally:
        pdf.close()
    response = HttpResponse(out.getvalue(), content_type="image/png")
    response["Cache-Control"] = "private, no-store"
    return response


# --- Offline packets ------------------------------------------------------------------------


# pdf.js needs these to draw Japanese text in PDFs that use predefined CMaps or standard fonts;
# Chinese and Korean CMaps are left out of the packet.
NON_JAPANESE_CMAPS = ("CNS", "GB", "KSC", "Korea", "B5", "ETen", "ETHK", "HK", "UniKS")


def _offline_assets() -> list[str]:
    urls = set()
    for finder in finders.get_finders():
        for path, _storage in finder.list(["*.map", "*.md", "LICENSE*", "*.txt"]):
            path = path.replace("\\", "/")
            if path.startswith(OFFLINE_ASSET_PREFIXES) and path.endswith((".js", ".mjs", ".css")):
                urls.add(static(path))
            elif path.startswith("vendor/pdfjs/cmaps/") and path.endswith(".bcmap"):
                if not any(tag in path.rsplit("/", 1)[-1] for tag in NON_JAPANESE_CMAPS):
                    urls.add(static(path))
            elif path.startswith("vendor/pdfjs/standard_fonts/") and path.endswith((".pfb", ".ttf")):
                urls.add(static(path))
    return sorted(urls)


def _manifest(request: HttpRequest, device: OfflineDevice | None) -> dict:
    items = []
    for item in selectors.packet_for(request.user):
        items.append(
            {
                "document": item.document.pk,
                "version": item.version.pk,
                "title": item.document.title,
                "sitting": str(item.sitting) if item.sitting else "",
                "pages": item.version.page_count,
                "size": item.version.size,
                "file": reverse("documents:version_file", kwargs={"version_id": item.version.pk}),
                "reader": reader_url(item.document.pk, item.version.pk, 1),
                "annotations": reverse(
                    "documents:annotations:api_version", kwargs={"version_id": item.version.pk}
                ),
            }
        )
    return {
        "device_id": str(device.device_id) if device else None,
        "expires_at": device.expires_at.isoformat() if device and device.expires_at else None,
        "days": services.offline_days(),
        "items": items,
        "pages": [reverse("documents:annotations:offline")],
        "assets": _offline_assets(),
        "total": sum(i["size"] for i in items),
    }


@login_required
@require_GET
def offline_page(request: HttpRequest) -> HttpResponse:
    """The packet page: what will be kept, the total size, the download with a progress bar."""
    if not permissions.can_keep_offline(request.user):
        raise PermissionDenied
    manifest = _manifest(request, None)
    return render(
        request,
        "documents/annotations/offline.html",
        {
            "items": manifest["items"],
            "total": manifest["total"],
            "days": manifest["days"],
            "devices": selectors.devices_of(request.user),
        },
    )


@_api_login_required
@never_cache
def api_packet(request: HttpRequest) -> HttpResponse:
    """POST: register the device and return the manifest of what to download.

    GET: the versions that may be kept right now, so a device coming online drops documents
    withdrawn, restricted or replaced since it downloaded them."""
    if request.method not in ("GET", "POST"):
        return JsonResponse({"error": _("Nothing to save.")}, status=405)
    if not permissions.can_keep_offline(request.user):  # before reading the body: same answer to any request
        return refusal_response(services.AnnotationError(_("You cannot keep documents offline.")), status=403)
    if request.method == "GET":
        return JsonResponse({"versions": [i.version.pk for i in selectors.packet_for(request.user)]})
    try:
        body = jsoninput.parse(request.body, _PACKET)
    except jsoninput.BadInput as exc:
        return refusal_response(exc)
    try:
        device = services.device_packet_issued(
            member=request.user,
            device_id=body["device_id"],
            label=str(body.get("label") or request.headers.get("User-Agent", "")),
        )
    except services.DeviceRevoked as exc:
        return refusal_response(exc, status=410, revoked=True)
    except services.AnnotationError as exc:
        return refusal_response(exc, status=403)
    return JsonResponse(_manifest(request, device))


@never_cache
def api_device(request: HttpRequest, device_id: str) -> HttpResponse:
    """GET: must this device remove its copy (revoked or expired)? POST: it has removed it.

    No sign-in needed: the Service Worker asks even when the member's session has ended."""
    try:
        if request.method == "POST":
            services.device_wiped(member=request.user, device_id=device_id)
            return JsonResponse({"ok": True})
        return JsonResponse(services.device_status(member=request.user, device_id=device_id))
    except services.AnnotationError as exc:
        return refusal_response(exc, status=404)


@login_required
@require_POST
def revoke_own_devices(request: HttpRequest) -> HttpResponse:
    try:
        count = services.devices_revoke(actor=request.user, member=request.user)
        messages.success(
            request,
            _("%(count)d device(s) revoked. Each removes its offline copy when it next connects.")
            % {"count": count},
        )
    except services.AnnotationError as exc:
        messages.error(request, exc.text)
    return redirect("documents:annotations:offline")


@login_required
def manage_devices(request: HttpRequest) -> HttpResponse:
    """Administrators and the secretariat revoke members' devices (a lost tablet, a member leaving)."""
    if not permissions.can_manage_devices(request.user):
        raise PermissionDenied
    if request.method == "POST":
        member = get_object_or_404(get_user_model(), pk=request.POST.get("member"))
        try:
            count = services.devices_revoke(actor=request.user, member=member)
            messages.success(
                request,
                _("%(count)d device(s) revoked. Each removes its offline copy when it next connects.")
                % {"count": count},
            )
        except services.AnnotationError as exc:
            messages.error(request, exc.text)
        return redirect("documents:annotations:manage_devices")
    devices = OfflineDevice.objects.select_related("member", "member__person", "revoked_by").order_by(
        "member__username", "-last_seen_at"
    )
    return render(request, "documents/annotations/manage_devices.html", {"devices": devices})


# --- The Service Worker ---------------------------------------------------------------------

SW_PATH = Path(settings.BASE_DIR) / "static" / "js" / "offline" / "sw.js"


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """Served from a view so it can control the whole site (``Service-Worker-Allowed: /``)."""
    response = FileResponse(open(SW_PATH, "rb"), content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"
    return response
