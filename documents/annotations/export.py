"""The member's annotated copy of a document as a PDF.

Strokes are drawn into each page's content stream (a new stream appended after the page's own,
wrapped in q/Q so nothing of the page's state leaks in); highlighter strokes use a
transparent graphics state. Typed notes become PDF sticky-note annotations (/Text), which
every viewer shows with their Unicode text, plus a small drawn marker so they print.
Page-relative coordinates (0..1 from the top-left of the page as displayed) are mapped
through the crop box and the page rotation.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Callable

import pikepdf
from pikepdf import Array, Dictionary, Name

from documents.annotations.models import Annotation
from documents.models import DocumentVersion


def _rgb(colour: str) -> tuple[float, float, float]:
    colour = colour.lstrip("#")
    try:
        return tuple(int(colour[i : i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]
    except ValueError:
        return (0.8, 0.1, 0.1)


class _PageFrame:
    """Maps page-relative display coordinates to PDF user space."""

    def __init__(self, page: pikepdf.Page):
        box = page.obj.get("/CropBox") or page.obj.get("/MediaBox")
        x0, y0, x1, y1 = (float(v) for v in box)
        self.x0, self.y0 = min(x0, x1), min(y0, y1)
        self.w, self.h = abs(x1 - x0), abs(y1 - y0)
        self.rotate = int(page.obj.get("/Rotate", 0)) % 360

    @property
    def display_width(self) -> float:
        return self.h if self.rotate in (90, 270) else self.w

    def point(self, u: float, v: float) -> tuple[float, float]:
        # (u, v) from the top-left of the displayed page; undo the viewer's rotation.
        if self.rotate == 90:
            px, py = v, u
        elif self.rotate == 180:
            px, py = 1 - u, v
        elif self.rotate == 270:
            px, py = 1 - v, 1 - u
        else:
            px, py = u, 1 - v
        return self.x0 + px * self.w, self.y0 + py * self.h


def _stroke_ops(annotation: Annotation, frame: _PageFrame) -> list[str]:
    points = annotation.geometry.get("points") or []
    if not points:
        return []
    r, g, b = _rgb(annotation.colour)
    base = float(annotation.geometry.get("width", 0.004)) * frame.display_width
    highlighter = annotation.kind == Annotation.Kind.HIGHLIGHTER
    ops = ["q", f"{r:.3f} {g:.3f} {b:.3f} RG", "1 J 1 j"]
    if highlighter:
        ops.append("/CouncilHL gs")
    if len(points) == 1:
        points = [points[0], points[0]]
    if highlighter:
        # One constant width: overlapping segments would darken a transparent stroke.
        ops.append(f"{max(base, 0.5):.2f} w")
        x, y = frame.point(points[0][0], points[0][1])
        path = [f"{x:.2f} {y:.2f} m"]
        for p in points[1:]:
            x, y = frame.point(p[0], p[1])
            path.append(f"{x:.2f} {y:.2f} l")
        ops.append(" ".join(path) + " S")
    else:
        for a, b_ in zip(points, points[1:], strict=False):
            pressure = (a[2] if len(a) > 2 else 0.5) + (b_[2] if len(b_) > 2 else 0.5)
            width = max(base * (0.5 + pressure / 2), 0.3)
            x1, y1 = frame.point(a[0], a[1])
            x2, y2 = frame.point(b_[0], b_[1])
            ops.append(f"{width:.2f} w {x1:.2f} {y1:.2f} m {x2:.2f} {y2:.2f} l S")
    ops.append("Q")
    return ops


def _note_marker(annotation: Annotation, frame: _PageFrame) -> tuple[list[str], tuple[float, float]]:
    x, y = frame.point(annotation.geometry.get("x", 0), annotation.geometry.get("y", 0))
    size = max(frame.display_width * 0.025, 8)
    r, g, b = _rgb(annotation.colour)
    ops = [
        "q",
        "1 0.92 0.23 rg",
        f"{r:.3f} {g:.3f} {b:.3f} RG",
        "0.8 w",
        f"{x:.2f} {y - size:.2f} {size:.2f} {size:.2f} re B",
        "Q",
    ]
    return ops, (x, y)


def annotated_pdf(
    *,
    version: DocumentVersion,
    annotations: list[Annotation],
    progress: Callable[[int, int], None] | None = None,
) -> bytes:
    """The served file of ``version`` with ``annotations`` (the caller's own) drawn in.

    ``progress(done, total)`` is called before each annotated page with the pages done so far."""
    by_page: dict[int, list[Annotation]] = defaultdict(list)
    for annotation in annotations:
        by_page[annotation.page].append(annotation)
    with version.served_file.open("rb") as source, pikepdf.open(io.BytesIO(source.read())) as pdf:
        highlight_state = pdf.make_indirect(
            Dictionary(Type=Name.ExtGState, CA=0.35, ca=0.35, BM=Name.Multiply)
        )
        pages = sorted(by_page.items())
        for done, (number, items) in enumerate(pages, start=1):
            if progress is not None:
                progress(done - 1, len(pages))
            if not 1 <= number <= len(pdf.pages):
                continue
            page = pdf.pages[number - 1]
            frame = _PageFrame(page)
            ops: list[str] = []
            notes = []
            for annotation in items:
                if annotation.kind == Annotation.Kind.NOTE:
                    marker, where = _note_marker(annotation, frame)
                    ops += marker
                    notes.append((annotation, where))
                else:
                    ops += _stroke_ops(annotation, frame)
            if ops:
                resources = page.obj.get("/Resources")
                if resources is None:
                    page.obj.Resources = resources = Dictionary()
                if "/ExtGState" not in resources:
                    resources.ExtGState = Dictionary()
                resources.ExtGState.CouncilHL = highlight_state
                # Wrap the original content in q/Q so our drawing starts from the default state.
                page.contents_add(pdf.make_stream(b"q\n"), prepend=True)
                page.contents_add(pdf.make_stream(("\nQ\n" + "\n".join(ops) + "\n").encode("ascii")))
            for annotation, (x, y) in notes:
                r, g, b = _rgb(annotation.colour)
                note = Dictionary(
                    Type=Name.Annot,
                    Subtype=Name.Text,
                    Rect=Array([x, y - 20, x + 20, y]),
                    Contents=pikepdf.String(annotation.text),
                    Name=Name.Comment,
                    C=Array([r, g, b]),
                    F=4,
                    T=pikepdf.String(""),
                )
                if "/Annots" not in page.obj:
                    page.obj.Annots = pdf.make_indirect(Array())
                page.obj.Annots.append(pdf.make_indirect(note))
        out = io.BytesIO()
        pdf.save(out)
    return out.getvalue()
