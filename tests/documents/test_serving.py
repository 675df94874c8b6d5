"""The served file: ranges and conditional requests (RFC 9110), headers, and 404 for forbidden."""

import pytest
from asgiref.sync import async_to_sync
from django.test import Client
from django.urls import reverse

from documents.models import Document
from documents.serving import Unsatisfiable, parse_range
from tests.documents.helpers import upload


def body(response) -> bytes:
    if not response.streaming:
        return response.content

    async def collect():
        return b"".join([chunk async for chunk in response.streaming_content])

    return async_to_sync(collect)()


@pytest.fixture
def served(org, pdf_files):
    document = upload(org, pdf_files["base"], title="議案第45号 町税条例")
    version = document.current_version
    data = version.served_file.open("rb").read()
    version.served_file.close()
    client = Client()
    client.force_login(org["members"][3].user)
    return {
        "document": document,
        "version": version,
        "data": data,
        "client": client,
        "url": reverse("documents:version_file", args=[version.pk]),
    }


def test_parse_range():
    assert parse_range("bytes=0-99", 1000) == (0, 99)
    assert parse_range("bytes=900-", 1000) == (900, 999)
    assert parse_range("bytes=-100", 1000) == (900, 999)
    assert parse_range("bytes=-5000", 1000) == (0, 999)
    assert parse_range("bytes=990-5000", 1000) == (990, 999)
    assert parse_range("bytes=5-1", 1000) is None  # invalid: ignored
    assert parse_range("items=0-1", 1000) is None
    assert parse_range("bytes=0-1,5-6", 1000) is None  # several ranges: whole file
    with pytest.raises(Unsatisfiable):
        parse_range("bytes=1000-", 1000)
    with pytest.raises(Unsatisfiable):
        parse_range("bytes=-0", 1000)


def test_full_response_headers(served):
    response = served["client"].get(served["url"])
    assert response.status_code == 200
    assert body(response) == served["data"]
    assert response["Content-Length"] == str(len(served["data"]))
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert response["ETag"].startswith('"')
    assert "Content-Encoding" not in response
    # RFC 6266: an ASCII fallback and the Japanese name, percent-encoded UTF-8.
    disposition = response["Content-Disposition"]
    assert disposition.startswith("inline;")
    assert "filename*=utf-8''%E8%AD%B0%E6%A1%88" in disposition
    download = served["client"].get(served["url"] + "?download=1")
    assert download["Content-Disposition"].startswith("attachment;")


def test_single_range(served):
    response = served["client"].get(served["url"], HTTP_RANGE="bytes=100-199")
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 100-199/{len(served['data'])}"
    assert response["Content-Length"] == "100"
    assert body(response) == served["data"][100:200]


def test_suffix_and_open_ranges(served):
    size = len(served["data"])
    response = served["client"].get(served["url"], HTTP_RANGE="bytes=-50")
    assert response.status_code == 206 and body(response) == served["data"][-50:]
    assert response["Content-Range"] == f"bytes {size - 50}-{size - 1}/{size}"
    response = served["client"].get(served["url"], HTTP_RANGE=f"bytes={size - 10}-")
    assert response.status_code == 206 and body(response) == served["data"][-10:]


def test_unsatisfiable_range(served):
    size = len(served["data"])
    response = served["client"].get(served["url"], HTTP_RANGE=f"bytes={size}-")
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{size}"
    assert body(response) == b""


def test_multiple_ranges_get_the_whole_file(served):
    response = served["client"].get(served["url"], HTTP_RANGE="bytes=0-9,20-29")
    assert response.status_code == 200
    assert body(response) == served["data"]


def test_invalid_range_is_ignored(served):
    response = served["client"].get(served["url"], HTTP_RANGE="bytes=abc")
    assert response.status_code == 200


def test_if_none_match(served):
    etag = served["client"].get(served["url"])["ETag"]
    response = served["client"].get(served["url"], HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert body(response) == b""
    assert response["ETag"] == etag
    # Weak comparison for If-None-Match.
    assert served["client"].get(served["url"], HTTP_IF_NONE_MATCH=f"W/{etag}").status_code == 304
    assert served["client"].get(served["url"], HTTP_IF_NONE_MATCH='"other"').status_code == 200
    assert served["client"].get(served["url"], HTTP_IF_NONE_MATCH="*").status_code == 304


def test_if_range(served):
    etag = served["client"].get(served["url"])["ETag"]
    last_modified = served["client"].get(served["url"])["Last-Modified"]
    matching = served["client"].get(served["url"], HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=etag)
    assert matching.status_code == 206 and body(matching) == served["data"][:10]
    stale = served["client"].get(served["url"], HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"stale"')
    assert stale.status_code == 200 and body(stale) == served["data"]
    # If-Range uses the strong comparison: a weak tag never matches.
    weak = served["client"].get(served["url"], HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=f"W/{etag}")
    assert weak.status_code == 200
    dated = served["client"].get(served["url"], HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=last_modified)
    assert dated.status_code == 206


def test_if_match(served):
    assert served["client"].get(served["url"], HTTP_IF_MATCH='"nope"').status_code == 412
    etag = served["client"].get(served["url"])["ETag"]
    assert served["client"].get(served["url"], HTTP_IF_MATCH=etag).status_code == 200


def test_head(served):
    response = served["client"].head(served["url"], HTTP_RANGE="bytes=0-9")
    assert response.status_code == 200
    response = served["client"].head(served["url"])
    assert response["Content-Length"] == str(len(served["data"]))
    assert body(response) == b""


def test_forbidden_and_missing_are_the_same_404(served, org):
    outsider = Client()
    forbidden = outsider.get(served["url"])
    missing = outsider.get(reverse("documents:version_file", args=[served["version"].pk + 1000]))
    assert forbidden.status_code == missing.status_code == 404
    assert body(forbidden) == body(missing)
    assert "ETag" not in forbidden and "Content-Range" not in forbidden
    # A draft is a 404 for a member, not a 403.
    Document.objects.filter(pk=served["document"].pk).update(release_state=Document.Release.DRAFT)
    response = served["client"].get(served["url"], HTTP_RANGE="bytes=0-9")
    assert response.status_code == 404 and b"%PDF" not in body(response)


def test_old_versions_only_for_clerks(served, org, pdf_files):
    from documents import services

    services.document_replace(
        document=served["document"], path=pdf_files["changed"], original_name="x.pdf", actor=org["clerk"].user
    )
    assert served["client"].get(served["url"]).status_code == 404
    clerk = Client()
    clerk.force_login(org["clerk"].user)
    assert clerk.get(served["url"]).status_code == 200


def test_thumbnail(served):
    url = reverse("documents:thumbnail", args=[served["version"].pk, 1])
    response = served["client"].get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert body(response)[:3] == b"\xff\xd8\xff"
    assert (
        served["client"].get(reverse("documents:thumbnail", args=[served["version"].pk, 99])).status_code
        == 404
    )
    assert Client().get(url).status_code == 404


def test_x_accel_redirect(served, settings):
    settings.COUNCIL_SENDFILE = "x-accel"
    response = served["client"].get(served["url"], HTTP_RANGE="bytes=0-9")
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == "/protected/" + served["version"].served_file.name
    assert body(response) == b""
    assert response["Content-Disposition"].startswith("inline;")
    # Authorization still comes first.
    assert Client().get(served["url"]).status_code == 404
