"""Reader benchmark: how many bytes Chromium fetches to draw page 150 of a 50 MB, 300-page packet.

``python -m bench.reader_bytes [--page 150] [--file-mb 50]``

Builds a 300-page Japanese text PDF (bench.ingest's generator) and adds an incompressible image to
every page until the file is about 50 MB, uploads it through the real ingest (checks, text,
thumbnails, linearized copy), starts daphne, and opens ``/documents/<id>/read/?page=150`` in
Debian's Chromium (Playwright). The Chrome DevTools Protocol counts every byte received for the
served file (``Network.dataReceived``; the first, aborted full GET included) until page 150 is
drawn with its text layer. Target: < 10 % of the file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
CHROMIUM = "/usr/bin/chromium"


def make_packet(pages: int, megabytes: int) -> Path:
    path = OUT / f"packet-{pages}p-{megabytes}mb.pdf"
    if path.exists():
        return path
    import pikepdf

    from bench.ingest import make_pdf

    text_pdf = make_pdf(pages)
    pdf = pikepdf.open(text_pdf)
    side = int(((megabytes * 1024 * 1024) / pages) ** 0.5)
    for number, page in enumerate(pdf.pages, start=1):
        # WeasyPrint shares one /Resources dictionary between pages; give each page its own, as a
        # scanned or office-made packet has (otherwise every page would list all 300 images).
        resources = page.obj.get("/Resources")
        own = (
            pikepdf.Dictionary({key: resources[key] for key in resources.keys()})
            if resources is not None
            else pikepdf.Dictionary()
        )
        xobjects = own.get("/XObject")
        own.XObject = (
            pikepdf.Dictionary({key: xobjects[key] for key in xobjects.keys()})
            if xobjects is not None
            else pikepdf.Dictionary()
        )
        page.obj.Resources = pdf.make_indirect(own)
        image = pikepdf.Stream(pdf, os.urandom(side * side))
        image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
        image.Width, image.Height, image.BitsPerComponent = side, side, 8
        image.ColorSpace = pikepdf.Name.DeviceGray
        name = page.add_resource(image, pikepdf.Name.XObject, prefix="Noise")
        page.contents_add(pikepdf.Stream(pdf, f"q 120 0 0 40 440 20 cm {name} Do Q".encode()), prepend=False)
        if number % 50 == 0:
            print(f"page {number}", file=sys.stderr)
    pdf.save(path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--page", type=int, default=150)
    parser.add_argument("--file-mb", type=int, default=50)
    args = parser.parse_args(argv)

    from bench.serve import prepare_django, session_cookie, start_daphne

    OUT.mkdir(parents=True, exist_ok=True)
    folder = OUT / "reader_bytes"
    env = prepare_django(folder)
    path = make_packet(args.pages, args.file_mb)

    import datetime

    from django.contrib.auth import get_user_model

    from council.models import Body, Council, Person
    from documents.services import document_create

    council = Council.objects.create(
        name="ベンチ町議会",
        municipality="ベンチ町",
        seats=10,
        term_start=datetime.date(2023, 5, 1),
        term_end=datetime.date(2027, 4, 30),
    )
    plenary = Body.objects.create(council=council, name="本会議", kind=Body.Kind.PLENARY)
    clerk = get_user_model().objects.create_user(username="clerk", password=None)
    Person.objects.create(
        council=council, user=clerk, kind=Person.Kind.SECRETARIAT, family_name="事務", given_name="局"
    )
    member = get_user_model().objects.create_user(username="member", password=None)
    Person.objects.create(
        council=council,
        user=member,
        kind=Person.Kind.COUNCILLOR,
        family_name="議員",
        given_name="一",
        seat_number=1,
    )
    ingest_started = time.monotonic()
    document = document_create(
        body=plenary,
        title="令和8年第4回定例会 議案書",
        path=path,
        original_name=path.name,
        actor=clerk,
        release_now=True,
    )
    ingest_seconds = time.monotonic() - ingest_started
    version = document.current_version
    file_url = f"/documents/versions/{version.pk}/file"
    cookie_name, cookie_value = session_cookie(member).split("=", 1)

    proc, port = start_daphne(env, folder / "daphne.log")
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
            )
            context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 800})
            base = f"http://127.0.0.1:{port}"
            context.add_cookies([{"name": cookie_name, "value": cookie_value, "url": base}])
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
            urls: dict[str, str] = {}
            received: dict[str, int] = {}
            statuses: list[int] = []
            ranges: list[str] = []
            cdp.on(
                "Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"])
            )
            page.on(
                "request", lambda r: ranges.append(r.headers.get("range", "")) if file_url in r.url else None
            )
            cdp.on(
                "Network.responseReceived",
                lambda e: (
                    statuses.append(e["response"]["status"]) if file_url in e["response"]["url"] else None
                ),
            )
            cdp.on(
                "Network.dataReceived",
                lambda e: received.__setitem__(
                    e["requestId"], received.get(e["requestId"], 0) + e["dataLength"]
                ),
            )
            started = time.monotonic()
            page.goto(f"{base}/documents/{document.pk}/read/?page={args.page}")
            page.wait_for_function(
                f"() => document.querySelector('.reader-pane.is-active .page-wrap')?.dataset.page === '{args.page}'",
                timeout=60000,
            )
            page.wait_for_selector(".reader-pane.is-active .textLayer span", timeout=60000)
            seconds = time.monotonic() - started
            drawn = page.evaluate("""() => {
                const c = document.querySelector('.reader-pane.is-active canvas');
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                let dark = 0; for (let i = 0; i < d.length; i += 4) if (d[i] < 128) dark++;
                return dark; }""")
            text = page.locator(".reader-pane.is-active .textLayer").inner_text()
            page.wait_for_timeout(300)
            file_bytes = sum(n for rid, n in received.items() if file_url in urls.get(rid, ""))
            browser.close()
    finally:
        proc.terminate()
        proc.wait(10)
    size = version.size
    result = {
        "benchmark": "reader_bytes",
        "file_mb": round(size / 1024 / 1024, 1),
        "pages": version.page_count,
        "page": args.page,
        "bytes_transferred": file_bytes,
        "percent_of_file": round(100 * file_bytes / size, 2),
        "file_requests": len(ranges),
        "range_requests": sum(1 for r in ranges if r),
        "statuses": sorted(set(statuses)),
        "first_ranges": ranges[:12],
        "seconds_to_draw": round(seconds, 2),
        "page_drawn": drawn > 1000 and f"第{args.page}頁" in text.replace("\n", "").replace(" ", ""),
        "ingest_seconds": round(ingest_seconds, 2),
        "target_percent": 10,
    }
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
