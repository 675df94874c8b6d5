"""Tablet reader layout benchmark: the smallest share of the screen the document gets in reading mode
over every tablet and orientation, and the serious accessibility violations over every page type.

``python -m bench.reader_layout`` prints, as its last line, one JSON object with
``min_page_area_ratio`` (target >= 0.85; bench/reader_layout_support.py) and ``axe_serious``
(serious + critical axe-core violations; bench.a11y_support.axe_serious_total(), or null where that
module is not present).
"""

from __future__ import annotations

import importlib
import json
import time

from bench.serve import OUT, prepare_django, session_cookie, start_daphne

CHROMIUM = "/usr/bin/chromium"


def main() -> int:
    folder = OUT / "reader_layout"
    env = prepare_django(folder)
    from bench import reader_layout_support as support

    scene = support.prepare_scene(folder)
    name, value = session_cookie(scene["member"]).split("=", 1)
    proc, port = start_daphne(env, folder / "daphne.log")
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
            )
            worst, measured = support.min_page_area_ratio(
                base, browser, scene, {"name": name, "value": value, "url": base}
            )
            browser.close()
    finally:
        proc.terminate()
        proc.wait(10)
    layout_seconds = time.monotonic() - started
    try:
        a11y = importlib.import_module("bench.a11y_support")
    except ImportError:
        a11y = None
    axe = a11y.axe_serious_total() if a11y and hasattr(a11y, "axe_serious_total") else None
    for key, ratio in measured.items():
        print(f"{key:28s} {ratio:.3f}")
    print(
        json.dumps(
            {
                "benchmark": "reader_layout",
                "min_page_area_ratio": round(worst, 4),
                "axe_serious": axe,
                "target_min_page_area_ratio": 0.85,
                "page_area_ratios": measured,
                "layout_seconds": round(layout_seconds, 1),
            },
            ensure_ascii=False,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
