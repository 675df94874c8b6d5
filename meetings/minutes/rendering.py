"""The minutes as a document: HTML from one template, PDF/A from WeasyPrint.

WeasyPrint fetches stylesheets and images through ``StaticOnlyFetcher``, which serves the
project's own static files and refuses everything else (no network while rendering). Fonts
are the Noto CJK families installed from Debian's ``fonts-noto-cjk``, named in the print
stylesheet and embedded (subset) in the PDF.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.template.loader import render_to_string
from django.utils import translation

logger = logging.getLogger(__name__)

# Relative URLs in the document resolve against this base; it never reaches a network.
INTERNAL_BASE = "https://minutes.internal/"
PDF_VARIANT = "pdf/a-3b"


class StaticOnlyFetcher:
    """Give WeasyPrint the project's static files; refuse anything else and remember it."""

    def __init__(self) -> None:
        from weasyprint.urls import URLFetcher

        # Built lazily (WeasyPrint is heavy); composed rather than inherited for the same reason.
        self._base = URLFetcher(fail_on_errors=False, allowed_protocols=("data",))
        self._fail_on_errors = False
        self.refused: list[str] = []
        self.served: list[str] = []

    def _static_path(self, url: str) -> Path | None:
        parts = urlsplit(url)
        path = unquote(parts.path)
        if parts.scheme in ("http", "https") and f"{parts.scheme}://{parts.netloc}/" == INTERNAL_BASE:
            if not path.startswith(settings.STATIC_URL) or ".." in path.split("/"):
                return None
            try:
                found = finders.find(path[len(settings.STATIC_URL) :])
            except SuspiciousFileOperation:
                return None
            return Path(found) if isinstance(found, str) else None
        if parts.scheme == "file":
            candidate = Path(path).resolve()
            roots = [Path(p).resolve() for p in settings.STATICFILES_DIRS]
            if settings.STATIC_ROOT:
                roots.append(Path(settings.STATIC_ROOT).resolve())
            if any(candidate.is_relative_to(root) for root in roots) and candidate.is_file():
                return candidate
        return None

    def fetch(self, url: str, headers=None):
        from weasyprint.urls import URLFetcherResponse

        if url.startswith("data:"):
            return self._base.fetch(url)  # inline data, no I/O beyond decoding
        path = self._static_path(url)
        if path is None:
            self.refused.append(url)
            logger.warning("minutes: refused to fetch %s while rendering", url)
            raise ValueError(f"Not one of the project's static files: {url}")
        self.served.append(url)
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": mime})

    def __call__(self, url: str):
        return self.fetch(url)


def document_html(context: dict, *, template: str = "meetings/minutes/document.html") -> str:
    """The standalone HTML of the minutes (always in Japanese: it is the official record)."""
    with translation.override("ja"):
        return render_to_string(template, context)


@dataclass
class RenderedPDF:
    data: bytes
    pages: int
    sha256: str
    seconds: float
    refused: list[str]


def render_pdf(html: str, *, progress=None) -> RenderedPDF:
    """HTML to a tagged PDF/A-3b. ``progress(percent, message)`` is told of each stage."""
    import weasyprint

    started = time.monotonic()
    fetcher = StaticOnlyFetcher()
    if progress:
        progress(30, "layout")
    document = weasyprint.HTML(string=html, base_url=INTERNAL_BASE, url_fetcher=fetcher).render()
    if progress:
        progress(80, f"{len(document.pages)} pages laid out")
    data = document.write_pdf(pdf_variant=PDF_VARIANT, pdf_tags=True, custom_metadata=True)
    return RenderedPDF(
        data=data,
        pages=len(document.pages),
        sha256=hashlib.sha256(data).hexdigest(),
        seconds=time.monotonic() - started,
        refused=fetcher.refused,
    )
