"""#12: dates a Japanese user reads on document pages are in the era form (令和8年12月2日)."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from documents.models import Document, DocumentVersion
from tests.documents.helpers import upload

pytestmark = pytest.mark.django_db


def test_era_dates_on_document_pages(org, pdf_files):
    document = upload(org, pdf_files["base"], release_now=False)
    at = timezone.make_aware(datetime.datetime(2026, 12, 2, 14, 5))
    DocumentVersion.objects.filter(document=document).update(created_at=at)
    Document.objects.filter(pk=document.pk).update(release_state="scheduled", release_at=at)
    client = Client()
    client.cookies["django_language"] = "ja"
    client.force_login(org["clerk"].user)
    detail = client.get(reverse("documents:detail", args=[document.pk])).content.decode()
    assert "令和8年12月2日(水) 14:05" in detail and "2026-12-02" not in detail
    listing = client.get(reverse("documents:list")).content.decode()
    assert "令和8年12月2日(水) 14:05" in listing and "2026-12-02" not in listing
    client.cookies["django_language"] = "en"
    assert "2 Dec 2026 14:05" in client.get(reverse("documents:detail", args=[document.pk])).content.decode()
