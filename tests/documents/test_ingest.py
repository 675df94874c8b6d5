"""The ingest worker: every refusal with a generated file, and what an accepted file yields."""

import pytest

from documents.ingest import IngestRefused, read_pdf

ACTIVE = (
    "This PDF contains scripts or actions that start other programs, which are not allowed. "
    "Export the PDF again without them (for example by printing it to PDF) and re-upload."
)
ATTACHED = (
    "This PDF contains attached files, which are not allowed. "
    "Remove the attachments, save the PDF again and re-upload."
)


def test_accepts_a_japanese_pdf(pdf_files):
    result = read_pdf(pdf_files["base"])
    try:
        assert result.page_count == 3
        assert "町税条例" in result.pages[0]["text"]
        assert "百分の五" in result.pages[1]["search_text"]
        assert len(result.original_sha256) == 64 and len(result.served_sha256) == 64
        assert result.served_path.read_bytes().startswith(b"%PDF-")
        # Linearized: the first object carries the /Linearized dictionary.
        assert b"/Linearized" in result.served_path.read_bytes()[:1024]
        for page in result.pages:
            assert result.thumbnail_path(page).stat().st_size > 100
        assert result.peak_rss_mb > 0
    finally:
        result.cleanup()
    assert not result.workdir.exists()


@pytest.mark.parametrize(
    ("name", "reason", "message"),
    [
        ("image", "not_pdf", "This file is not a PDF. Save the document as a PDF and upload that file."),
        (
            "truncated",
            "damaged",
            "This PDF is damaged and cannot be read. Save or export the PDF again and re-upload.",
        ),
        (
            "encrypted",
            "encrypted",
            "This PDF needs a password to open. Save it again without a password and re-upload.",
        ),
        (
            "javascript",
            "active_content",
            ACTIVE,
        ),
        (
            "launch",
            "active_content",
            ACTIVE,
        ),
        ("embedded", "embedded_file", ATTACHED),
        (
            "xfa",
            "active_content",
            ACTIVE,
        ),
        (
            "page_action",
            "active_content",
            ACTIVE,
        ),
    ],
)
def test_refusals(pdf_files, name, reason, message, settings):
    settings.LANGUAGE_CODE = "en"
    from django.utils import translation

    with translation.override("en"), pytest.raises(IngestRefused) as excinfo:
        read_pdf(pdf_files[name])
    assert excinfo.value.reason == reason
    assert excinfo.value.message == message


def test_refusal_messages_are_japanese(pdf_files):
    from django.utils import translation

    with translation.override("ja"), pytest.raises(IngestRefused) as excinfo:
        read_pdf(pdf_files["encrypted"])
    assert (
        excinfo.value.message
        == "この PDF は開くのにパスワードが必要です。パスワードなしで保存し直してください。"
    )


def test_timeout_kills_the_worker(pdf_files):
    with pytest.raises(IngestRefused) as excinfo:
        read_pdf(pdf_files["base"], timeout=0.05)
    assert excinfo.value.reason == "timeout"


def test_memory_limit(pdf_files):
    # 60 MB of address space is not enough for the PDF libraries: refused, not a crash.
    with pytest.raises(IngestRefused) as excinfo:
        read_pdf(pdf_files["base"], memory_mb=60)
    assert excinfo.value.reason in {"memory", "damaged"}


def test_served_copy_has_a_balanced_page_tree(tmp_path):
    """pdf.js walks the page tree to find page n: counted intermediate nodes let it skip subtrees
    (a flat tree made it fetch a range around every earlier page: 38 % of a 50 MB packet for page 150)."""
    import pypdf

    from tests.documents.pdfs import japanese_pdf

    path = tmp_path / "forty.pdf"
    path.write_bytes(japanese_pdf([f"第{n}頁の本文です。" for n in range(1, 41)]))
    result = read_pdf(path)
    try:
        reader = pypdf.PdfReader(result.served_path)
        kids = reader.trailer["/Root"]["/Pages"]["/Kids"]
        assert len(kids) <= 16
        assert all(kid.get_object()["/Type"] == "/Pages" for kid in kids)
        assert sum(kid.get_object()["/Count"] for kid in kids) == 40
        assert len(reader.pages) == 40
        # Page order is kept: the text of page n says n.
        assert [p["number"] for p in result.pages] == list(range(1, 41))
        assert "第17頁" in result.pages[16]["search_text"]
        assert "第17頁" in reader.pages[16].extract_text().replace(" ", "")
    finally:
        result.cleanup()


def test_open_destination_is_allowed(pdf_files):
    """Office exports often say "open at page 1, fit": a destination, not an action."""
    result = read_pdf(pdf_files["open_destination"])
    assert result.page_count == 3
    result.cleanup()


def test_image_too_large_to_decode_is_refused(tmp_path):
    """An image declaring 100000 x 100000 pixels from a few bytes: a memory bomb for any reader."""
    import pikepdf

    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(300, 300))
    page = pdf.pages[0]
    image = pikepdf.Stream(pdf, b"\0" * 100)
    image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    image.Width, image.Height, image.BitsPerComponent = 100000, 100000, 8
    image.ColorSpace = pikepdf.Name.DeviceGray
    name = page.add_resource(image, pikepdf.Name.XObject)
    page.contents_add(pikepdf.Stream(pdf, f"q 300 0 0 300 0 0 cm {name} Do Q".encode()))
    path = tmp_path / "bomb.pdf"
    pdf.save(path)
    with pytest.raises(IngestRefused) as excinfo:
        read_pdf(path)
    assert excinfo.value.reason == "memory"
