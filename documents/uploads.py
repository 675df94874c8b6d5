"""Receiving uploaded PDFs: the size limit is enforced while the request body is parsed.

``SizeLimitHandler`` sits before Django's temporary-file handler and counts the bytes of each
file as the multipart body streams through; once ``settings.COUNCIL_UPLOAD_MAX_BYTES`` is
passed it stops the upload (``StopUpload``), the partial temporary file is closed and deleted,
and the view answers with the reason. A refused upload stores nothing.

(Daphne buffers a request body before handing it to the application, so in production put the
same limit in the reverse proxy too — nginx ``client_max_body_size`` — to cut the connection
as early as possible; see README "Running in production".)
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload, TemporaryFileUploadHandler
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from council.errors import refusal_response
from documents.errors import DocumentError
from documents.ingest import refuse


class SizeLimitHandler(FileUploadHandler):
    """Stops an upload as soon as one file passes the limit, before it is fully received."""

    def __init__(self, request=None, *, limit: int | None = None) -> None:
        super().__init__(request)
        self.limit = settings.COUNCIL_UPLOAD_MAX_BYTES if limit is None else limit
        self.received = 0
        self.too_large = False

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        # A body announced larger than the limit plus room for the form fields is refused unread.
        if content_length and content_length > self.limit + 64 * 1024:
            self.too_large = True

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0
        if self.too_large:
            raise StopUpload(connection_reset=True)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.too_large = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int):
        return None


def parse_release_at(value: str) -> datetime.datetime | None:
    """The release time from a form (``datetime-local``), in the current time zone."""
    if not value:
        return None
    moment = parse_datetime(value)
    if moment is None:
        raise DocumentError(_("Give the release time as a date and time."), reason="release_at")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def limit_upload(request: HttpRequest) -> SizeLimitHandler:
    """Installs the size limit; call before anything (CSRF checks included) reads the body."""
    limiter = SizeLimitHandler(request)
    request.upload_handlers = [limiter, TemporaryFileUploadHandler(request)]
    return limiter


def receive_upload(request: HttpRequest, action: Callable, serialize: Callable[..., dict]) -> JsonResponse:
    """Takes the uploaded ``file`` (parsed under the limit) and calls ``action(upload, post)``.

    Answers ``{"ok": true, ...serialize(result)}`` or ``{"ok": false, "error": message,
    "reason": code}``; the temporary upload is deleted either way."""
    limiter = next((h for h in request.upload_handlers if isinstance(h, SizeLimitHandler)), None)
    if limiter is None:
        raise RuntimeError("limit_upload(request) must run before the body is read")
    post, files = request.POST, request.FILES
    upload = files.get("file")
    try:
        if limiter.too_large:
            raise refuse("too_large")
        if upload is None:
            raise DocumentError(_("Choose a PDF file to upload."), reason="no_file")
        result = action(upload, post)
    except DocumentError as exc:
        return refusal_response(
            exc,
            status=413 if exc.reason == "too_large" else 400,
            ok=False,
            reason=exc.reason,
        )
    finally:
        for f in files.values():
            f.close()  # deletes the temporary file
    return JsonResponse({"ok": True, **serialize(result)})


def created_document(document) -> dict:
    """The answer to an upload that created a document (``receive_upload``'s ``serialize``);
    ``notes`` says what was changed in the copy members read (restrictions removed ...)."""
    version = document.versions.order_by("-number").first()
    return {
        "document": document.pk,
        "title": document.title,
        "url": reverse("documents:detail", args=[document.pk]),
        "notes": version.ingest_notes if version else [],
    }


def replaced_version(version) -> dict:
    """The answer to a replacement (差し替え) upload: the page changes and the ingest notes."""
    return {
        "document": version.document_id,
        "version": version.pk,
        "number": version.number,
        "changes": version.change_summary,
        "notes": version.ingest_notes,
        "url": reverse("documents:detail", args=[version.document_id]),
    }
