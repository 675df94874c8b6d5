"""How much of a tablet's screen the document gets in the sitting reader: the measure behind
``python -m bench.reader_layout`` (``min_page_area_ratio``).

A scratch council with a sitting in session and an A4 portrait document on its order of business;
a member opens the sitting reader on each tablet (touch on, device scale factor 2), upright and
sideways, hides the bar with a centre tap (reading mode) and the share of the viewport covered by
the visible part of the drawn page (the canvas, clipped to its scroll view and the viewport) is
measured. The same measure as tests/meetings/test_tablet_layout.py (which may not import bench).
"""

from __future__ import annotations

import datetime
from pathlib import Path

# (name, width, height) upright; each is also measured turned sideways.
TABLETS = [
    ("ipad-10.9", 820, 1180),
    ("ipad-mini", 744, 1133),
    ("ipad-pro-12.9", 1024, 1366),
    ("android-10", 800, 1280),
]

VISIBLE_PAGE_JS = """() => {
    const canvas = document.querySelector('.reader-pane.is-active .page-canvas');
    const r = canvas.getBoundingClientRect();
    const s = canvas.closest('.pane-scroll').getBoundingClientRect();
    const left = Math.max(r.left, s.left, 0), top = Math.max(r.top, s.top, 0);
    const right = Math.min(r.right, s.right, innerWidth), bottom = Math.min(r.bottom, s.bottom, innerHeight);
    const w = Math.max(0, right - left), h = Math.max(0, bottom - top);
    let covered = 0;
    for (let i = 1; i < 6; i += 1) for (let j = 1; j < 6; j += 1) {
        const hit = document.elementFromPoint(left + (w * i) / 6, top + (h * j) / 6);
        if (!hit || !hit.closest('.page-wrap')) covered += 1;
    }
    return {ratio: (w * h) / (innerWidth * innerHeight), covered};
}"""


def a4_pdf(path: Path, pages: int = 4) -> Path:
    import weasyprint

    body = "".join(
        f"<section style='page-break-after:always'><h1>議案第45号 {n}</h1><p>第{n}頁 町税条例の一部を改正する条例について。</p></section>"
        for n in range(1, pages + 1)
    )
    html = f"<html lang='ja'><head><meta charset='utf-8'><style>@page {{ size: A4 portrait; }}</style></head><body>{body}</body></html>"
    path.write_bytes(weasyprint.HTML(string=html).write_pdf())
    return path


def prepare_scene(folder: Path) -> dict:
    """A council, a member present in the room, an open sitting with an A4 document (Django set up)."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from council.models import Body, Council, Membership, Person
    from documents.services import document_create
    from meetings.models import AgendaItem, AgendaItemDocument, Session, Sitting

    today = timezone.localdate()
    council = Council.objects.create(
        name="ベンチ町議会",
        municipality="ベンチ町",
        seats=10,
        term_start=datetime.date(2023, 5, 1),
        term_end=datetime.date(2027, 4, 30),
    )
    plenary = Body.objects.create(council=council, name="本会議", kind=Body.Kind.PLENARY)
    users = get_user_model().objects
    clerk = users.create_user(username="clerk", password=None)
    Person.objects.create(
        council=council, user=clerk, kind=Person.Kind.SECRETARIAT, family_name="事務", given_name="局"
    )
    member_user = users.create_user(username="member", password=None)
    member = Person.objects.create(
        council=council,
        user=member_user,
        kind=Person.Kind.COUNCILLOR,
        family_name="議員",
        given_name="一",
        seat_number=1,
    )
    Membership.objects.create(body=plenary, person=member, start=datetime.date(2023, 5, 1))
    session = Session.objects.create(
        council=council,
        kind=Session.Kind.REGULAR,
        year=today.year,
        number=1,
        start_date=today - datetime.timedelta(days=1),
        end_date=today + datetime.timedelta(days=5),
    )
    sitting = Sitting.objects.create(
        session=session,
        body=plenary,
        number=1,
        date=today,
        start_time=datetime.time(10, 0),
        place="議場",
        status=Sitting.Status.OPEN,
        opened_at=timezone.now(),
        agenda_published_at=timezone.now(),
    )
    item = AgendaItem.objects.create(
        sitting=sitting,
        position=1,
        kind=AgendaItem.Kind.BILL,
        title="町税条例の一部を改正する条例について",
        bill_number="議案第45号",
    )
    path = a4_pdf(folder / "a4.pdf")
    document = document_create(
        body=plenary,
        title="議案第45号 説明資料",
        path=path,
        original_name=path.name,
        actor=clerk,
        release_now=True,
    )
    AgendaItemDocument.objects.create(agenda_item=item, document=document)
    from meetings.attendance.models import Attendance
    from meetings.voting.services import roll

    roll.attendance_mark(sitting=sitting, person=member, status=Attendance.Status.PRESENT_ROOM, by=clerk)
    return {"member": member_user, "sitting": sitting, "document": document}


def page_area_ratios(base_url: str, browser, scene: dict, cookie: dict) -> dict[str, float]:
    """The page's share of the viewport in reading mode, per tablet and orientation."""
    url = f"{base_url}/meetings/sittings/{scene['sitting'].pk}/reader/?document={scene['document'].pk}"
    measured: dict[str, float] = {}
    for name, width, height in TABLETS:
        context = browser.new_context(
            locale="ja-JP",
            viewport={"width": width, "height": height},
            device_scale_factor=2,
            has_touch=True,
            is_mobile=True,
        )
        context.add_cookies([cookie])
        page = context.new_page()
        page.goto(url)
        page.wait_for_function("() => window.councilReader !== undefined")
        page.evaluate("""() => { window.renders = 0;
            document.addEventListener('reader:rendered', () => { window.renders += 1; }); }""")
        page.wait_for_selector(".reader-pane.is-active .textLayer span", timeout=60000)
        page.touchscreen.tap(width / 2, height / 2)  # reading mode: the bar hides
        page.wait_for_function("() => document.getElementById('reader').classList.contains('is-immersive')")
        for orientation, (w, h) in (("upright", (width, height)), ("sideways", (height, width))):
            if orientation == "sideways":
                before = page.evaluate("() => window.renders")
                page.set_viewport_size({"width": w, "height": h})
                page.wait_for_function("(n) => window.renders > n", arg=before, timeout=60000)
            result = page.evaluate(VISIBLE_PAGE_JS)
            # Anything lying over the page counts as taking its place.
            measured[f"{name} {orientation}"] = round(result["ratio"] * (25 - result["covered"]) / 25, 4)
        context.close()
    return measured


def min_page_area_ratio(base_url: str, browser, scene: dict, cookie: dict) -> tuple[float, dict[str, float]]:
    measured = page_area_ratios(base_url, browser, scene, cookie)
    return min(measured.values()), measured
