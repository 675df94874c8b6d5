"""A generated field corpus: the kinds of PDF a council secretariat meets in its first months.

Each builder writes one class of file seen in the field (issue #17: 1,356 real PDFs, among them
187 agenda packets of a Japanese city council): permissions-only encryption, bytes before the
header, quirks of office software and scanners, what PDF libraries' bug collections hold, and
Japanese packets shaped like those made with 一太郎, Word and scanners. Built with pikepdf,
raw bytes (``bench.support.hostile_pdfs.build``) and WeasyPrint, so each file is exactly the
case it names. ``FIELD`` says what must happen to each: accepted (with the changes recorded on
the version) or refused (with the reason, and the damage kind where there is one).
"""

from __future__ import annotations

import io
import random
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.support.hostile_pdfs import PAGE_CONTENT, build, simple_objects, stream


@dataclass(frozen=True)
class Expect:
    accepted: bool
    changes: frozenset[str] = frozenset()  # codes in the version's record (accepted files)
    reason: str = ""  # refusal reason (refused files)
    kind: str = ""  # refusal kind, when the damage has a more precise name
    pages: int = 1
    notes: dict = field(default_factory=dict)


def accepted(*changes: str, pages: int = 1) -> Expect:
    return Expect(True, frozenset(changes), pages=pages)


def refused(reason: str, kind: str = "") -> Expect:
    return Expect(False, reason=reason, kind=kind)


def _save(pdf, **kwargs) -> bytes:
    out = io.BytesIO()
    pdf.save(out, **kwargs)
    return out.getvalue()


def plain() -> bytes:
    return build(simple_objects())


# --- permissions-only encryption: opens without a password, restricts editing and printing -----


def _restricted(R: int, *, user: str = "") -> bytes:
    import pikepdf

    with pikepdf.open(io.BytesIO(plain())) as pdf:
        permissions = pikepdf.Permissions(
            extract=False,
            modify_other=False,
            modify_annotation=False,
            modify_assembly=False,
            print_highres=False,
        )
        encryption = pikepdf.Encryption(
            owner="kanpo-owner", user=user, R=R, allow=permissions, metadata=R >= 4, aes=R >= 4
        )
        return _save(pdf, encryption=encryption)


def restricted_aes128() -> bytes:
    return _restricted(4)


def restricted_aes256() -> bytes:
    return _restricted(6)


def restricted_rc4() -> bytes:
    return _restricted(3)


def restricted_with_javascript() -> bytes:
    """The leniency lets in no script: a restricted file's objects are decrypted and checked."""
    import pikepdf

    with pikepdf.open(io.BytesIO(link_javascript_action())) as pdf:
        return _save(pdf, encryption=pikepdf.Encryption(owner="o", user="", R=6))


def password_to_open() -> bytes:
    """The control: a user password is needed to open the file at all."""
    return _restricted(6, user="secret")


# --- bytes before the header ------------------------------------------------------------------


def byte_order_mark() -> bytes:
    return b"\xef\xbb\xbf" + plain()


def printer_banner() -> bytes:
    """A PJL job banner before the header and the job end after %%EOF, as print-to-file leaves."""
    banner = (
        b'\x1b%-12345X@PJL JOB NAME="gian_1.pdf"\r\n@PJL SET USERNAME="gikai"\r\n@PJL ENTER LANGUAGE=PDF\r\n'
    )
    return banner + plain() + b"\x1b%-12345X@PJL EOJ\r\n\x1b%-12345X"


def byte_order_mark_with_launch() -> bytes:
    return b"\xef\xbb\xbf" + link_launch()


def html_before_header() -> bytes:
    """The control: markup before the header is a polyglot, refused."""
    return b"<!DOCTYPE html><title>x</title>\n" + plain()


# --- valid files the old checks refused ---------------------------------------------------------


def null_annotation() -> bytes:
    objects = simple_objects(page_extra=b"/Annots [null 6 0 R] ")
    objects[6] = (
        b"<< /Type /Annot /Subtype /Link /Rect [72 700 300 740] /Border [0 0 0] /Dest [3 0 R /Fit] >>"
    )
    return build(objects)


def preview_incremental_update() -> bytes:
    """A second page added by an incremental update (a classic table over a cross-reference
    stream) whose new page reuses the object number of the old cross-reference stream, as macOS
    Preview's saves do: pypdf keeps the old stream under that number and sees one page."""
    from bench.support.hostile_pdfs import build_with_xref_stream

    body = build_with_xref_stream(simple_objects(), {})  # the cross-reference stream is object 6
    first = int(body[body.rindex(b"startxref") :].split()[1])
    out = bytearray(body)
    pages_at = len(out)
    out += b"2 0 obj\n<< /Type /Pages /Kids [3 0 R 6 0 R] /Count 2 >>\nendobj\n"
    page_at = len(out)
    out += (
        b"6 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>\nendobj\n"
    )
    xref = len(out)
    out += b"xref\n0 1\n0000000000 65535 f \n2 1\n%010d 00000 n \n6 1\n%010d 00000 n \n" % (pages_at, page_at)
    out += b"trailer\n<< /Size 7 /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (first, xref)
    return bytes(out)


def very_long_page() -> bytes:
    """Page 2 is a 10 pt wide, 5 km tall strip: a thumbnail 136 px wide at its height would need a
    bitmap of 1.4 billion pixels (PDFium could not draw it, and the whole file was refused)."""
    objects = simple_objects()
    objects[2] = b"<< /Type /Pages /Kids [3 0 R 6 0 R] /Count 2 >>"
    objects[6] = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 14400000] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>"
    )
    return build(objects)


def empty_document_actions() -> bytes:
    return build(simple_objects(catalog_extra=b"/AA << >> "))


def named_print_open_action() -> bytes:
    return build(simple_objects(catalog_extra=b"/OpenAction << /S /Named /N /Print >> "))


def open_destination() -> bytes:
    """A destination, not an action: kept."""
    return build(simple_objects(catalog_extra=b"/OpenAction [3 0 R /FitH 792] "))


# --- files that made the checking worker die ------------------------------------------------------


def glyph_named_s() -> bytes:
    """A Type 3 font whose glyph is named S: its /CharProcs dictionary has a key /S (a stream)."""
    objects = simple_objects(content=b"BT /T3 24 Tf 72 720 Td (S) Tj ET")
    objects[3] = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /T3 6 0 R >> >> >>"
    )
    objects[6] = (
        b"<< /Type /Font /Subtype /Type3 /FontBBox [0 0 750 750] /FontMatrix [0.001 0 0 0.001 0 0] "
        b"/CharProcs << /S 7 0 R >> /Encoding << /Type /Encoding /Differences [83 /S] >> "
        b"/FirstChar 83 /LastChar 83 /Widths [800] >>"
    )
    objects[7] = stream(b"800 0 0 0 750 750 d1 0 0 750 750 re f")
    return build(objects)


def image_entry_not_a_stream() -> bytes:
    objects = simple_objects()
    objects[3] = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> /XObject << /Im1 6 0 R /Im2 null >> >> >>"
    )
    objects[6] = (
        b"<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /BitsPerComponent 8 /ColorSpace /DeviceGray >>"
    )
    return build(objects)


def corrupt_content_stream() -> bytes:
    data = zlib.compress(PAGE_CONTENT * 20)
    broken = data[:10] + bytes(b ^ 0x5A for b in data[10:40]) + data[40:]
    return build(simple_objects(content=broken, content_extra=b"/Filter /FlateDecode "))


def jbig2_content_stream() -> bytes:
    return build(
        simple_objects(
            content=b"\x00\x00\x00\x00\x30\x00\x01" + b"\x00" * 40, content_extra=b"/Filter /JBIG2Decode "
        )
    )


LINKS_ON_ONE_PAGE = 32_768


def many_links(count: int = LINKS_ON_ONE_PAGE) -> bytes:
    """One page with tens of thousands of https link annotations (an index exported from a
    spreadsheet, one link per cell)."""
    objects = simple_objects(page_extra=b"/Annots 6 0 R ")
    refs = []
    for i in range(count):
        x, y = (i % 200) * 3, (i // 200) * 4
        objects[7 + i] = (
            b"<< /Type /Annot /Subtype /Link /Rect [%d %d %d %d] /Border [0 0 0] "
            b"/A << /S /URI /URI (https://www.city.example.jp/gikai/%d.html) >> >>" % (x, y, x + 3, y + 4, i)
        )
        refs.append(b"%d 0 R" % (7 + i))
    objects[6] = b"[" + b" ".join(refs) + b"]"
    return build(objects)


def fuzzed(seed: int) -> bytes:
    """The plain file with a few bytes changed at random (seeded, so always the same file)."""
    base = bytearray(
        build(simple_objects(content=zlib.compress(PAGE_CONTENT), content_extra=b"/Filter /FlateDecode "))
    )
    rng = random.Random(seed)
    for _ in range(rng.randint(1, 6)):
        position = rng.randrange(len(base))
        base[position] = rng.randrange(256)
    return bytes(base)


FUZZ_SEEDS = range(12)
MUTATION_BASES = (
    "ichitaro_packet",
    "named_print_open_action",
    "preview_incremental_update",
    "restricted_aes256",
    "scanner_packet",
    "word_packet",
)


def mutated(seed: int) -> bytes:
    """One of several field files with bytes changed, cut out and inserted at random (seeded).
    Seed 299 once made qpdf raise QpdfRuntimeError ("/Count is wrong after flattening pages
    tree") while opening, which the worker did not expect: it is kept as a case."""
    rng = random.Random(seed)
    name = rng.choice(sorted(MUTATION_BASES))
    data = bytearray(FIELD[name][0]())
    for _ in range(rng.randint(1, 8)):
        mode = rng.random()
        position = rng.randrange(len(data))
        if mode < 0.6:
            data[position] = rng.randrange(256)
        elif mode < 0.8:
            del data[position : position + rng.randint(1, 50)]
        else:
            data[position:position] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 20)))
    return bytes(data)


MUTATION_SEEDS = (299, 1, 2, 3, 4, 5)


# --- links that leave the document (issue #14) ----------------------------------------------------


def _link(action: bytes) -> bytes:
    objects = simple_objects(page_extra=b"/Annots [6 0 R] ")
    objects[6] = b"<< /Type /Annot /Subtype /Link /Rect [72 700 300 740] /A " + action + b" >>"
    return build(objects)


def link_https() -> bytes:
    return _link(b"<< /S /URI /URI (https://www.soumu.go.jp/) >>")


def link_mailto() -> bytes:
    return _link(b"<< /S /URI /URI (mailto:gikai@city.example.jp) >>")


def link_goto_remote() -> bytes:
    return _link(b"<< /S /GoToR /F (\\\\\\\\fileserver\\\\gikai\\\\budget.pdf) /D [0 /Fit] >>")


def link_file_uri() -> bytes:
    return _link(b"<< /S /URI /URI (file:///C:/Users/gikai/Documents/budget.xlsx) >>")


def link_unc_uri() -> bytes:
    return _link(b"<< /S /URI /URI (\\\\\\\\fileserver\\\\share\\\\budget.xlsx) >>")


def link_javascript_uri() -> bytes:
    return _link(b"<< /S /URI /URI (javascript:alert\\(1\\)) >>")


def link_javascript_action() -> bytes:
    return _link(b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>")


def link_launch() -> bytes:
    return _link(b"<< /S /Launch /F (budget.xlsx) >>")


def link_hex_escaped_launch() -> bytes:
    """The action type written with a #-escape: the same name to every reader."""
    return _link(b"<< /S /L#61unch /F (calc.exe) >>")


def bookmark_to_another_file() -> bytes:
    objects = simple_objects(catalog_extra=b"/Outlines 6 0 R ")
    objects[6] = b"<< /Type /Outlines /First 7 0 R /Last 7 0 R /Count 1 >>"
    objects[7] = b"<< /Title (Budget) /Parent 6 0 R /A << /S /GoToR /F (budget.pdf) /D [0 /Fit] >> >>"
    return build(objects)


def open_action_to_another_file() -> bytes:
    return build(simple_objects(catalog_extra=b"/OpenAction << /S /GoToR /F (other.pdf) /D [0 /Fit] >> "))


def open_action_web_page() -> bytes:
    return build(simple_objects(catalog_extra=b"/OpenAction << /S /URI /URI (https://example.com/) >> "))


# --- Japanese packets shaped like those in the field ------------------------------------------------


def _utf16(text: str) -> bytes:
    return b"<" + text.encode("utf-16-be").hex().upper().encode() + b">"


def _japanese_text_objects(
    *, vertical: bool, lines: list[str], producer: bytes, rotate: int = 0, size: tuple[int, int] = (595, 842)
) -> bytes:
    """A page of Japanese text in a font that is not embedded (MS-Mincho, Adobe-Japan1), as
    一太郎 and older Word versions write it; readers substitute a Japanese font they have."""
    encoding = b"/UniJIS-UCS2-V" if vertical else b"/UniJIS-UCS2-H"
    ops = [b"BT /F1 14 Tf"]
    if vertical:
        x = size[0] - 60
        for line in lines:
            ops.append(b"1 0 0 1 %d %d Tm %s Tj" % (x, size[1] - 60, _utf16(line)))
            x -= 24
    else:
        y = size[1] - 72
        for line in lines:
            ops.append(b"1 0 0 1 60 %d Tm %s Tj" % (y, _utf16(line)))
            y -= 24
    ops.append(b"ET 0.2 w 40 40 m %d 40 l S" % (size[0] - 40))
    content = b"\n".join(ops)
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R /Lang (ja-JP) /ViewerPreferences << /DisplayDocTitle true >> >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Rotate %d /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> /ProcSet [/PDF /Text] >> >>" % (size[0], size[1], rotate),
        4: stream(zlib.compress(content), b"/Filter /FlateDecode "),
        5: b"<< /Type /Font /Subtype /Type0 /BaseFont /MS-Mincho /Encoding "
        + encoding
        + b" /DescendantFonts [6 0 R] >>",
        6: b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /MS-Mincho "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Japan1) /Supplement 2 >> /FontDescriptor 7 0 R /DW 1000 >>",
        7: b"<< /Type /FontDescriptor /FontName /MS-Mincho /Flags 6 /FontBBox [0 -141 1000 859] /ItalicAngle 0 "
        b"/Ascent 859 /Descent -141 /CapHeight 859 /StemV 80 >>",
        8: b"<< /Producer (" + producer + b") /Title " + _utf16(lines[0]) + b" >>",
    }
    return build(objects, trailer_extra=b"/Info 8 0 R ")


def ichitaro_packet() -> bytes:
    return _japanese_text_objects(
        vertical=False,
        producer=b"JUST PDF 5",
        lines=[
            "令和8年第4回定例会 議案第12号",
            "町税条例の一部を改正する条例について",
            "提出者 町長",
            "理由 地方税法の改正に伴うもの",
        ],
    )


def vertical_text_packet() -> bytes:
    """Vertical writing (縦書き) on a landscape sheet stored as a rotated portrait page."""
    return _japanese_text_objects(
        vertical=True,
        rotate=90,
        producer=b"JUST PDF 5",
        lines=[
            "一般質問通告書",
            "質問者 三番 山田太郎",
            "一 町立図書館の運営について",
            "二 防災行政無線の更新について",
        ],
    )


def word_packet() -> bytes:
    """A Word-style export: embedded font subsets (WeasyPrint), a tagged-PDF marker and language,
    bookmarks going to pages, an internal link and https links to the law texts, an open
    destination and Word's producer string."""
    import pikepdf
    import weasyprint

    html = (
        "<html lang='ja'><head><meta charset='utf-8'><style>@page{size:A4;margin:20mm} body{font-family:"
        "'Noto Serif CJK JP','Noto Sans CJK JP',serif;font-size:11pt} section{page-break-after:always}</style>"
        "</head><body><section><h1>議案第13号</h1><p>令和8年度一般会計補正予算（第3号）</p>"
        "<p>根拠法令: <a href='https://laws.e-gov.go.jp/law/322AC0000000067'>地方自治法</a></p>"
        "<p><a href='#p2'>歳出の説明へ</a></p></section>"
        "<section id='p2'><h1>歳出</h1><p>第2款 総務費 第1項 総務管理費 百二十万円</p></section></body></html>"
    )
    data = weasyprint.HTML(string=html).write_pdf()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        pdf.Root.MarkInfo = pikepdf.Dictionary(Marked=True)
        pdf.Root.Lang = pikepdf.String("ja-JP")
        pdf.Root.OpenAction = pikepdf.Array([pdf.pages[0].obj, pikepdf.Name.XYZ, None, None, 0])
        with pdf.open_outline() as outline:
            outline.root.append(pikepdf.OutlineItem("議案第13号", 0))
            outline.root.append(pikepdf.OutlineItem("歳出", 1))
        pdf.docinfo["/Producer"] = "Microsoft® Word for Microsoft 365"
        return _save(pdf)


def scanner_packet() -> bytes:
    """Two scanned pages: a JPEG photograph-like page and a 1-bit page (as MFP scanners write),
    the second scanned sideways and stored rotated."""
    import pikepdf
    from PIL import Image, ImageDraw

    pdf = pikepdf.new()
    for number, rotate in ((1, 0), (2, 90)):
        image = Image.new("L", (620, 877), 250)
        draw = ImageDraw.Draw(image)
        for row in range(8):
            draw.rectangle([60, 80 + row * 60, 560 - (row % 3) * 60, 96 + row * 60], fill=40)
        draw.rectangle([400, 700, 560, 820], outline=0, width=4)  # the seal (押印) box
        pdf.add_blank_page(page_size=(595, 842))
        page = pdf.pages[-1]
        if number == 1:
            data = io.BytesIO()
            image.save(data, "JPEG", quality=80)
            xobject = pikepdf.Stream(pdf, data.getvalue())
            xobject.Filter = pikepdf.Name.DCTDecode
            xobject.BitsPerComponent = 8
        else:
            bilevel = image.point(lambda v: 255 if v > 128 else 0).convert("1")
            xobject = pikepdf.Stream(pdf, zlib.compress(bilevel.tobytes()))
            xobject.Filter = pikepdf.Name.FlateDecode
            xobject.BitsPerComponent = 1
        xobject.Type, xobject.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
        xobject.Width, xobject.Height = image.size
        xobject.ColorSpace = pikepdf.Name.DeviceGray
        name = page.add_resource(xobject, pikepdf.Name.XObject)
        page.contents_add(pikepdf.Stream(pdf, f"q 595 0 0 842 0 0 cm {name} Do Q".encode()))
        page.Rotate = rotate
    pdf.docinfo["/Producer"] = "RICOH IM C3000"
    return _save(pdf)


FIELD: dict[str, tuple[Callable[[], bytes], Expect]] = {
    "restricted_aes128": (restricted_aes128, accepted("restrictions_removed")),
    "restricted_aes256": (restricted_aes256, accepted("restrictions_removed")),
    "restricted_rc4": (restricted_rc4, accepted("restrictions_removed")),
    "restricted_with_javascript": (restricted_with_javascript, refused("active_content")),
    "password_to_open": (password_to_open, refused("encrypted")),
    "byte_order_mark": (byte_order_mark, accepted("leading_bytes_removed")),
    "printer_banner": (printer_banner, accepted("leading_bytes_removed")),
    "byte_order_mark_with_launch": (byte_order_mark_with_launch, refused("active_content")),
    "html_before_header": (html_before_header, refused("not_pdf", "leading_format")),
    "null_annotation": (null_annotation, accepted()),
    "preview_incremental_update": (preview_incremental_update, accepted(pages=2)),
    "very_long_page": (very_long_page, accepted(pages=2)),
    "empty_document_actions": (empty_document_actions, accepted()),
    "named_print_open_action": (named_print_open_action, accepted("open_action_removed")),
    "open_destination": (open_destination, accepted()),
    "glyph_named_s": (glyph_named_s, accepted()),
    "image_entry_not_a_stream": (image_entry_not_a_stream, accepted()),
    "corrupt_content_stream": (corrupt_content_stream, refused("damaged", "page_content")),
    "jbig2_content_stream": (jbig2_content_stream, refused("damaged", "page_content")),
    "many_links": (many_links, accepted()),
    "link_https": (link_https, accepted()),
    "link_mailto": (link_mailto, accepted()),
    "link_goto_remote": (link_goto_remote, refused("remote_link")),
    "link_file_uri": (link_file_uri, refused("remote_link")),
    "link_unc_uri": (link_unc_uri, refused("remote_link")),
    "link_javascript_uri": (link_javascript_uri, refused("remote_link")),
    "link_launch": (link_launch, refused("active_content")),
    "link_hex_escaped_launch": (link_hex_escaped_launch, refused("active_content")),
    "bookmark_to_another_file": (bookmark_to_another_file, refused("remote_link")),
    "open_action_to_another_file": (open_action_to_another_file, refused("remote_link")),
    "open_action_web_page": (open_action_web_page, refused("remote_link")),
    "ichitaro_packet": (ichitaro_packet, accepted()),
    "vertical_text_packet": (vertical_text_packet, accepted()),
    "word_packet": (word_packet, accepted(pages=2)),
    "scanner_packet": (scanner_packet, accepted(pages=2)),
}
