"""What the reader page needs from documents: pdf.js configuration and the documents payload.

The payload (``json_script`` id "reader-documents") is read by static/js/reader/reader.js and by
other areas' scripts to find the served URL of a version id.
"""

from __future__ import annotations

from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _

from documents import permissions, selectors
from documents.models import Document

# Files up to this size are read whole, in one request, by the reader (static/js/reader/boot.js and
# pane.js: WHOLE_FILE_MAX); larger ones by range, only the bytes of the pages drawn.
WHOLE_FILE_MAX = 3 * 1024 * 1024


def reader_config() -> dict:
    """Where pdf.js and its data live (served by the app itself, never a CDN)."""
    return {
        "worker": static("vendor/pdfjs/pdf.worker.min.mjs"),
        "cmaps": static("vendor/pdfjs/cmaps/"),
        "fonts": static("vendor/pdfjs/standard_fonts/"),
        "wasm": static("vendor/pdfjs/wasm/"),
        "search": reverse("documents:search_json"),
        "file": reverse("documents:version_file", args=[0]),
        "opened": reverse("documents:opened", args=[0]),
        "thumbnail": reverse("documents:thumbnail", args=[0, 1]),
    }


def documents_payload(
    user, documents: list[Document], *, items_of: dict[int, list[int]] | None = None
) -> list[dict]:
    """Per document: id, title, badge, agenda items and versions [{id, number, page_count, size, url}].

    Non-clerks get only the current version (older ones are the secretariat's)."""
    badges = selectors.badges_for(user, documents)
    manage = permissions.can_manage(user)
    payload = []
    for document in documents:
        versions = sorted(document.versions.all(), key=lambda v: -v.number)
        if not manage:
            versions = versions[:1]
        payload.append(
            {
                "id": document.pk,
                "title": document.title,
                "badge": badges.get(document.pk, ""),
                "items": (items_of or {}).get(document.pk, []),
                "versions": [
                    {
                        "id": v.pk,
                        "number": v.number,
                        "page_count": v.page_count,
                        "size": v.size,
                        "url": reverse("documents:version_file", args=[v.pk]),
                        "label": _("Version %(number)s") % {"number": v.number},
                        "changes": v.change_summary or {},
                        "changes_text": selectors.change_summary_text(v.change_summary or {}),
                    }
                    for v in versions
                ],
            }
        )
    return payload
