"""The ingest worker: reads one untrusted PDF in a process of its own.

Run as ``python -m documents.ingest_worker INPUT OUTPUT_DIR`` by ``documents.ingest``, which
applies the wall-clock timeout and the memory limit and kills this process when either is
passed. It never imports Django (fast start, nothing to reach from here) and writes:

- ``OUTPUT_DIR/served.pdf``: the linearized copy (pikepdf/qpdf), so a reader can draw the first
  page from the first bytes and fetch any other page by range;
- ``OUTPUT_DIR/thumbs/pNNNN.jpg``: one small JPEG thumbnail per page (PDFium; JPEG encodes ~9x faster than WebP);
- ``OUTPUT_DIR/result.json``: ``{"ok": true, "page_count", "pages": [...], "original_sha256",
  "served_sha256"}`` or ``{"ok": false, "reason": code, "kind": str, "detail": str}`` (``kind``
  names the damage found, see ``documents.ingest_damage``).

Tools, measured (see docs/benchmarks.md): pypdf for the structure and active-content checks,
PDFium (pypdfium2) for text and thumbnails (pypdf's text extraction is ~30x slower), pikepdf
for page content hashes and linearization. PDFium is not thread-safe, so rendering is spread
over processes, not threads.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import sys
from pathlib import Path

from documents import ingest_damage
from documents.ingest_damage import Damage

THUMB_WIDTH = 136  # 68 CSS px at 2x: the reader's thumbnail strip
CHUNK = 1024 * 1024


class Refused(Exception):
    def __init__(self, reason: str, detail: str = "", *, kind: str = "") -> None:
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail
        self.kind = kind

    @classmethod
    def from_damage(cls, damage: Damage) -> Refused:
        return cls(damage.reason, damage.detail, kind=damage.kind)


def refuse_damage(damage: Damage | None) -> None:
    if damage is not None:
        raise Refused.from_damage(damage)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


# --- checks (pypdf) -------------------------------------------------------------------------

ACTION_KINDS_REFUSED = {
    "/JavaScript",
    "/Launch",
    "/ImportData",
    "/SubmitForm",
    "/RichMediaExecute",
    "/Rendition",
    "/GoToE",
}


def _check_action(action, where: str) -> None:
    """An action dictionary (or chain via /Next) that runs code or other programs is refused."""
    seen = 0
    while action is not None and seen < 50:
        seen += 1
        action = action.get_object() if hasattr(action, "get_object") else action
        if not hasattr(action, "get"):
            return
        kind = action.get("/S")
        if kind in ACTION_KINDS_REFUSED or "/JS" in action:
            raise Refused("active_content", f"{kind or '/JS'} action in {where}")
        nxt = action.get("/Next")
        if isinstance(nxt, list):
            for a in nxt:
                _check_action(a, where)
            return
        action = nxt


def check_structure(path: Path) -> int:
    """Refuses what is not a clean, unencrypted PDF; returns the page count."""
    with open(path, "rb") as f:
        head = f.read(1024)
    if not head.startswith(b"%PDF-"):
        raise Refused("not_pdf")
    refuse_damage(ingest_damage.check_end_of_file(path))
    import pypdf
    from pypdf.errors import PyPdfError

    try:
        reader = pypdf.PdfReader(str(path), strict=False)
        if reader.is_encrypted:
            raise Refused("encrypted")
        root = reader.trailer["/Root"].get_object()
        page_count = len(reader.pages)
    except Refused:
        raise
    except RecursionError as exc:
        raise Refused("damaged", "nested deeper than the parser's recursion", kind="nesting") from exc
    except (
        PyPdfError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        IndexError,
        OSError,
        AssertionError,
    ) as exc:
        raise Refused("damaged", f"{type(exc).__name__}: {exc}") from exc
    if page_count < 1:
        raise Refused("damaged", "no pages")

    try:
        if "/AA" in root:
            raise Refused("active_content", "document additional actions (/AA)")
        open_action = root.get("/OpenAction")
        if open_action is not None:
            open_action = open_action.get_object()
            # A plain destination (an array: "open at page 1, fit") is harmless; an action is not.
            if hasattr(open_action, "get") and open_action.get("/S") != "/GoTo":
                raise Refused("active_content", "/OpenAction")
        names = root.get("/Names")
        if names is not None:
            names = names.get_object()
            if "/JavaScript" in names:
                raise Refused("active_content", "/JavaScript")
            if "/EmbeddedFiles" in names:
                raise Refused("embedded_file")
        acroform = root.get("/AcroForm")
        if acroform is not None and "/XFA" in acroform.get_object():
            raise Refused("active_content", "/XFA")
        for number, page in enumerate(reader.pages, start=1):
            if "/AA" in page:
                raise Refused("active_content", f"page {number} additional actions (/AA)")
            annots = page.get("/Annots")
            if annots is None:
                continue
            for annot in annots.get_object():
                annot = annot.get_object()
                subtype = annot.get("/Subtype")
                if subtype == "/FileAttachment":
                    raise Refused("embedded_file")
                if subtype in ("/RichMedia", "/Movie", "/Sound", "/Screen"):
                    raise Refused("active_content", f"{subtype} on page {number}")
                if "/AA" in annot:
                    raise Refused("active_content", f"annotation actions on page {number}")
                if "/A" in annot:
                    _check_action(annot["/A"], f"page {number}")
    except Refused:
        raise
    except RecursionError as exc:
        raise Refused("damaged", "nested deeper than the parser's recursion", kind="nesting") from exc
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise Refused("damaged", f"{type(exc).__name__}: {exc}") from exc
    return page_count


ACTIVE_KEYS = {
    "/JS": "active_content",
    "/JavaScript": "active_content",
    "/Launch": "active_content",
    "/XFA": "active_content",
    "/EmbeddedFile": "embedded_file",
    "/EmbeddedFiles": "embedded_file",
}


# An A3 page scanned at 600 dpi is 70 megapixels; an image declaring far more is a memory bomb
# for every reader that decodes it (pdf.js on a tablet included), whatever its compressed size.
MAX_IMAGE_PIXELS = 200_000_000


def _image_pixels(obj) -> int:
    try:
        return int(obj.get("/Width", 0)) * int(obj.get("/Height", 0))
    except (TypeError, ValueError):
        raise Refused("damaged", "image size is not a number") from None


def scan_all_objects(pdf, file_size: int) -> None:
    """Belt and braces: any object anywhere (object streams included) naming active content,
    images too large to decode, and streams declaring sizes the file cannot hold."""
    import pikepdf

    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Stream):
            refuse_damage(ingest_damage.check_stream(obj, file_size))
        if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
            keys = obj.keys()
            for key, reason in ACTIVE_KEYS.items():
                if key in keys:
                    raise Refused(reason, key)
            if obj.get("/S") in ACTION_KINDS_REFUSED or obj.get("/Type") == "/EmbeddedFile":
                raise Refused("active_content" if obj.get("/S") else "embedded_file", str(obj.get("/S")))
            if obj.get("/Subtype") == "/Image" and _image_pixels(obj) > MAX_IMAGE_PIXELS:
                raise Refused("memory", "image too large to decode")


# --- pages (pikepdf hashes, PDFium text and thumbnails) ----------------------------------------


def content_hashes(pdf) -> list[str]:
    """A hash of what each page draws: its content streams and the raw data of its XObjects."""
    import pikepdf

    hashes = []
    for page in pdf.pages:
        h = hashlib.sha256()
        contents = page.obj.get("/Contents")
        if isinstance(contents, pikepdf.Array):
            streams = list(contents)
        elif contents is None:
            streams = []
        else:
            streams = [contents]
        for stream in streams:
            h.update(stream.read_bytes())
        resources = page.obj.get("/Resources")
        xobjects = resources.get("/XObject") if resources is not None else None
        if xobjects is not None:
            for name in sorted(xobjects.keys()):
                h.update(name.encode())
                h.update(xobjects[name].read_raw_bytes())
        hashes.append(h.hexdigest())
    return hashes


PAGE_TREE_FAN = 16


def balance_page_tree(pdf) -> None:
    """Rebuilds the page tree with at most ``PAGE_TREE_FAN`` kids per node, each with its /Count.

    A reader (pdf.js) looking for page n walks the tree from the root; in a flat tree it must
    fetch every page object before n, and in a linearized file those lie one per page section,
    so opening page 150 of a 300-page packet would fetch a range around each of 149 page objects
    (and pdf.js also checks the last page on load). With counted intermediate nodes it skips
    whole subtrees. qpdf keeps this tree when linearizing."""
    import pikepdf

    pages = [page.obj for page in pdf.pages]
    if len(pages) <= PAGE_TREE_FAN:
        return
    for page in pages:
        # Attributes a page inherits from its old parents must stay with it.
        for key in ("/Resources", "/MediaBox", "/CropBox", "/Rotate"):
            if key not in page:
                value = page.get(key)  # pikepdf resolves nothing here; look up the old chain
                parent = page.get("/Parent")
                while value is None and parent is not None:
                    value = parent.get(key)
                    parent = parent.get("/Parent")
                if value is not None:
                    page[key] = value
    level = pages
    while len(level) > PAGE_TREE_FAN:
        groups = []
        for start in range(0, len(level), PAGE_TREE_FAN):
            kids = level[start : start + PAGE_TREE_FAN]
            count = sum(int(kid.get("/Count", 1)) if kid.get("/Type") == "/Pages" else 1 for kid in kids)
            node = pdf.make_indirect(
                pikepdf.Dictionary(Type=pikepdf.Name.Pages, Kids=pikepdf.Array(kids), Count=count)
            )
            for kid in kids:
                kid.Parent = node
            groups.append(node)
        level = groups
    root = pdf.Root.Pages
    for key in ("/Resources", "/MediaBox", "/CropBox", "/Rotate"):
        if key in root:
            del root[key]
    root.Kids = pikepdf.Array(level)
    root.Count = len(pages)
    for node in level:
        node.Parent = root


def normalize_for_search(text: str) -> str:
    """NFKC, whitespace removed: Japanese has no spaces, and line breaks must not split a match."""
    import unicodedata

    return "".join(unicodedata.normalize("NFKC", text).split())


def render_pages(path: str, first: int, last: int, thumbs_dir: str) -> list[dict]:
    """Text and a thumbnail for pages first..last (1-based, inclusive). Runs in one process."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(path)
    out = []
    try:
        for index in range(first - 1, last):
            page = pdf[index]
            width, height = page.get_size()
            textpage = page.get_textpage()
            text = textpage.get_text_range()
            textpage.close()
            text = text.replace("\r\n", "\n").replace("\r", "\n")
            scale = THUMB_WIDTH / width if width else 0.25
            bitmap = page.render(scale=scale, may_draw_forms=False)
            image = bitmap.to_pil()
            name = f"p{index + 1:04d}.jpg"
            image.save(os.path.join(thumbs_dir, name), "JPEG", quality=72)
            bitmap.close()
            page.close()
            out.append(
                {
                    "number": index + 1,
                    "text": text,
                    "width": width,
                    "height": height,
                    "thumbnail": f"thumbs/{name}",
                }
            )
    finally:
        pdf.close()
    return out


def _render_child(args: tuple) -> tuple[list[dict], float]:
    pages = render_pages(*args)
    return pages, vm_hwm_mb()


def render_all(path: Path, page_count: int, thumbs_dir: Path, processes: int) -> list[dict]:
    if processes <= 1 or page_count < 24:
        return render_pages(str(path), 1, page_count, str(thumbs_dir))
    import multiprocessing

    size = -(-page_count // processes)
    jobs = [
        (str(path), start, min(start + size - 1, page_count), str(thumbs_dir))
        for start in range(1, page_count + 1, size)
    ]
    # fork: the children inherit this process's memory limit and are killed with it.
    with multiprocessing.get_context("fork").Pool(len(jobs) - 1) as pool:
        pending = pool.map_async(_render_child, jobs[1:])
        pages = render_pages(*jobs[0])
        for part, child_peak in pending.get():
            pages.extend(part)
            CHILD_PEAKS_MB.append(child_peak)
    return pages


def ingest(src: Path, out: Path, *, processes: int = 2) -> dict:
    import time

    timings = {}
    started = time.monotonic()
    page_count = check_structure(src)
    timings["checks"] = time.monotonic() - started
    import pikepdf

    # Deeper data is dropped with a warning (below), so the limit is also the nesting check.
    pikepdf.settings.set_qpdf_limits(parser_max_nesting=ingest_damage.MAX_NESTING)
    try:
        pdf = pikepdf.open(src)
    except pikepdf.PasswordError as exc:
        raise Refused("encrypted") from exc
    except pikepdf.PdfError as exc:
        raise Refused("damaged", str(exc)) from exc
    with pdf:
        if pdf.is_encrypted:
            raise Refused("encrypted")
        # qpdf hands out its warnings once each: check those from opening, then from parsing
        # every object (the scan), then from writing the served copy.
        refuse_damage(ingest_damage.check_qpdf_warnings(pdf.get_warnings(), src))
        scan_all_objects(pdf, src.stat().st_size)
        refuse_damage(ingest_damage.check_qpdf_warnings(pdf.get_warnings(), src))
        if len(pdf.pages) != page_count:
            raise Refused("damaged", "page count differs between readers")
        timings["scan"] = time.monotonic() - started - timings["checks"]
        hashes = content_hashes(pdf)
        timings["hashes"] = time.monotonic() - started - sum(timings.values())
        served = out / "served.pdf"
        balance_page_tree(pdf)
        pdf.save(served, linearize=True)
        refuse_damage(ingest_damage.check_qpdf_warnings(pdf.get_warnings(), src))
        timings["linearize"] = time.monotonic() - started - sum(timings.values())
    thumbs = out / "thumbs"
    thumbs.mkdir(exist_ok=True)
    try:
        pages = render_all(served, page_count, thumbs, processes)
    except MemoryError:
        raise
    except Exception as exc:  # PDFium reports damage with its own error types
        raise Refused("damaged", f"{type(exc).__name__}: {exc}") from exc
    timings["text_and_thumbnails"] = time.monotonic() - started - sum(timings.values())
    for page, content_hash in zip(pages, hashes, strict=True):
        page["search_text"] = normalize_for_search(page["text"])
        page["text_hash"] = hashlib.sha256(page["search_text"].encode()).hexdigest()
        page["content_hash"] = content_hash
    return {
        "ok": True,
        "page_count": page_count,
        "pages": pages,
        "original_sha256": sha256_file(src),
        "served_sha256": sha256_file(served),
        "served_size": served.stat().st_size,
        "timings": {k: round(v, 3) for k, v in timings.items()},
    }


def limit_memory(megabytes: int) -> None:
    limit = megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def vm_hwm_mb() -> float:
    """This process's peak resident memory since exec (``ru_maxrss`` would include the memory of
    the process that started us, which Linux carries across exec)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


CHILD_PEAKS_MB: list[float] = []


def peak_rss_mb() -> float:
    """Peak resident memory of the largest process of the ingest (the worker or a renderer)."""
    return round(max([vm_hwm_mb(), *CHILD_PEAKS_MB]), 1)


def peak_total_rss_mb() -> float:
    """Upper bound of the ingest's memory: the worker plus its renderers (shared pages counted twice)."""
    return round(vm_hwm_mb() + sum(CHILD_PEAKS_MB), 1)


def main(argv: list[str]) -> int:
    src, out = Path(argv[1]), Path(argv[2])
    if len(argv) > 3:
        limit_memory(int(argv[3]))
    processes = int(os.environ.get("COUNCIL_INGEST_PROCESSES", "2"))
    try:
        result = ingest(src, out, processes=processes)
    except Refused as exc:
        result = {"ok": False, "reason": exc.reason, "kind": exc.kind, "detail": exc.detail}
    except MemoryError:
        result = {"ok": False, "reason": "memory", "detail": ""}
    result["peak_rss_mb"] = peak_rss_mb()
    result["peak_total_rss_mb"] = peak_total_rss_mb()
    (out / "result.json").write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
