"""The ingest worker: reads one untrusted PDF in a process of its own.

Run as ``python -m documents.ingest_worker INPUT OUTPUT_DIR [MEMORY_MB]`` by ``documents.ingest``,
which applies the wall-clock timeout and kills this process when it is passed. It never imports
Django (fast start, nothing to reach from here) and writes:

- ``OUTPUT_DIR/served.pdf``: the linearized copy (pikepdf/qpdf), so a reader can draw the first
  page from the first bytes and fetch any other page by range; without a permissions-only
  encryption layer, bytes before the header, or actions that would run by themselves;
- ``OUTPUT_DIR/thumbs/pNNNN.jpg``: one small JPEG thumbnail per page (PDFium; JPEG encodes ~9x
  faster than WebP), a placeholder for a page PDFium cannot draw;
- ``OUTPUT_DIR/result.json``: ``{"ok": true, "page_count", "pages": [...], "original_sha256",
  "served_sha256", "changes": [...]}`` or ``{"ok": false, "reason": code, "kind": str,
  "params": {...}, "detail": str}``.

The worker never dies on its input: every failure becomes a reason (``damaged`` with a ``kind``
naming the stage that failed, ``unexpected`` with the traceback in ``detail`` for an error no
stage expected), and it exits 0. A non-zero exit is a bug or a kill, logged by the parent.

Tools, measured (see docs/benchmarks.md): pikepdf (qpdf) for the structure, the active-content
and link checks (``documents.ingest_checks``), page content hashes and linearization; PDFium
(pypdfium2) for text and thumbnails (pypdf's text extraction is ~30x slower, its object model
~20x slower on a page with 32 768 links). pypdf only names a damaged stream length
(``ingest_damage.explain_unreadable``). PDFium is not thread-safe, so rendering is spread over
processes, not threads.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import sys
import traceback
from contextlib import contextmanager
from pathlib import Path

from documents import ingest_checks, ingest_damage
from documents.ingest_damage import Refused, refuse_damage

THUMB_WIDTH = 136  # 68 CSS px at 2x: the reader's thumbnail strip
THUMB_MAX_HEIGHT = 8 * THUMB_WIDTH  # a very long page gets a narrower thumbnail, not a huge one
# PDFium loads every annotation of a page to draw any (~6 µs each): a page with more gets a
# thumbnail without them (the reader draws them; a 136 px thumbnail shows little of them anyway).
THUMB_MAX_ANNOTATIONS = 1000
CHUNK = 1024 * 1024

__all__ = ["Refused", "ingest", "main"]


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


@contextmanager
def stage(kind: str, **params):
    """Turns what a library raises while reading the file into a named refusal.

    Only the libraries' own error types and the errors their parsers raise on bad data are
    caught here; anything else is a bug and reaches ``main`` (``unexpected``, logged)."""
    import pikepdf

    try:
        yield
    except (Refused, MemoryError):
        raise
    except RecursionError as exc:
        raise Refused("damaged", "nested deeper than the parser's recursion", kind="nesting") from exc
    except (
        pikepdf.PikepdfError,
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        AttributeError,
        OverflowError,
        UnicodeError,
        NotImplementedError,
    ) as exc:
        raise Refused("damaged", f"{kind}: {type(exc).__name__}: {exc}", kind=kind, params=params) from exc


# --- opening (pikepdf) -----------------------------------------------------------------------------


def encryption_label(pdf) -> str:
    """ "AES-256", "AES-128" or "RC4-128" for the record of what was removed."""
    info = pdf.encryption
    if info.V < 4:  # before crypt filters (V 4), RC4 was the only method
        return f"RC4-{info.bits}"
    method = {"aesv3": "AES", "aes": "AES", "rc4": "RC4"}.get(
        info.stream_method.name, info.stream_method.name
    )
    return f"{method}-{info.bits}"


def open_pdf(path: Path):
    """Opens with the empty user password: a file that opens in every reader without a password
    opens here, whatever editing or printing restrictions its author set."""
    import pikepdf

    # Deeper data is dropped with a warning (checked below), so the limit is also the nesting check.
    pikepdf.settings.set_qpdf_limits(parser_max_nesting=ingest_damage.MAX_NESTING)
    try:
        return pikepdf.open(path, password="")
    except pikepdf.PasswordError as exc:
        raise Refused("encrypted", "a password is needed to open the file", kind="password") from exc
    except pikepdf.PikepdfError as exc:  # PdfError, and QpdfRuntimeError ("/Count is wrong ...")
        raise Refused("damaged", f"open: {type(exc).__name__}: {exc}") from exc


# --- pages (pikepdf hashes, PDFium text and thumbnails) ----------------------------------------


def _page_streams(contents) -> list:
    import pikepdf

    if isinstance(contents, pikepdf.Array):
        return [item for item in contents if isinstance(item, pikepdf.Stream)]
    return [contents] if isinstance(contents, pikepdf.Stream) else []


def content_hashes(pdf) -> list[str]:
    """A hash of what each page draws: its content streams and the raw data of its XObjects.

    A content stream that cannot be decoded (corrupt compressed data, a filter meant for images
    such as JBIG2) refuses the file, naming the page: every reader would show that page blank
    or cut off. An XObject entry that is not a stream is drawn by no reader and hashed as text."""
    import pikepdf

    hashes = []
    for number, page in enumerate(pdf.pages, start=1):
        h = hashlib.sha256()
        for stream in _page_streams(page.obj.get("/Contents")):
            with stage("page_content", page=number):
                h.update(stream.read_bytes())
        resources = page.obj.get("/Resources")
        xobjects = resources.get("/XObject") if isinstance(resources, pikepdf.Dictionary) else None
        if isinstance(xobjects, pikepdf.Dictionary):
            for name in sorted(xobjects.keys()):
                h.update(name.encode())
                value = xobjects.get(name)
                if isinstance(value, pikepdf.Stream):
                    h.update(value.read_raw_bytes())
                else:
                    h.update(value.unparse(resolved=True) if isinstance(value, pikepdf.Object) else b"?")
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


def placeholder_thumbnail(width: float, height: float, path: str) -> None:
    """A light grey card with a dashed border for a page PDFium cannot draw."""
    from PIL import Image, ImageDraw

    ratio = height / width if width > 0 and height > 0 else 1.414
    size = (THUMB_WIDTH, max(1, min(THUMB_MAX_HEIGHT, round(THUMB_WIDTH * ratio))))
    image = Image.new("RGB", size, (236, 236, 236))
    draw = ImageDraw.Draw(image)
    for x in range(0, size[0], 8):
        draw.line([(x, 0), (x + 4, 0)], fill=(150, 150, 150))
        draw.line([(x, size[1] - 1), (x + 4, size[1] - 1)], fill=(150, 150, 150))
    for y in range(0, size[1], 8):
        draw.line([(0, y), (0, y + 4)], fill=(150, 150, 150))
        draw.line([(size[0] - 1, y), (size[0] - 1, y + 4)], fill=(150, 150, 150))
    draw.line([(size[0] * 0.3, size[1] * 0.5), (size[0] * 0.7, size[1] * 0.5)], fill=(150, 150, 150), width=2)
    image.save(path, "JPEG", quality=72)


def _annotation_count(page) -> int:
    import pypdfium2.raw as pdfium_c

    return pdfium_c.FPDFPage_GetAnnotCount(page)


def thumbnail_scale(width: float, height: float) -> float:
    if width <= 0 or height <= 0:
        return 0.25
    return min(THUMB_WIDTH / width, THUMB_MAX_HEIGHT / height)


def render_pages(path: str, first: int, last: int, thumbs_dir: str) -> list[dict]:
    """Text and a thumbnail for pages first..last (1-based, inclusive). Runs in one process.

    A page PDFium cannot load, read or draw gets no text and a placeholder thumbnail (and
    ``"placeholder": true``); the document is still accepted, the reader draws it with pdf.js."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        raise Refused("damaged", f"PDFium cannot open the served copy: {exc}", kind="render") from exc
    out = []
    try:
        for index in range(first - 1, last):
            name = f"p{index + 1:04d}.jpg"
            thumb = os.path.join(thumbs_dir, name)
            width = height = 0.0
            text = ""
            placeholder = False
            try:
                page = pdf[index]
            except pdfium.PdfiumError:
                page = None
            if page is not None:
                try:
                    width, height = page.get_size()
                    try:
                        textpage = page.get_textpage()
                        text = textpage.get_text_range()
                        textpage.close()
                    except pdfium.PdfiumError:
                        text = ""
                    text = text.replace("\r\n", "\n").replace("\r", "\n")
                    try:
                        bitmap = page.render(
                            scale=thumbnail_scale(width, height),
                            may_draw_forms=False,
                            draw_annots=_annotation_count(page) <= THUMB_MAX_ANNOTATIONS,
                        )
                        bitmap.to_pil().save(thumb, "JPEG", quality=72)
                        bitmap.close()
                    except (pdfium.PdfiumError, MemoryError, ValueError, OSError):
                        placeholder = True
                finally:
                    page.close()
            else:
                placeholder = True
            if placeholder:
                placeholder_thumbnail(width, height, thumb)
            out.append(
                {
                    "number": index + 1,
                    "text": text,
                    "width": width,
                    "height": height,
                    "thumbnail": f"thumbs/{name}",
                    "placeholder": placeholder,
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
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    size = -(-page_count // processes)
    jobs = [
        (str(path), start, min(start + size - 1, page_count), str(thumbs_dir))
        for start in range(1, page_count + 1, size)
    ]
    # fork: the children inherit this process's memory limit and are killed with it. A renderer
    # that dies (PDFium crashing on a page) breaks the pool, which says so instead of hanging.
    with ProcessPoolExecutor(len(jobs) - 1, mp_context=multiprocessing.get_context("fork")) as pool:
        pending = [pool.submit(_render_child, job) for job in jobs[1:]]
        pages = render_pages(*jobs[0])
        try:
            for future in pending:
                part, child_peak = future.result()
                pages.extend(part)
                CHILD_PEAKS_MB.append(child_peak)
        except BrokenProcessPool as exc:
            raise Refused("damaged", f"a renderer process died: {exc}", kind="render") from exc
    return pages


def ingest(src: Path, out: Path, *, processes: int = 2) -> dict:
    import time

    timings = {}
    started = time.monotonic()
    changes: list[dict] = []

    def lap(name: str) -> None:
        timings[name] = time.monotonic() - started - sum(timings.values())

    path, leading = ingest_damage.strip_leading_bytes(src, out / "from-header.pdf")
    if leading:
        changes.append({"code": "leading_bytes_removed", "bytes": leading})
    refuse_damage(ingest_damage.check_end_of_file(path))
    file_size = path.stat().st_size
    pdf = open_pdf(path)
    with pdf:
        if pdf.is_encrypted:
            # It opened with the empty password: restrictions on editing or printing only. The
            # served copy is written without them (pikepdf drops encryption unless asked).
            changes.append({"code": "restrictions_removed", "encryption": encryption_label(pdf)})
        # qpdf hands out its warnings once each: check those from opening, then from parsing
        # every object (the scan), then from writing the served copy.
        refuse_damage(ingest_damage.check_qpdf_warnings(pdf.get_warnings(), path))
        with stage("page_tree"):
            page_count = len(pdf.pages)
        if page_count < 1:
            raise Refused("damaged", "no pages", kind="no_pages")
        lap("open")
        with stage("unreadable_object"):
            ingest_checks.scan(
                pdf, on_stream=lambda stream: refuse_damage(ingest_damage.check_stream(stream, file_size))
            )
        refuse_damage(ingest_damage.check_qpdf_warnings(pdf.get_warnings(), path))
        with stage("page_tree"):
            changes.extend(ingest_checks.strip_self_running_actions(pdf))
        lap("checks")
        hashes = content_hashes(pdf)
        lap("hashes")
        served = out / "served.pdf"
        with stage("page_tree"):
            balance_page_tree(pdf)
        with stage("write"):
            pdf.save(served, linearize=True)
        refuse_damage(ingest_damage.check_qpdf_warnings(pdf.get_warnings(), path))
        lap("linearize")
    if path != src:
        path.unlink()
    thumbs = out / "thumbs"
    thumbs.mkdir(exist_ok=True)
    with stage("render"):
        pages = render_all(served, page_count, thumbs, processes)
    if len(pages) != page_count:
        raise Refused("damaged", f"{len(pages)} pages drawn of {page_count}", kind="render")
    lap("text_and_thumbnails")
    for page, content_hash in zip(pages, hashes, strict=True):
        page["search_text"] = normalize_for_search(page["text"])
        page["text_hash"] = hashlib.sha256(page["search_text"].encode()).hexdigest()
        page["content_hash"] = content_hash
    placeholders = [page["number"] for page in pages if page.pop("placeholder")]
    if placeholders:
        changes.append({"code": "placeholder_thumbnails", "pages": placeholders})
    return {
        "ok": True,
        "page_count": page_count,
        "pages": pages,
        "changes": changes,
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


def cpu_seconds() -> float:
    """CPU time of this process and its finished renderers (wall time is noisy on a busy machine)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return round(own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime, 3)


def main(argv: list[str]) -> int:
    src, out = Path(argv[1]), Path(argv[2])
    if len(argv) > 3:
        limit_memory(int(argv[3]))
    processes = int(os.environ.get("COUNCIL_INGEST_PROCESSES", "2"))
    try:
        result = ingest(src, out, processes=processes)
    except Refused as exc:
        result = {
            "ok": False,
            "reason": exc.reason,
            "kind": exc.kind,
            "params": exc.params,
            "detail": exc.detail,
        }
    except MemoryError:
        result = {"ok": False, "reason": "memory", "kind": "", "detail": ""}
    except Exception:  # a bug, not the file's fault: named, and the traceback goes to the log
        detail = traceback.format_exc()
        print(detail, file=sys.stderr)
        result = {"ok": False, "reason": "damaged", "kind": "unexpected", "detail": detail[-4000:]}
    result["peak_rss_mb"] = peak_rss_mb()
    result["peak_total_rss_mb"] = peak_total_rss_mb()
    result["cpu_seconds"] = cpu_seconds()
    (out / "result.json").write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
