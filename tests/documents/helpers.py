"""Shortcuts for document tests."""

from __future__ import annotations

from pathlib import Path

from documents import services
from documents.models import Document


def upload(
    org,
    path: Path,
    *,
    title: str = "議案書",
    body=None,
    visibility: str = Document.Visibility.MEMBERS,
    release_now: bool = True,
    actor=None,
) -> Document:
    return services.document_create(
        body=body or org["plenary"],
        title=title,
        path=path,
        original_name=path.name,
        actor=actor or org["clerk"].user,
        visibility=visibility,
        release_now=release_now,
    )
