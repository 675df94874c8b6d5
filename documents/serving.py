"""Serving stored files with HTTP ranges and conditional requests (RFC 9110 §13, §14), memory flat.

Django has no range support, and under ASGI its ``FileResponse`` consumes synchronous iterators
whole. ``file_response`` streams from an open storage file with an async generator, one chunk
at a time, so a 150 MB packet fetched by 30 tablets costs 30 chunks of memory, not 30 files.

With ``settings.COUNCIL_SENDFILE == "x-accel"`` the byte transfer is handed to nginx
(``X-Accel-Redirect`` to ``settings.COUNCIL_SENDFILE_PREFIX`` + the storage name) after
authorization; nginx then answers ranges itself.
"""

from __future__ import annotations

import asyncio
import datetime
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header, http_date, parse_http_date_safe

CHUNK = 256 * 1024
# The served files are untrusted: never let a browser run anything in them.
FILE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox"

_RANGE_RE = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")


@dataclass(frozen=True)
class StoredFile:
    name: str  # storage name
    size: int
    etag: str  # quoted strong entity tag
    last_modified: datetime.datetime
    content_type: str
    filename: str  # for Content-Disposition


class Unsatisfiable(Exception):
    pass


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """One byte range ``(first, last)`` inclusive, or None to send the whole file.

    Per RFC 9110 §14.2 an invalid Range header is ignored. Several ranges are answered with
    the whole file (allowed: a server may ignore Range). ``Unsatisfiable`` → 416."""
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or not spec:
        return None
    parts = spec.split(",")
    if len(parts) != 1:
        return None
    match = _RANGE_RE.match(parts[0])
    if not match:
        return None
    first_s, last_s = match.groups()
    if first_s == "" and last_s == "":
        return None
    if first_s == "":  # suffix: the last N bytes
        length = int(last_s)
        if length == 0:
            raise Unsatisfiable
        return (max(size - length, 0), size - 1) if size else _raise_unsatisfiable()
    first = int(first_s)
    last = int(last_s) if last_s else size - 1
    if last_s and last < first:
        return None  # invalid: ignore
    if first >= size:
        raise Unsatisfiable
    return first, min(last, size - 1)


def _raise_unsatisfiable():
    raise Unsatisfiable


def _etags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def _weak_match(a: str, b: str) -> bool:
    return a.removeprefix("W/") == b.removeprefix("W/")


def _if_range_matches(value: str, stored: StoredFile) -> bool:
    value = value.strip()
    if value.startswith('"') or value.startswith("W/"):
        # Strong comparison: a weak tag never matches.
        return not value.startswith("W/") and value == stored.etag
    when = parse_http_date_safe(value)
    return when is not None and when == int(stored.last_modified.timestamp())


async def _stream(name: str, first: int, length: int) -> AsyncIterator[bytes]:
    f = await asyncio.to_thread(default_storage.open, name, "rb")
    try:
        if first:
            await asyncio.to_thread(f.seek, first)
        remaining = length
        while remaining > 0:
            chunk = await asyncio.to_thread(f.read, min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        await asyncio.to_thread(f.close)


def _common_headers(response: HttpResponse, stored: StoredFile, *, as_attachment: bool) -> HttpResponse:
    response["ETag"] = stored.etag
    response["Last-Modified"] = http_date(stored.last_modified.timestamp())
    response["Accept-Ranges"] = "bytes"
    # Revalidate every time (a withdrawn document must stop being served), cheaply, via ETag.
    response["Cache-Control"] = "private, no-cache"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Content-Disposition"] = content_disposition_header(as_attachment, stored.filename)
    return response


def file_response(request: HttpRequest, stored: StoredFile, *, as_attachment: bool = False) -> HttpResponse:
    """The response for an authorized GET/HEAD of ``stored``: 200, 206, 304, 412 or 416."""
    if_match = request.headers.get("If-Match")
    if if_match is not None and if_match.strip() != "*" and stored.etag not in _etags(if_match):
        return _common_headers(HttpResponse(status=412), stored, as_attachment=as_attachment)
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = _etags(if_none_match)
        if "*" in tags or any(_weak_match(tag, stored.etag) for tag in tags):
            return _common_headers(HttpResponse(status=304), stored, as_attachment=as_attachment)
    else:
        since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
        if since is not None and int(stored.last_modified.timestamp()) <= since:
            return _common_headers(HttpResponse(status=304), stored, as_attachment=as_attachment)

    byte_range = None
    range_header = request.headers.get("Range")
    if range_header and request.method == "GET":
        if_range = request.headers.get("If-Range")
        if if_range is None or _if_range_matches(if_range, stored):
            try:
                byte_range = parse_range(range_header, stored.size)
            except Unsatisfiable:
                response = HttpResponse(status=416)
                response["Content-Range"] = f"bytes */{stored.size}"
                return _common_headers(response, stored, as_attachment=as_attachment)

    if getattr(settings, "COUNCIL_SENDFILE", "") == "x-accel":
        response = HttpResponse(content_type=stored.content_type)
        prefix = getattr(settings, "COUNCIL_SENDFILE_PREFIX", "/protected/")
        response["X-Accel-Redirect"] = prefix + stored.name
        response["X-Accel-Buffering"] = "no"
        return _common_headers(response, stored, as_attachment=as_attachment)

    first, last = byte_range if byte_range else (0, stored.size - 1)
    length = max(last - first + 1, 0)
    if request.method == "HEAD":
        response = HttpResponse(content_type=stored.content_type, status=206 if byte_range else 200)
    else:
        response = StreamingHttpResponse(
            _stream(stored.name, first, length),
            content_type=stored.content_type,
            status=206 if byte_range else 200,
        )
    response["Content-Length"] = str(length)
    if byte_range:
        response["Content-Range"] = f"bytes {first}-{last}/{stored.size}"
    return _common_headers(response, stored, as_attachment=as_attachment)
