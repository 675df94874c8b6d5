"""What a councillor sees on a tablet, measured in Debian's Chromium (touch on, device scale factor 2).

The drawn page (the canvas, as much of it as is on screen) must cover at least 85 % of the viewport in
reading mode on every tablet size in both orientations; the bar and its sheets must never shrink it;
a centre tap hides and shows the bar; voting and remote attendance come to the member over the page.

``UPDATE_SCREENSHOTS=1`` writes the README's picture (docs/reader-tablet.png) from this run;
``SCREENSHOT_DIR=/some/folder`` keeps a picture of every step for a look.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.utils import timezone

from meetings.attendance.models import Attendance
from meetings.models import AgendaItemDocument, Sitting
from meetings.voting.services import roll
from tests import factories
from tests.browser import login_cookie
from tests.documents import pdfs
from tests.documents.helpers import upload

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
MIN_RATIO = 0.85
# (name, width, height) upright; each is also measured turned sideways.
TABLETS = [
    ("ipad-10.9", 820, 1180),
    ("ipad-mini", 744, 1133),
    ("ipad-pro-12.9", 1024, 1366),
    ("android-10", 800, 1280),
]
PAGES = [f"第{n}頁 町税条例の一部を改正する条例について、説明資料の本文です。" for n in range(1, 7)]

# The share of the viewport covered by the visible part of the active page's canvas, and whether any
# other element lies over it (sampled on a grid): the same measure as bench/reader_layout_support.py.
VISIBLE_PAGE_JS = """() => {
    const canvas = document.querySelector('.reader-pane.is-active .page-canvas');
    const r = canvas.getBoundingClientRect();
    const s = canvas.closest('.pane-scroll').getBoundingClientRect();
    const left = Math.max(r.left, s.left, 0), top = Math.max(r.top, s.top, 0);
    const right = Math.min(r.right, s.right, innerWidth), bottom = Math.min(r.bottom, s.bottom, innerHeight);
    const w = Math.max(0, right - left), h = Math.max(0, bottom - top);
    const covered = [];
    for (let i = 1; i < 6; i += 1) for (let j = 1; j < 6; j += 1) {
        const x = left + (w * i) / 6, y = top + (h * j) / 6;
        const hit = document.elementFromPoint(x, y);
        if (!hit || !hit.closest('.page-wrap')) covered.push(hit ? (hit.id || hit.className || hit.tagName) : 'none');
    }
    return {ratio: (w * h) / (innerWidth * innerHeight), covered, canvas: [r.width, r.height],
            fit: document.getElementById('reader').dataset.fit};
}"""


def shot(page, name: str) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"))


def open_sitting(tmp_path, *, body="plenary", remote=False):
    org = factories.make_small_council()
    sitting = (
        org["sitting"] if body == "plenary" else factories.make_sitting(org["session"], org["committee"])
    )
    Sitting.objects.filter(pk=sitting.pk).update(
        status=Sitting.Status.OPEN, opened_at=timezone.now(), agenda_published_at=timezone.now()
    )
    sitting.refresh_from_db()
    item = factories.make_agenda_item(
        sitting, title="町税条例の一部を改正する条例について", bill_number="議案第45号"
    )
    path = tmp_path / "議案第45号.pdf"
    path.write_bytes(pdfs.japanese_pdf(PAGES, title="議案第45号"))  # A4 portrait, the council standard
    document = upload(org, path, title="議案第45号 説明資料")
    AgendaItemDocument.objects.create(agenda_item=item, document=document)
    return org, sitting, document


def tablet(new_context, server, user, width, height):
    context = new_context(
        viewport={"width": width, "height": height}, device_scale_factor=2, has_touch=True, is_mobile=True
    )
    context.add_cookies([login_cookie(user, server)])
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    return page


def count_renders(page) -> None:
    page.evaluate("""() => { window.renders = 0;
        document.addEventListener('reader:rendered', () => { window.renders += 1; }); }""")


def wait_rendered(page, page_number: int, after: int = 0) -> None:
    page.wait_for_function(
        """([n, after]) => { const w = document.querySelector('.reader-pane.is-active .page-wrap');
            return w && w.dataset.page === String(n) && (window.renders || 0) > after; }""",
        arg=[page_number, after],
        timeout=30000,
    )


def centre_tap(page) -> None:
    size = page.viewport_size
    page.touchscreen.tap(size["width"] / 2, size["height"] / 2)


def touch_swipe(page, dx: float) -> None:
    """A finger swipe across the middle of the screen (Chromium turns it into touch pointer events)."""
    size = page.viewport_size
    y = size["height"] / 2
    x0 = size["width"] / 2 - dx / 2
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x0, "y": y}]})
    for k in range(1, 6):
        cdp.send(
            "Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x0 + dx * k / 5, "y": y}]}
        )
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def reading_mode(page) -> None:
    if not page.evaluate("() => document.getElementById('reader').classList.contains('is-immersive')"):
        centre_tap(page)
    page.wait_for_function("() => document.getElementById('reader').classList.contains('is-immersive')")
    page.wait_for_function(
        "() => getComputedStyle(document.getElementById('reader-bar')).visibility === 'hidden'"
    )


def test_tablet_layout_page_fills_the_screen_on_every_tablet_both_ways(daphne_server, new_context, tmp_path):
    org, sitting, document = open_sitting(tmp_path)
    member = org["members"][4]
    roll.attendance_mark(
        sitting=sitting, person=member, status=Attendance.Status.PRESENT_ROOM, by=org["clerk"].user
    )
    measured = {}
    for name, width, height in TABLETS:
        page = tablet(new_context, daphne_server, member.user, width, height)
        page.goto(f"{daphne_server.url}/meetings/sittings/{sitting.pk}/reader/?document={document.pk}")
        page.wait_for_function("() => window.councilReader !== undefined")
        count_renders(page)
        page.wait_for_selector(".reader-pane.is-active .textLayer span", timeout=30000)
        reading_mode(page)
        for orientation, (w, h) in (("upright", (width, height)), ("sideways", (height, width))):
            if orientation == "sideways":
                before = page.evaluate("() => window.renders")
                page.set_viewport_size({"width": w, "height": h})
                wait_rendered(page, 1, before)
            result = page.evaluate(VISIBLE_PAGE_JS)
            measured[f"{name} {orientation}"] = round(result["ratio"], 3)
            assert result["covered"] == [], (name, orientation, result)
            # Upright the whole A4 page shows; sideways it is fitted to the width and scrolls down.
            assert result["fit"] == ("page" if orientation == "upright" else "width")
            shot(page, f"reading-{name}-{orientation}")
            if name == "ipad-10.9" and orientation == "upright" and os.environ.get("UPDATE_SCREENSHOTS"):
                centre_tap(page)  # the README shows the bar too
                page.wait_for_function(
                    "() => !document.getElementById('reader').classList.contains('is-immersive')"
                )
                page.wait_for_timeout(300)
                page.screenshot(path=str(ROOT / "docs" / "reader-tablet.png"), scale="css")
                reading_mode(page)
        assert page.errors == []
        page.context.close()
    worst = min(measured.values())
    assert worst >= MIN_RATIO, measured


def test_tablet_layout_sheets_take_no_space_and_centre_tap_toggles_the_bar(
    daphne_server, new_context, tmp_path
):
    org, sitting, document = open_sitting(tmp_path)
    member = org["members"][4]
    roll.attendance_mark(
        sitting=sitting, person=member, status=Attendance.Status.PRESENT_ROOM, by=org["clerk"].user
    )
    page = tablet(new_context, daphne_server, member.user, 820, 1180)
    page.goto(f"{daphne_server.url}/meetings/sittings/{sitting.pk}/reader/?document={document.pk}")
    page.wait_for_selector(".reader-pane.is-active .textLayer span", timeout=30000)
    page.wait_for_function("() => window.councilLive && window.councilLive.connected", timeout=30000)
    canvas = page.locator(".reader-pane.is-active .page-canvas")
    box = canvas.bounding_box()

    # Notices are not in the reader: a badge link in the bar is all.
    assert page.locator("#reader .notice-list").count() == 0
    assert page.locator("#reader-bar [data-testid=reader-notices]").is_visible()

    # Every sheet is closed at first and takes no space; open, it lies over the page (which keeps its
    # size); closed again, it is gone.
    for toggle, sheet in (
        ("menu", "#reader-menu"),
        ("tools", "#reader-tools"),
        ("thumbs", "#reader-thumbs-sheet"),
        ("chamber", "#chamber-sheet"),
    ):
        assert page.locator(sheet).bounding_box() is None, sheet
        page.locator(f"#reader-bar [data-action={toggle}]").click()
        page.locator(sheet).wait_for(state="visible")
        assert page.locator(sheet).bounding_box()["height"] > 40
        shot(page, f"sheet-{toggle}")
        assert canvas.bounding_box() == box, toggle
        close = "menu-close" if toggle == "menu" else toggle
        page.locator(f"[data-action={close}]").first.click()
        page.locator(sheet).wait_for(state="hidden")
        assert page.locator(sheet).bounding_box() is None
        assert canvas.bounding_box() == box
    # The bar is one row, however narrow the tablet.
    assert page.locator("#reader-bar").bounding_box()["height"] <= 56

    # A tap in the middle of the page hides the bar; another shows it again. A tap near the edge does not.
    centre_tap(page)
    page.locator("#reader-bar").wait_for(state="hidden")
    centre_tap(page)
    page.locator("#reader-bar").wait_for(state="visible")
    page.touchscreen.tap(20, 600)
    page.wait_for_timeout(300)
    assert page.locator("#reader-bar").is_visible()
    # From the keyboard: a hidden bar comes back with Tab (it could not take focus hidden).
    centre_tap(page)
    page.locator("#reader-bar").wait_for(state="hidden")
    page.keyboard.press("Tab")
    page.locator("#reader-bar").wait_for(state="visible")

    # Choosing a fit is the member's own: kept on this tablet.
    page.locator("[data-action=menu]").click()
    page.locator("[data-action=fit-width]").click()
    page.wait_for_function("() => document.getElementById('reader').dataset.fit === 'width'")
    assert page.evaluate("() => localStorage.getItem('council-reader-fit')") == "width"
    assert page.errors == []


def test_tablet_layout_follow_swipe_pill_and_poll_sheet(daphne_server, new_context, tmp_path):
    org, sitting, document = open_sitting(tmp_path, body="committee")
    chair, member = org["members"][2], org["members"][4]
    from tests.voting.conftest import mark_all_present

    mark_all_present(sitting, [chair, org["members"][3], member, org["members"][5]], org["clerk"].user)
    errors: list[str] = []

    def console_for(user):
        context = new_context()
        context.add_cookies([login_cookie(user, daphne_server)])
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{daphne_server.url}/meetings/sittings/{sitting.pk}/console/")
        page.wait_for_function("() => window.councilLive && window.councilLive.connected", timeout=30000)
        return page

    clerk = console_for(org["clerk"].user)
    page = tablet(new_context, daphne_server, member.user, 820, 1180)
    page.goto(f"{daphne_server.url}/meetings/sittings/{sitting.pk}/reader/")
    page.wait_for_function(
        "() => window.councilReader && window.councilLive && window.councilLive.connected", timeout=30000
    )
    count_renders(page)
    clerk.get_by_role("button", name="議案第45号 説明資料").click()
    clerk.get_by_role("button", name="次のページ").click()
    wait_rendered(page, 2)
    pill = page.locator("#live-bar")
    assert page.locator("[data-testid=live-following]").is_visible()
    assert page.locator("[data-testid=live-following]").inner_text() == "追従中"
    assert pill.bounding_box()["y"] < 56  # in the bar

    # Reading on one's own: a swipe turns the page and ends following; the pill says so.
    reading_mode(page)
    before = page.evaluate("() => window.renders")
    touch_swipe(page, -300)
    wait_rendered(page, 3, before)
    back = page.locator("[data-testid=live-back]")
    back.wait_for(state="visible")  # stays in reach although the bar is hidden
    assert "自分で閲覧中" in back.inner_text()
    assert page.locator(".live-back-label").inner_text() == "説明者の画面に戻る(2ページ)"
    touch_swipe(page, 300)  # and back one page
    wait_rendered(page, 2, before + 1)
    touch_swipe(page, -300)
    wait_rendered(page, 3, before + 2)
    shot(page, "reading-alone")
    # One tap on the pill: back on the presenter's page, following again.
    back.tap()
    wait_rendered(page, 2, before + 3)
    assert back.is_hidden() and pill.get_attribute("data-following") == "true"
    centre_tap(page)  # the bar again: the pill says "following"
    page.locator("[data-testid=live-following]").wait_for(state="visible")

    # No poll: nothing of voting shows. The chair puts the question: the sheet rises over the page.
    assert page.locator("#vote-sheet").bounding_box() is None
    chair_console = console_for(chair.user)
    chair_console.locator('[data-voting="quorum"].is-met').wait_for()
    form = chair_console.locator('[data-voting-form="motion"]')
    form.locator('input[name="title"]').fill("議案第45号 町税条例の一部を改正する条例について")
    form.locator('select[name="method"]').select_option("roll_call")
    form.get_by_role("button", name="表決に付す").click()
    sheet = page.locator("[data-testid=vote-sheet]")
    sheet.wait_for(state="visible")
    page.wait_for_function(
        "() => document.getElementById('vote-sheet').getAnimations().every((a) => a.playState === 'finished')"
    )
    box = sheet.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= 1180
    assert "町税条例" in sheet.inner_text()
    shot(page, "poll-sheet")
    yes = sheet.locator(".voting-choices .btn-yes")
    assert yes.bounding_box()["height"] >= 64
    yes.tap()
    sheet.locator(".voting-confirm .btn-yes").tap()
    sheet.locator(".voting-receipt").wait_for()
    # Closed and declared: the result shows, then the sheet goes away by itself.
    chair_console.get_by_role("button", name="表決を締め切る").click()
    chair_console.get_by_role("button", name="結果を宣告する").click()
    sheet.locator("[data-outcome]").wait_for()
    sheet.wait_for(state="hidden", timeout=15000)
    assert page.locator("#vote-sheet").bounding_box() is None
    assert page.errors == [] and errors == []


def test_tablet_layout_remote_member_check_in_banner_is_on_screen(daphne_server, new_context, tmp_path):
    org, sitting, document = open_sitting(tmp_path, body="committee")
    from tests.voting.conftest import make_remote

    chair, remote = org["members"][2], org["members"][6]
    make_remote(sitting, remote, chair_user=chair.user, clerk_user=org["clerk"].user, check_in=False)
    for width, height in ((820, 1180), (1180, 820)):
        page = tablet(new_context, daphne_server, remote.user, width, height)
        page.goto(f"{daphne_server.url}/meetings/sittings/{sitting.pk}/reader/?document={document.pk}")
        page.wait_for_function("() => window.councilLive && window.councilLive.connected", timeout=30000)
        banner = page.locator("[data-testid=attend-banner]")
        checkin = banner.locator('[data-voting-action="checkin"]')
        checkin.wait_for(state="visible")
        assert banner.locator('[data-voting-form="remote-apply"]').is_hidden()
        for locator in (banner, checkin):
            b = locator.bounding_box()
            assert (
                b["x"] >= 0
                and b["y"] >= 0
                and b["x"] + b["width"] <= width
                and b["y"] + b["height"] <= height
            )
        shot(page, f"attend-banner-{width}x{height}")
        if width == 1180:
            checkin.tap()
            banner.wait_for(state="hidden")
            assert (
                Attendance.objects.get(sitting=sitting, person=remote).status
                == Attendance.Status.PRESENT_ONLINE
            )
        assert page.errors == []
        page.context.close()


def touch_pinch(page, spread: float) -> None:
    """Two fingers on the middle of the page moving apart by ``spread`` px each (a pinch out)."""
    size = page.viewport_size
    x, y = size["width"] / 2, size["height"] / 2
    cdp = page.context.new_cdp_session(page)

    def points(d):
        return [{"x": x - 40 - d, "y": y, "id": 1}, {"x": x + 40 + d, "y": y, "id": 2}]

    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": points(0)})
    for k in range(1, 8):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": points(spread * k / 7)})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def test_tablet_layout_pinch_zooms_the_page(daphne_server, new_context, tmp_path):
    org, sitting, document = open_sitting(tmp_path)
    member = org["members"][4]
    page = tablet(new_context, daphne_server, member.user, 820, 1180)
    page.goto(f"{daphne_server.url}/meetings/sittings/{sitting.pk}/reader/?document={document.pk}")
    page.wait_for_function("() => window.councilReader", timeout=30000)
    count_renders(page)
    # The drawn page's width, read in the page itself: the reader swaps in a new canvas when a page
    # drawn off-screen is ready, so a handle taken a moment earlier may already be detached.
    width_js = """() => { const c = document.querySelector('.reader-pane.is-active .page-canvas');
        const w = c && c.isConnected ? c.getBoundingClientRect().width : 0; return w > 0 ? w : null; }"""
    page.wait_for_function(width_js, timeout=30000)
    page.wait_for_timeout(300)
    before = page.wait_for_function(width_js, timeout=30000).json_value()
    touch_pinch(page, 150)
    page.wait_for_function(
        "(w) => { const c = document.querySelector('.reader-pane.is-active .page-canvas');"
        " return c && c.getBoundingClientRect().width > w * 1.4; }",
        arg=before,
        timeout=30000,
    )
    assert not page.errors
