"""Damage a reader would repair is named and refused; what real writers produce is not."""

import io
import zipfile

import pikepdf
import pytest
from django.utils import translation

from bench.support import hostile_pdfs
from documents import ingest_damage
from documents.ingest import IngestRefused, read_pdf


def write(tmp_path, data: bytes, name: str = "upload.pdf"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def zip_archive(comment: bytes = b"") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("Evil.class", b"\xca\xfe\xba\xbe")
        archive.comment = comment
    return buffer.getvalue()


# --- after %%EOF ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tail",
    [b"", b"\n", b"\r\n" + b"\x00" * 8192, b"\x1a", b" \t\f\n", b"garbage left by a mail gateway\n"],
    ids=["nothing", "newline", "nul_block", "ctrl_z", "whitespace", "small_leftover"],
)
def test_padding_and_small_leftovers_after_the_end_are_accepted(tmp_path, tail):
    assert ingest_damage.check_end_of_file(write(tmp_path, hostile_pdfs.valid() + tail)) is None


def test_an_incremental_update_is_accepted(tmp_path):
    data = hostile_pdfs.incremental_update()
    assert data.count(b"%%EOF") == 2
    assert ingest_damage.check_end_of_file(write(tmp_path, data)) is None
    # A writer that forgot the last %%EOF: what follows the first one is PDF, not another file.
    unfinished = data[: data.rindex(b"%%EOF")]
    assert ingest_damage.check_end_of_file(write(tmp_path, unfinished)) is None


@pytest.mark.parametrize(
    "tail",
    [
        zip_archive(),
        zip_archive(comment=b"%%EOF"),  # the archive's comment ends the file with a PDF end marker
        b"\n<html><body><script>alert(1)</script></body></html>\n",
        b"\n<!DOCTYPE html><p>hi",
    ],
    ids=["zip", "zip_hiding_behind_eof", "html", "doctype"],
)
def test_another_file_after_the_end_is_refused(tmp_path, tail):
    damage = ingest_damage.check_end_of_file(write(tmp_path, hostile_pdfs.valid() + tail))
    assert (damage.reason, damage.kind) == ("not_pdf", "appended_file")


def test_much_unknown_data_after_the_end_is_refused(tmp_path):
    tail = bytes(range(1, 256)) * 20  # 5 KB, no known signature
    damage = ingest_damage.check_end_of_file(write(tmp_path, hostile_pdfs.valid() + tail))
    assert (damage.reason, damage.kind) == ("damaged", "trailing_data")


# --- declared sizes ------------------------------------------------------------------------------


def stream_damage(path):
    with pikepdf.open(path) as pdf:
        size = path.stat().st_size
        found = [
            ingest_damage.check_stream(obj, size) for obj in pdf.objects if isinstance(obj, pikepdf.Stream)
        ]
    return [damage for damage in found if damage]


def with_content_length(length: int) -> bytes:
    objects = hostile_pdfs.simple_objects()
    objects[4] = b"<< /Length %d >>\nstream\n" % length + hostile_pdfs.PAGE_CONTENT + b"\nendstream"
    return hostile_pdfs.build(objects)


def test_real_object_streams_pass(tmp_path):
    path = write(tmp_path, hostile_pdfs.object_streams_linearized())
    with pikepdf.open(path) as pdf:
        assert any(obj.get("/Type") == "/ObjStm" for obj in pdf.objects if isinstance(obj, pikepdf.Stream))
    assert stream_damage(path) == []


def test_an_object_stream_with_an_impossible_header_is_refused(tmp_path):
    [damage] = stream_damage(write(tmp_path, hostile_pdfs.huge_object_stream()))
    assert damage.kind == "object_stream"


def test_a_length_off_by_a_little_passes_and_one_beyond_the_file_does_not(tmp_path):
    assert stream_damage(write(tmp_path, with_content_length(len(hostile_pdfs.PAGE_CONTENT) + 7))) == []
    # Some writers put the uncompressed size in /Length: tolerated up to twice the file (1 MB at least).
    assert stream_damage(write(tmp_path, with_content_length(500_000))) == []
    [damage] = stream_damage(write(tmp_path, with_content_length(10**12)))
    assert damage.kind == "stream_length"


def test_qpdf_warnings_for_minor_repairs_pass():
    warnings = [
        "x.pdf: file is damaged",
        "x.pdf (object 3 0, offset 123): expected n n obj",
        "x.pdf: Attempting to reconstruct cross-reference table",
        "x.pdf (object 4 0, offset 279): recovered stream length: 39",
        "x.pdf: startxref was more than 1024 bytes before end of file",
    ]
    assert ingest_damage.check_qpdf_warnings(warnings, None) is None
    damage = ingest_damage.check_qpdf_warnings(
        [*warnings, "x.pdf: loop detected following xref tables"], None
    )
    assert damage.kind == "xref_loop"


# --- through the worker --------------------------------------------------------------------------


def test_nesting_is_limited_to_a_hundred_levels(tmp_path):
    """qpdf's own limit is 499; ours is 100, far above anything real writers nest."""
    result = read_pdf(write(tmp_path, hostile_pdfs.deep_nesting(60), "sixty.pdf"))
    assert result.page_count == 1
    result.cleanup()
    with translation.override("en"), pytest.raises(IngestRefused) as excinfo:
        read_pdf(write(tmp_path, hostile_pdfs.deep_nesting(150), "deep.pdf"))
    assert (excinfo.value.reason, excinfo.value.kind) == ("damaged", "nesting")
    assert excinfo.value.message == (
        "The file contains data nested more than 100 levels deep; save or export the PDF again and re-upload."
    )


@pytest.mark.parametrize(
    ("build", "reason", "message"),
    [
        (
            hostile_pdfs.looping_xref,
            "damaged",
            "The file's cross-reference table is damaged (it loops); save or export the PDF again and re-upload.",
        ),
        (
            hostile_pdfs.huge_declared_length,
            "damaged",
            "A stream in the file declares a length larger than the whole file; "
            "save or export the PDF again and re-upload.",
        ),
        (
            hostile_pdfs.polyglot_zip,
            "not_pdf",
            "Another file (such as a ZIP archive or a web page) is attached after the end of the PDF; "
            "save or export the PDF again and re-upload.",
        ),
    ],
    ids=["looping_xref", "huge_declared_length", "polyglot_zip"],
)
def test_refusals_say_what_was_wrong(tmp_path, build, reason, message):
    with translation.override("en"), pytest.raises(IngestRefused) as excinfo:
        read_pdf(write(tmp_path, build()))
    assert excinfo.value.reason == reason
    assert excinfo.value.message == message


def test_damage_messages_are_japanese(tmp_path):
    with translation.override("ja"), pytest.raises(IngestRefused) as excinfo:
        read_pdf(write(tmp_path, hostile_pdfs.huge_object_stream()))
    assert excinfo.value.kind == "object_stream"
    assert "オブジェクトストリーム" in excinfo.value.message
