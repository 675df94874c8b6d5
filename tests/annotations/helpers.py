"""Documents with real (tiny) PDF files for the annotation and notice tests."""

from __future__ import annotations

import hashlib
import io

import pikepdf
from django.core.files.base import ContentFile
from django.utils import timezone

from documents.models import Document, DocumentVersion


def make_pdf(pages: int = 3, *, size: tuple[float, float] = (595, 842), rotate: int = 0) -> bytes:
    pdf = pikepdf.new()
    for n in range(pages):
        pdf.add_blank_page(page_size=size)
        page = pdf.pages[-1]
        page.obj.Contents = pdf.make_stream(f"0 0 1 rg {20 + n} 20 10 10 re f".encode())
        if rotate:
            page.obj.Rotate = rotate
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def add_version(document: Document, *, pages: int = 3, data: bytes | None = None) -> DocumentVersion:
    data = data or make_pdf(pages)
    number = (document.versions.count() or 0) + 1
    digest = hashlib.sha256(data).hexdigest()
    version = DocumentVersion(
        document=document,
        number=number,
        original_name="gian.pdf",
        original_sha256=digest,
        served_sha256=digest,
        size=len(data),
        page_count=pages,
    )
    version.served_file.save(f"v{number}.pdf", ContentFile(data), save=False)
    version.original_file.save(f"o{number}.pdf", ContentFile(data), save=False)
    version.save()
    return version


def make_document(
    council,
    body,
    *,
    title: str = "議案第1号 町税条例の一部改正について",
    pages: int = 3,
    visibility: str = Document.Visibility.MEMBERS,
    released: bool = True,
) -> Document:
    document = Document.objects.create(
        council=council,
        body=body,
        title=title,
        visibility=visibility,
        release_state=Document.Release.RELEASED if released else Document.Release.DRAFT,
        released_at=timezone.now() if released else None,
    )
    add_version(document, pages=pages)
    return document


def response_body(response) -> bytes:
    """The bytes of a response, streamed (sync or async iterator) or not."""
    if not getattr(response, "streaming", False):
        return response.content
    content = response.streaming_content
    if not hasattr(content, "__aiter__"):
        return b"".join(content)
    from asgiref.sync import async_to_sync

    async def collect():
        return b"".join([chunk async for chunk in content])

    return async_to_sync(collect)()
