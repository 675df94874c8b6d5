"""The field corpus (``tests/documents/field_pdfs.py``) through the upload check (``pytest -k field_pdfs``).

Every class is accepted or refused as issue #17 and the trust issue (#14) say; the checking
worker never dies (no ``worker_failed``, no ``unexpected``); an accepted file's served copy has
the same pages, sizes and rotations as the original, and its page 1 looks the same; what was
changed is recorded on the version, shown on the document's page and in the upload's answer."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest
from django.utils import translation

from bench.support import field_pdfs
from documents import ingest_checks, ingest_worker
from documents.ingest import IngestRefused, change_message, damage_message, read_pdf, refusal_message

DEATHS = {"unexpected", "worker_failed"}


@pytest.fixture(scope="session")
def field_corpus(tmp_path_factory) -> dict[str, Path]:
    """Every field file, generated once per session."""
    folder = tmp_path_factory.mktemp("field-pdfs")
    files = {}
    for name, (build, _expect) in field_pdfs.FIELD.items():
        files[name] = folder / f"{name}.pdf"
        files[name].write_bytes(build())
    for seed in field_pdfs.FUZZ_SEEDS:
        files[f"fuzz-{seed}"] = folder / f"fuzz-{seed}.pdf"
        files[f"fuzz-{seed}"].write_bytes(field_pdfs.fuzzed(seed))
    for seed in field_pdfs.MUTATION_SEEDS:
        files[f"mutated-{seed}"] = folder / f"mutated-{seed}.pdf"
        files[f"mutated-{seed}"].write_bytes(field_pdfs.mutated(seed))
    return files


def pages_of(path: Path) -> list[tuple[float, float, int]]:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path), password="")
    try:
        return [(*(round(v, 2) for v in pdf[i].get_size()), pdf[i].get_rotation()) for i in range(len(pdf))]
    finally:
        pdf.close()


def render_first_page(path: Path):
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path), password="")
    try:
        return pdf[0].render(scale=1, may_draw_forms=False).to_pil().convert("L")
    finally:
        pdf.close()


def pixel_difference(a, b) -> tuple[float, float]:
    """Mean absolute difference (0-255) and the share of pixels differing by more than 48."""
    from PIL import ImageChops

    assert a.size == b.size, (a.size, b.size)
    diff = ImageChops.difference(a, b)
    histogram = diff.histogram()
    total = a.size[0] * a.size[1]
    mean = sum(value * count for value, count in enumerate(histogram)) / total
    return mean, sum(histogram[49:]) / total


@pytest.mark.parametrize("name", list(field_pdfs.FIELD))
def test_field_pdfs_class(name, field_corpus):
    _build, expect = field_pdfs.FIELD[name]
    path = field_corpus[name]
    with translation.override("en"):
        try:
            result = read_pdf(path)
        except IngestRefused as refusal:
            assert refusal.kind not in DEATHS, f"{name}: the worker died:\n{refusal.detail}"
            assert not expect.accepted, (
                f"{name} was refused ({refusal.reason}/{refusal.kind}): {refusal.detail}"
            )
            assert (refusal.reason, refusal.kind) == (expect.reason, expect.kind), refusal.detail
            assert refusal.message == (
                damage_message(expect.kind)
                if expect.kind and expect.kind != "page_content"
                else refusal.message
            )
            assert refusal.message  # a sentence saying what was wrong and what to do
            return
    try:
        assert expect.accepted, f"{name} was accepted; expected {expect.reason}/{expect.kind}"
        assert {change["code"] for change in result.changes} == set(expect.changes), result.changes
        assert result.page_count == expect.pages
        served = result.served_path
        assert pages_of(served) == pages_of(path), "page sizes or rotations changed"
        mean, share = pixel_difference(render_first_page(path), render_first_page(served))
        assert mean < 0.5 and share < 0.002, (
            f"page 1 renders differently: mean {mean:.2f}, {share:.2%} of pixels"
        )
        for page in result.pages:
            assert result.thumbnail_path(page).stat().st_size > 100
        import pikepdf

        with pikepdf.open(served) as copy:
            assert not copy.is_encrypted
            assert "/AA" not in copy.Root
            open_action = copy.Root.get("/OpenAction")
            assert open_action is None or isinstance(open_action, pikepdf.Array)
        assert served.read_bytes().startswith(b"%PDF-")
    finally:
        result.cleanup()


@pytest.mark.parametrize(
    "name",
    [f"fuzz-{seed}" for seed in field_pdfs.FUZZ_SEEDS]
    + [f"mutated-{seed}" for seed in field_pdfs.MUTATION_SEEDS],
)
def test_field_pdfs_fuzzed_file_never_kills_the_worker(name, field_corpus):
    try:
        result = read_pdf(field_corpus[name])
    except IngestRefused as refusal:
        assert refusal.kind not in DEATHS, refusal.detail
        assert refusal.message
    else:
        assert result.page_count >= 1
        result.cleanup()


def test_field_pdfs_changes_are_described(field_corpus):
    expected = {
        "restricted_aes128": "AES-128",
        "restricted_rc4": "RC4-128",
        "byte_order_mark": "3 bytes",
        "printer_banner": "89 bytes",
        "named_print_open_action": "Named Print",
    }
    for name, words in expected.items():
        result = read_pdf(field_corpus[name])
        try:
            with translation.override("en"):
                sentences = [change_message(change) for change in result.changes]
            assert any(words in sentence for sentence in sentences), sentences
        finally:
            result.cleanup()


def test_field_pdfs_refusals_say_what_to_do_in_japanese(field_corpus):
    with translation.override("ja"):
        with pytest.raises(IngestRefused) as password:
            read_pdf(field_corpus["password_to_open"])
        with pytest.raises(IngestRefused) as remote:
            read_pdf(field_corpus["link_unc_uri"])
        with pytest.raises(IngestRefused) as content:
            read_pdf(field_corpus["corrupt_content_stream"])
    assert (
        password.value.message
        == "この PDF は開くのにパスワードが必要です。パスワードなしで保存し直してください。"
    )
    assert "リンク" in remote.value.message and "保存し直して" in remote.value.message, remote.value.message
    assert "1 ページ" in content.value.message or "1ページ" in content.value.message, content.value.message


def test_field_pdfs_many_links_are_checked_from_their_text():
    """Plain https links are recognised without walking them; anything else is walked."""
    link = b"<< /A << /S /URI /URI (https://www.city.example.jp/a) >> /Border [ 0 0 0 ] /Rect [ 0 0 1 1 ] /Type /Annot >>"
    assert not ingest_checks.needs_walk(link)
    assert not ingest_checks.needs_walk(b"<< /A << /S /URI /Type /Action /URI (mailto:a@b.jp) >> >>")
    for text in [
        b"<< /A << /S /URI /URI (file:///C:/x) >> >>",
        b"<< /A << /S /URI /URI (https://a) >> /AA << >> >>",  # a second, risky name beside a plain link
        b"<< /A << /S /URI /URI <68747470733a2f2f61> >> >>",  # hex string: decoded by the walk
        b"<< /A << /S /URI /URI 12 0 R >> >>",  # indirect target
        b"<< /A << /IsMap true /S /URI /URI (https://a) >> /Next << /S /Launch >> >>",
        b"<< /X /S /URI (file:///x) >>",
        b"<< /S /GoToR /F (a.pdf) >>",
        b"<< /Subtype /Image /Width 100000 /Height 100000 >>",
    ]:
        assert ingest_checks.needs_walk(text), text


def test_field_pdfs_unloadable_page_gets_a_placeholder(field_corpus, tmp_path, monkeypatch):
    """A page PDFium cannot draw gets a placeholder thumbnail; the document is accepted."""
    import pypdfium2 as pdfium
    from PIL import Image

    real_render = pdfium.PdfPage.render

    def render(page, *args, **kwargs):
        if page.get_size()[1] > 100000:  # the long strip, page 2
            raise pdfium.PdfiumError("Failed to render page.")
        return real_render(page, *args, **kwargs)

    monkeypatch.setattr(pdfium.PdfPage, "render", render)
    out = tmp_path / "out"
    out.mkdir()
    result = ingest_worker.ingest(field_corpus["very_long_page"], out, processes=1)
    assert result["page_count"] == 2
    assert {"code": "placeholder_thumbnails", "pages": [2]} in result["changes"]
    thumb = Image.open(out / result["pages"][1]["thumbnail"])
    assert thumb.width == ingest_worker.THUMB_WIDTH and thumb.height == ingest_worker.THUMB_MAX_HEIGHT
    assert Image.open(out / result["pages"][0]["thumbnail"]).width == ingest_worker.THUMB_WIDTH


def test_field_pdfs_very_long_page_gets_a_bounded_thumbnail(field_corpus):
    """The old thumbnail (136 px wide at any height) needed a bitmap of 1.4 billion pixels."""
    from PIL import Image

    result = read_pdf(field_corpus["very_long_page"])
    try:
        thumb = Image.open(result.thumbnail_path(result.pages[1]))
        assert thumb.height <= ingest_worker.THUMB_MAX_HEIGHT
        assert result.pages[1]["height"] == 14400000
    finally:
        result.cleanup()


def test_field_pdfs_unexpected_error_is_named_and_traced(tmp_path, monkeypatch, capsys):
    """A bug in the worker is reported as ``unexpected`` with its traceback; the worker exits 0."""
    src = tmp_path / "a.pdf"
    src.write_bytes(field_pdfs.plain())
    out = tmp_path / "out"
    out.mkdir()

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in a check")

    monkeypatch.setattr(ingest_worker, "content_hashes", broken)
    assert ingest_worker.main(["worker", str(src), str(out)]) == 0
    result = json.loads((out / "result.json").read_text())
    assert (result["ok"], result["reason"], result["kind"]) == (False, "damaged", "unexpected")
    assert "RuntimeError: a bug in a check" in result["detail"]
    assert "Traceback" in capsys.readouterr().err
    with translation.override("en"):
        assert "administrator" in damage_message("unexpected")


def test_field_pdfs_worker_that_dies_is_logged(tmp_path, monkeypatch, caplog):
    """A worker that exits non-zero without a result: the clerk gets a named reason, the
    administrator the traceback in the log."""
    script = tmp_path / "dying.py"
    script.write_text(
        "import sys\nprint('Traceback (most recent call last):\\nSegfault-ish', file=sys.stderr)\nsys.exit(3)\n"
    )
    import documents.ingest as ingest_module

    monkeypatch.setattr(ingest_module.subprocess, "Popen", _popen_running(script))
    src = tmp_path / "a.pdf"
    src.write_bytes(field_pdfs.plain())
    with caplog.at_level(logging.ERROR, logger="documents.ingest"), pytest.raises(IngestRefused) as excinfo:
        read_pdf(src)
    assert (excinfo.value.reason, excinfo.value.kind) == ("damaged", "worker_failed")
    assert any(
        "Segfault-ish" in record.getMessage() and "exited with 3" in record.getMessage()
        for record in caplog.records
    )


def _popen_running(script: Path):
    import subprocess

    real = subprocess.Popen

    def popen(args, **kwargs):
        return real([sys.executable, str(script)], **kwargs)

    return popen


def test_field_pdfs_reasons_have_messages():
    with translation.override("ja"):
        for reason in ("encrypted", "remote_link", "active_content", "embedded_file", "not_pdf"):
            assert refusal_message(reason) != refusal_message("damaged") or reason == "damaged"
        for kind in ("leading_format", "no_pages", "page_tree", "render", "unexpected", "worker_failed"):
            assert damage_message(kind)


@pytest.mark.django_db
def test_field_pdfs_changes_are_recorded_and_shown(org, field_corpus, settings):
    """An accepted file's changes are kept on its version, in the audit entry, in the upload's
    answer and on the document's page (in the viewer's language)."""
    from django.test import Client
    from django.urls import reverse

    from council.models import AuditEntry
    from documents.models import Document

    settings.LANGUAGE_CODE = "ja"
    client = Client(HTTP_ACCEPT_LANGUAGE="ja")
    client.force_login(org["clerk"].user)
    with open(field_corpus["restricted_aes256"], "rb") as f:
        response = client.post(
            reverse("documents:upload_file"), {"file": f, "body": org["plenary"].pk, "release": "now"}
        )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["ok"] and len(data["notes"]) == 1 and "AES-256" in data["notes"][0], data
    assert "編集・印刷の制限" in data["notes"][0], data["notes"]
    document = Document.objects.get(pk=data["document"])
    version = document.versions.get()
    assert version.ingest_changes == [{"code": "restrictions_removed", "encryption": "AES-256"}]
    entry = AuditEntry.objects.filter(action="documents.created").latest("pk")
    assert entry.data["ingest_changes"] == version.ingest_changes

    with open(field_corpus["named_print_open_action"], "rb") as f:
        replaced = client.post(reverse("documents:replace", args=[document.pk]), {"file": f, "note": "差替"})
    assert replaced.status_code == 200, replaced.content
    assert any("Named Print" in note for note in replaced.json()["notes"])
    assert document.versions.get(number=2).ingest_changes == [
        {"code": "open_action_removed", "action": "Named Print"}
    ]

    page = client.get(reverse("documents:detail", args=[document.pk])).content.decode()
    assert "アップロード時に閲覧用の複製で変更した点" in page
    assert "AES-256" in page and "Named Print" in page


@pytest.mark.django_db
def test_field_pdfs_refusal_on_the_upload_page_is_japanese(org, field_corpus):
    from django.test import Client
    from django.urls import reverse

    from documents.models import Document

    client = Client(HTTP_ACCEPT_LANGUAGE="ja")
    client.force_login(org["clerk"].user)
    with open(field_corpus["password_to_open"], "rb") as f:
        response = client.post(reverse("documents:upload_file"), {"file": f, "body": org["plenary"].pk})
    assert response.status_code == 400
    assert response.json() == {
        "ok": False,
        "code": "encrypted",
        "reason": "encrypted",
        "error": "この PDF は開くのにパスワードが必要です。パスワードなしで保存し直してください。",
    }
    assert not Document.objects.exists()


@pytest.mark.browser
@pytest.mark.slow
def test_field_pdfs_upload_page_in_the_browser(daphne_server, new_context, field_corpus, tmp_path):
    """The clerk drops a password-protected file and a restricted one: the first row says in
    Japanese what is wrong and what to do, the second what was changed; the document page too."""
    from django.conf import settings as django_settings
    from django.test import Client

    from tests import factories

    org = factories.make_small_council()
    client = Client()
    client.force_login(org["clerk"].user)
    cookie = {
        "name": django_settings.SESSION_COOKIE_NAME,
        "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
        "url": daphne_server.url,
    }
    files = [tmp_path / "議案第12号_暗号化.pdf", tmp_path / "官報_抜粋.pdf"]
    files[0].write_bytes(field_corpus["password_to_open"].read_bytes())
    files[1].write_bytes(field_corpus["restricted_aes128"].read_bytes())

    context = new_context(viewport={"width": 1366, "height": 768})
    context.add_cookies([cookie])
    page = context.new_page()
    page.goto(f"{daphne_server.url}/documents/upload/")
    page.set_input_files(".uploader input[type=file]", [str(f) for f in files])
    page.wait_for_selector(".upload-notes li", timeout=30000)
    error = page.locator(".upload-result.is-error").first.inner_text()
    assert error == "この PDF は開くのにパスワードが必要です。パスワードなしで保存し直してください。"
    note = page.locator(".upload-notes li").first.inner_text()
    assert "編集・印刷の制限" in note and "AES-128" in note
    page.locator(".upload-result.is-ok a").first.click()
    page.wait_for_selector(".ingest-notes")
    assert "AES-128" in page.locator(".ingest-notes").inner_text()


def test_field_pdfs_refusal_from_a_renderer_process_keeps_its_name():
    """Renderers are separate processes: a refusal raised there is pickled back whole."""
    import pickle

    from documents.ingest_damage import Refused

    back = pickle.loads(pickle.dumps(Refused("damaged", "x", kind="page_content", params={"page": 7})))
    assert (back.reason, back.detail, back.kind, back.params) == ("damaged", "x", "page_content", {"page": 7})
