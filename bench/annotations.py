"""Export a member's annotated copy of a long document and time it.

    python -m bench.annotations [--pages 100] [--strokes 20] [--points 200] [--notes 5]

A generated PDF of ``--pages`` A4 pages gets, on every page, ``--strokes`` pen and highlighter
strokes of ``--points`` points each and ``--notes`` typed Japanese sticky notes; the same code as
the "export with my notes" download draws them in with pikepdf. No database is needed. Last line:
a JSON object with ``seconds``, ``annotations`` and the output size.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import random
import sys
import time


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--strokes", type=int, default=20)
    parser.add_argument("--points", type=int, default=200)
    parser.add_argument("--notes", type=int, default=5)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "council.settings")
    import django

    django.setup()
    import pikepdf

    from documents.annotations.export import annotated_pdf
    from documents.annotations.models import Annotation

    pdf = pikepdf.new()
    for n in range(args.pages):
        pdf.add_blank_page(page_size=(595, 842))
        pdf.pages[-1].obj.Contents = pdf.make_stream(f"0 0 1 rg {20 + n % 400} 20 10 10 re f".encode())
    source = io.BytesIO()
    pdf.save(source)
    data = source.getvalue()

    class _File:
        def open(self, mode="rb"):
            return io.BytesIO(data)

    class _Version:
        served_file = _File()

    rnd = random.Random(7)
    annotations = []
    for page in range(1, args.pages + 1):
        for s in range(args.strokes):
            kind = "highlighter" if s % 4 == 0 else "pen"
            x0, y0 = rnd.random() * 0.8, rnd.random() * 0.9
            points = [
                [x0 + 0.15 * i / args.points, y0 + 0.02 * math.sin(i / 9), 0.3 + 0.4 * rnd.random()]
                for i in range(args.points)
            ]
            annotations.append(
                Annotation(
                    page=page,
                    kind=kind,
                    colour="#d32f2f",
                    geometry={"points": points, "width": 0.02 if kind == "highlighter" else 0.003},
                )
            )
        for _ in range(args.notes):
            annotations.append(
                Annotation(
                    page=page,
                    kind="note",
                    colour="#1565c0",
                    text="第2条の税率を確認する。反対討論で触れる。",
                    geometry={"x": rnd.random(), "y": rnd.random()},
                )
            )
    start = time.perf_counter()
    out = annotated_pdf(version=_Version(), annotations=annotations)
    seconds = time.perf_counter() - start
    result = {
        "benchmark": "annotations_export",
        "pages": args.pages,
        "annotations": len(annotations),
        "points": args.pages * args.strokes * args.points,
        "seconds": round(seconds, 2),
        "bytes_in": len(data),
        "bytes_out": len(out),
        "target_seconds": 10,
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
