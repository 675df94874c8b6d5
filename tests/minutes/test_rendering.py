"""The PDF: Japanese text readable back, CJK fonts embedded, PDF/A declared, metadata set,
and no network request while rendering. One rendered PDF serves most assertions."""

from __future__ import annotations

import io
import socket

import pypdf
import pypdfium2
import pytest
from django.db import transaction

from meetings.minutes import rendering, selectors, services
from meetings.minutes.models import Block
from tests import factories
from tests.minutes.conftest import build_recorded_sitting

# The marker makes pytest-django set up the test database for the module-scoped fixture too.
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def rendered(django_db_setup, django_db_blocker):
    """Draft the demo-like sitting, type two speeches, render once; roll the data back."""
    with django_db_blocker.unblock(), transaction.atomic():
        from django.test import override_settings

        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            rec = build_recorded_sitting(factories.make_small_council())
        clerk = rec["clerk"].user
        minutes = services.draft_generate(sitting=rec["sitting"], actor=clerk)
        speeches = list(
            minutes.blocks.filter(kind=Block.Kind.SPEECH, source__startswith="turn:").order_by("position")
        )
        services.block_edit(block=speeches[0], text="ただいまから本日の会議を開きます。", actor=clerk)
        services.block_edit(block=speeches[3], text="議案第45号について、税率の根拠を伺います。", actor=clerk)
        services.signers_nominate(minutes=minutes, people=rec["members"][4:6], actor=clerk)
        html = rendering.document_html(selectors.document_context(minutes))
        result = rendering.render_pdf(html)
        info = {
            "date": rec["sitting"].date.isoformat(),
            "title": minutes.title,
            "names": [f"{p.family_name}{p.given_name}" for p in rec["voters"]],
        }
        transaction.set_rollback(True)
    return result, info


def _text(data: bytes) -> str:
    pdf = pypdfium2.PdfDocument(data)
    return "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))


def test_pdf_text_has_the_japanese_title_names_and_results(rendered):
    result, info = rendered
    text = _text(result.data)
    assert info["title"] in text
    for name in info["names"]:
        assert f"{name}君" in text
    for phrase in (
        "記名投票により採決 賛成6票 反対2票 可決",
        "起立により採決 賛成3人 反対5人 否決",
        "異議なしと認め、可決",
        "○3番(高橋健君)",
        "議案第45号について、税率の根拠を伺います。",
        "午前10時00分",
        "散会",
        "会議録署名議員",
        "伊藤誠君",
        "地方自治法第123条第2項",
    ):
        assert phrase in text, phrase
    assert result.pages >= 2 and result.refused == []


def _fonts(reader: pypdf.PdfReader):
    seen = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is None and "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            seen[str(font["/BaseFont"])] = descriptor.get_object()
    return seen


def test_fonts_are_embedded_noto_cjk(rendered):
    fonts = _fonts(pypdf.PdfReader(io.BytesIO(rendered[0].data)))
    assert fonts and all("CJK" in name for name in fonts), fonts.keys()
    assert any("Serif-CJK-JP" in name for name in fonts) and any("Sans-CJK-JP" in name for name in fonts)
    for name, descriptor in fonts.items():
        assert {"/FontFile2", "/FontFile3"} & set(descriptor.keys()), f"{name} is not embedded"


def test_pdf_declares_pdf_a_and_carries_metadata(rendered):
    result, info = rendered
    reader = pypdf.PdfReader(io.BytesIO(result.data))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode("utf-8")
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    assert info["title"] in xmp
    assert "/OutputIntents" in reader.trailer["/Root"]
    assert "/StructTreeRoot" in reader.trailer["/Root"]  # tagged
    assert reader.trailer["/Root"]["/Lang"] == "ja"
    meta = reader.metadata
    assert meta.title == info["title"] and meta.author == "磐梯町議会"
    assert meta.creation_date.date().isoformat() == info["date"]


def test_rendering_fetches_nothing_from_the_network(monkeypatch):
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    html = """<!DOCTYPE html><html lang="ja"><head><title>外部参照</title>
      <link rel="stylesheet" href="https://example.org/evil.css">
      <link rel="stylesheet" href="/static/css/minutes-print.css">
      <style>@import url("http://example.org/more.css"); @font-face { font-family: X; src: url(https://fonts.example/x.woff2); }
      body { background: url("//example.org/bg.png"); }</style></head>
      <body><p>本文</p><img src="https://example.org/tracker.png" alt="">
      <img src="file:///etc/passwd" alt=""></body></html>"""
    result = rendering.render_pdf(html)
    assert attempts == []
    refused = " ".join(result.refused)
    for url in (
        "https://example.org/evil.css",
        "https://example.org/tracker.png",
        "file:///etc/passwd",
        "http://example.org/more.css",
        "https://fonts.example/x.woff2",
    ):
        assert url in refused, url
    assert "本文" in _text(result.data)


def test_the_fetcher_serves_only_static_files():
    fetcher = rendering.StaticOnlyFetcher()
    ok = fetcher(rendering.INTERNAL_BASE + "static/css/minutes-print.css")
    assert b"@page" in ok.read()
    for url in (
        rendering.INTERNAL_BASE + "static/../../council/settings.py",
        rendering.INTERNAL_BASE + "admin/",
        "https://minutes.internal.evil.org/static/css/minutes-print.css",
        "ftp://example.org/x",
    ):
        with pytest.raises(ValueError, match="Not one of the project's static files"):
            fetcher(url)
