"""Uploading through the views: the size limit while streaming, refusals store nothing, CSRF, roles."""

import io

import pytest
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.http.multipartparser import MultiPartParser
from django.test import Client
from django.urls import reverse

from documents.models import Document
from documents.uploads import SizeLimitHandler
from meetings.models import AgendaItemDocument
from tests import factories


@pytest.fixture
def upload_tmp(settings, tmp_path):
    folder = tmp_path / "uploads"
    folder.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(folder)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # every upload goes to a temporary file
    return folder


def stored(settings):
    return [p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()]


def clerk_client(org):
    client = Client()
    client.force_login(org["clerk"].user)
    return client


def post_file(client, url, path, **fields):
    with open(path, "rb") as f:
        return client.post(url, {"file": f, **fields})


def test_clerk_uploads(org, pdf_files, upload_tmp, settings):
    response = post_file(
        clerk_client(org),
        reverse("documents:upload_file"),
        pdf_files["base"],
        body=org["plenary"].pk,
        title="議案第1号",
        visibility="public",
        release="now",
    )
    assert response.status_code == 200, response.content
    data = response.json()
    document = Document.objects.get(pk=data["document"])
    assert data["ok"] and document.title == "議案第1号" and document.release_state == "released"
    assert list(upload_tmp.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("image", "not_pdf"),
        ("javascript", "active_content"),
        ("encrypted", "encrypted"),
        ("truncated", "damaged"),
        ("embedded", "embedded_file"),
    ],
)
def test_refused_upload_stores_nothing(org, pdf_files, upload_tmp, settings, name, reason):
    client = clerk_client(org)
    response = post_file(
        client,
        reverse("documents:upload_file"),
        pdf_files[name],
        body=org["plenary"].pk,
        HTTP_ACCEPT_LANGUAGE="ja",
    )
    assert response.status_code == 400
    assert response.json()["reason"] == reason
    assert Document.objects.count() == 0
    assert stored(settings) == []
    assert list(upload_tmp.iterdir()) == []


def test_over_the_size_limit(org, pdf_files, upload_tmp, settings):
    settings.COUNCIL_UPLOAD_MAX_BYTES = 20_000
    settings.LANGUAGE_CODE = "en"
    response = post_file(
        clerk_client(org), reverse("documents:upload_file"), pdf_files["base"], body=org["plenary"].pk
    )
    assert response.status_code == 413
    assert response.json() == {
        "ok": False,
        "code": "too_large",
        "reason": "too_large",
        "error": "This file is larger than the limit of 19.5\xa0KB.",
    }
    assert Document.objects.count() == 0
    assert stored(settings) == []
    assert list(upload_tmp.iterdir()) == []


def test_size_limit_stops_reading_the_body(settings, upload_tmp):
    """The parser stops reading the request body soon after the limit, not at its end."""
    boundary = "BOUNDARY"
    payload = b"%PDF-1.7\n" + b"x" * (5 * 1024 * 1024)
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
            f"Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + payload
        + f"\r\n--{boundary}--\r\n".encode()
    )

    class Counting(io.BytesIO):
        consumed = 0

        def read(self, size=-1):
            data = super().read(size)
            Counting.consumed += len(data)
            return data

    stream = Counting(body)
    limiter = SizeLimitHandler(limit=100_000)
    # The announced length passes the early check, so the bytes are counted as they stream.
    meta = {"CONTENT_TYPE": f"multipart/form-data; boundary={boundary}", "CONTENT_LENGTH": "150000"}
    parser = MultiPartParser(meta, stream, [limiter, TemporaryFileUploadHandler()], "utf-8")
    _post, files = parser.parse()
    assert limiter.too_large
    assert "file" not in files
    assert Counting.consumed < 1024 * 1024  # stopped long before the 5 MB end
    assert list(upload_tmp.iterdir()) == []


def test_announced_length_over_the_limit_is_refused_unread():
    limiter = SizeLimitHandler(limit=1000)
    limiter.handle_raw_input(None, {}, 10_000_000, "b")
    assert limiter.too_large


def test_parse_timeout_refusal(org, pdf_files, upload_tmp, settings):
    settings.COUNCIL_INGEST_TIMEOUT_S = 0.05
    settings.LANGUAGE_CODE = "en"
    response = post_file(
        clerk_client(org), reverse("documents:upload_file"), pdf_files["base"], body=org["plenary"].pk
    )
    assert response.status_code == 400
    assert response.json()["error"] == "This PDF took too long to read (more than 0.05 seconds)."
    assert stored(settings) == []


def test_members_cannot_upload(org, pdf_files, upload_tmp):
    client = Client()
    client.force_login(org["members"][0].user)
    response = post_file(client, reverse("documents:upload_file"), pdf_files["base"], body=org["plenary"].pk)
    assert response.status_code == 403
    assert Document.objects.count() == 0


def test_csrf_is_checked(org, pdf_files, upload_tmp):
    client = Client(enforce_csrf_checks=True)
    client.force_login(org["clerk"].user)
    response = post_file(client, reverse("documents:upload_file"), pdf_files["base"], body=org["plenary"].pk)
    assert response.status_code == 403
    assert Document.objects.count() == 0


def test_sitting_upload_attaches_to_the_item(org, pdf_files, upload_tmp):
    sitting = org["sitting"]
    item = factories.make_agenda_item(sitting, closed_session=True)
    client = clerk_client(org)
    page = client.get(reverse("meetings:reader:upload", args=[sitting.pk]))
    assert page.status_code == 200
    response = post_file(
        client,
        reverse("meetings:reader:upload_file", args=[sitting.pk]),
        pdf_files["base"],
        item=item.pk,
        release="now",
    )
    assert response.status_code == 200, response.content
    document = Document.objects.get(pk=response.json()["document"])
    # A closed-session item's documents default to closed-session visibility.
    assert document.visibility == Document.Visibility.CLOSED_SESSION
    assert document.body == sitting.body
    assert AgendaItemDocument.objects.filter(agenda_item=item, document=document).exists()
    other = factories.make_agenda_item(factories.make_sitting(org["session"], org["committee"]))
    response = post_file(
        client, reverse("meetings:reader:upload_file", args=[sitting.pk]), pdf_files["base"], item=other.pk
    )
    assert response.status_code == 400 and response.json()["reason"] == "item"


def test_replace_through_the_view(org, pdf_files, upload_tmp):
    client = clerk_client(org)
    data = post_file(
        client, reverse("documents:upload_file"), pdf_files["base"], body=org["plenary"].pk, release="now"
    ).json()
    response = post_file(
        client, reverse("documents:replace", args=[data["document"]]), pdf_files["changed"], note="税率の訂正"
    )
    assert response.status_code == 200, response.content
    result = response.json()
    assert result["number"] == 2
    assert result["changes"]["changed"] == [2] and result["changes"]["added"] == [4]
    detail = client.get(reverse("documents:detail", args=[data["document"]])).content.decode()
    assert "税率の訂正" in detail


def test_release_actions_through_the_page(org, pdf_files, upload_tmp):
    import datetime

    from django.utils import timezone

    client = clerk_client(org)
    data = post_file(
        client, reverse("documents:upload_file"), pdf_files["base"], body=org["plenary"].pk
    ).json()
    document = Document.objects.get(pk=data["document"])
    assert document.release_state == "draft"
    url = reverse("documents:release", args=[document.pk])
    later = (timezone.localtime() + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    client.post(url, {"action": "schedule", "release_at": later})
    document.refresh_from_db()
    assert document.release_state == "scheduled" and document.release_at > timezone.now()
    client.post(url, {"action": "update", "title": "新しい件名", "visibility": "closed"})
    document.refresh_from_db()
    assert (document.title, document.visibility) == ("新しい件名", "closed")
    client.post(url, {"action": "release"})
    document.refresh_from_db()
    assert document.release_state == "released"
    client.post(url, {"action": "withdraw", "confirm": "yes"})
    document.refresh_from_db()
    assert document.release_state == "withdrawn"
    response = client.post(url, {"action": "schedule", "release_at": "not a date"}, follow=True)
    assert "公開日時を日付と時刻で入力してください。" in response.content.decode()
    member = Client()
    member.force_login(org["members"][0].user)
    assert member.post(url, {"action": "release"}).status_code == 403
