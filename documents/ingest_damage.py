"""Structural damage that PDF readers silently repair, found and named so the upload is refused.

qpdf and pypdf read past a looping cross-reference chain, drop data nested too deep, ignore an
object stream with an impossible header, recover a stream whose length is absurd, and stop at
the ``%%EOF`` before an appended archive. The repaired copy looks clean, but the original was
made to attack some reader, so the upload is refused, saying which damage was found. Damage
that office software really produces (an xref offset a few bytes off, a stream length off by
one, trailing whitespace or NUL padding, incremental updates) stays accepted. So do a few hundred
bytes before the ``%PDF-`` header (a byte-order mark, a printer's job banner), which every
reader skips; the served copy starts at the header. Markup or another format's signature there
makes a polyglot, refused.

``Refused`` is the worker's one refusal (reason, kind, parameters for the sentence, detail).

Used by the ingest worker, so it never imports Django. Each check returns a ``Damage`` (or
``None``); ``kind`` selects the sentence the clerk sees (``documents.ingest.damage_message``).
"""

from __future__ import annotations

import mmap
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

# Arrays and dictionaries inside one another. Real files stay in single digits (anything deep,
# like a structure tree, uses indirect references); qpdf's own default is 499.
MAX_NESTING = 100
# Readers look for %%EOF within the last 1024 bytes (ISO 32000-2, 7.5.5, and Acrobat's rule),
# so that much of anything may follow it; more is another file riding along.
TRAILING_ALLOWANCE = 1024
PADDING = b" \t\r\n\f\x00"
# A stream cannot be longer than the file. Some writers put the uncompressed size in /Length,
# which qpdf recovers from, so only a length far beyond the file (what a reader trusting it would
# allocate) is refused.
LENGTH_FACTOR = 2
LENGTH_FLOOR = 1024 * 1024
# Another format's signature after the PDF: a polyglot, whatever its size.
APPENDED_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06", b"<html", b"<!doctype", b"<script", b"<svg")


@dataclass(frozen=True)
class Damage:
    reason: str  # the refusal code: "damaged" or "not_pdf"
    kind: str  # which damage, for the message
    detail: str  # for the log, in English


class Refused(Exception):
    """The worker refuses the file: ``reason`` picks the clerk's sentence, ``kind`` a more precise
    one (``documents.ingest.damage_message``), ``params`` fill it in, ``detail`` is for the log."""

    def __init__(self, reason: str, detail: str = "", *, kind: str = "", params: dict | None = None) -> None:
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail
        self.kind = kind
        self.params = params or {}

    def __reduce__(self):  # raised in a renderer process, it reaches the worker whole
        return (_refused, (self.reason, self.detail, self.kind, self.params))

    @classmethod
    def from_damage(cls, damage: Damage) -> Refused:
        return cls(damage.reason, damage.detail, kind=damage.kind)


def _refused(reason: str, detail: str, kind: str, params: dict) -> Refused:
    return Refused(reason, detail, kind=kind, params=params)


def refuse_damage(damage: Damage | None) -> None:
    if damage is not None:
        raise Refused.from_damage(damage)


# --- before the header -------------------------------------------------------------------------

# Readers look for "%PDF-" within the first 1024 bytes (Acrobat's rule, PDFium and pdf.js too).
HEADER_WINDOW = 1024
# What may precede the header without making the file something else: a byte-order mark, a
# printer's job language banner (PJL "\x1b%-12345X@PJL ..."), mail-gateway leftovers. Markup, an
# archive or another format's signature makes a polyglot, which is refused.
LEADING_MARKUP = re.compile(
    rb"<\s*(?:!doctype|!--|\?xml|html|head|body|script|svg|iframe|object|embed|meta|style|link|div|img|"
    rb"form|a|p)(?![a-z])",
    re.IGNORECASE,
)
LEADING_SIGNATURES = (
    b"PK\x03\x04",  # ZIP (and JAR, DOCX, ...)
    b"PK\x05\x06",
    b"\x89PNG",
    b"\xff\xd8\xff",  # JPEG
    b"GIF8",
    b"%!PS",
    b"MZ",  # Windows program
    b"\x7fELF",
    b"\xd0\xcf\x11\xe0",  # OLE (old Office files)
    b"RIFF",
    b"II*\x00",  # TIFF
    b"MM\x00*",
    b"{\\rtf",
    b"\x1f\x8b",  # gzip
    b"7z\xbc\xaf",
    b"Rar!",
    b"\xca\xfe\xba\xbe",  # Java class
)


def header_offset(path: Path) -> int:
    """Where "%PDF-" starts: 0 for a normal file, up to 1023 after a harmless prefix.

    Raises ``Refused("not_pdf")`` when there is no header in the window, or what precedes it is
    markup or another format's file."""
    with open(path, "rb") as f:
        head = f.read(HEADER_WINDOW + 5)
    offset = head.find(b"%PDF-")
    if offset < 0 or offset >= HEADER_WINDOW:
        raise Refused("not_pdf", "no %PDF- header in the first 1024 bytes")
    if offset == 0:
        return 0
    prefix = head[:offset]
    stripped = prefix.lstrip(b"\xef\xbb\xbf\xff\xfe \t\r\n\x00")
    if LEADING_MARKUP.search(prefix) or stripped.startswith(LEADING_SIGNATURES) or b"PK\x03\x04" in prefix:
        raise Refused("not_pdf", f"{offset} bytes of another format before the header", kind="leading_format")
    return offset


def strip_leading_bytes(src: Path, dest: Path) -> tuple[Path, int]:
    """The file to read: ``src`` itself, or a copy from the header on at ``dest`` (offsets in a
    PDF count from its header, so a banner prepended later leaves them right once cut off)."""
    offset = header_offset(src)
    if offset == 0:
        return src, 0
    with open(src, "rb") as f, open(dest, "wb") as out:
        f.seek(offset)
        while chunk := f.read(1024 * 1024):
            out.write(chunk)
    return dest, offset


def check_end_of_file(path: Path) -> Damage | None:
    """What follows the last ``%%EOF``: padding is fine, another file is not."""
    if zipfile.is_zipfile(path):  # its central directory is found from the end, past any %%EOF
        return Damage("not_pdf", "appended_file", "a ZIP archive's directory ends the file")
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        end = data.rfind(b"%%EOF")
        if end < 0:
            return None  # no end marker at all: the readers decide whether it is damaged
        rest = data[end + 5 :].strip(PADDING)
    if not rest:
        return None
    lowered = rest[:65536].lower()
    for signature in APPENDED_SIGNATURES:
        if signature.lower() in lowered:
            return Damage("not_pdf", "appended_file", f"{signature!r} after %%EOF")
    if b"startxref" in rest:
        return None  # an incremental update whose writer left out the final %%EOF
    if len(rest) > TRAILING_ALLOWANCE:
        return Damage("damaged", "trailing_data", f"{len(rest)} bytes after %%EOF")
    return None


def max_stream_length(file_size: int) -> int:
    return max(LENGTH_FACTOR * file_size, LENGTH_FLOOR)


def check_stream(stream, file_size: int) -> Damage | None:
    """A stream's declared sizes against the file: /Length, and an object stream's /N and /First."""
    import pikepdf

    length = stream.stream_dict.get("/Length")
    if isinstance(length, int) and length > max_stream_length(file_size):
        return Damage(
            "damaged",
            "stream_length",
            f"object {stream.objgen[0]}: /Length {length} in a {file_size}-byte file",
        )
    if stream.stream_dict.get("/Type") != pikepdf.Name.ObjStm:
        return None
    count, first = stream.stream_dict.get("/N"), stream.stream_dict.get("/First")
    if not isinstance(count, int) or not isinstance(first, int):
        return Damage("damaged", "object_stream", f"object stream {stream.objgen[0]}: /N or /First missing")
    try:
        size = len(stream.read_bytes())
    except pikepdf.PdfError as exc:
        return Damage("damaged", "object_stream", f"object stream {stream.objgen[0]}: {exc}")
    # The header holds N pairs of numbers, at least "1 0 " each, before the first object.
    if count < 0 or first < 0 or first > size or 2 * count > first + 1:
        return Damage(
            "damaged",
            "object_stream",
            f"object stream {stream.objgen[0]}: /N {count} /First {first}, {size} bytes",
        )
    return None


# qpdf's warnings (pikepdf ``Pdf.get_warnings()``) for damage it repairs and must not be trusted
# to; its other warnings ("file is damaged", "attempting to reconstruct", "recovered stream
# length", ...) are for the minor errors real files have.
QPDF_WARNINGS = (
    ("loop detected following xref tables", "xref_loop"),
    ("parser-max-nesting", "nesting"),
    ("excessively deeply nested", "nesting"),
    ("has invalid /First", "object_stream"),
    ("has invalid /N", "object_stream"),
    ("error reading object", "unreadable_object"),
)
UNREADABLE = re.compile(r"object (\d+)/\d+: error reading object")


def check_qpdf_warnings(warnings: list[str], path: Path) -> Damage | None:
    for warning in warnings:
        for text, kind in QPDF_WARNINGS:
            if text in warning:
                if kind == "unreadable_object":
                    return explain_unreadable(path, warning)
                return Damage("damaged", kind, warning)
    return None


def explain_unreadable(path: Path, warning: str) -> Damage:
    """qpdf dropped an object it could not read; pypdf says whether its declared length is why
    (qpdf cannot even seek that far, so the length never reaches ``check_stream``)."""
    import pypdf
    from pypdf.errors import LimitReachedError, PyPdfError

    match = UNREADABLE.search(warning)
    if match:
        with pypdf.apply_configuration(
            maximum_declared_stream_length=max_stream_length(os.path.getsize(path))
        ):
            try:
                pypdf.PdfReader(path, strict=False).get_object(int(match[1]))
            except LimitReachedError as exc:
                if "stream length" in str(exc):
                    return Damage("damaged", "stream_length", f"object {match[1]}: {exc}")
            except (PyPdfError, ValueError, TypeError, KeyError, OSError, RecursionError):
                pass
    return Damage("damaged", "unreadable_object", warning)
