"""In Debian's Chromium: the page on the glass, not the message on the socket.

The presenter turns pages through the console WebSocket; a member follows on a tablet-sized,
high-density screen. For every turn the follower reports the page drawn on its canvas with the
members' stream sequence number that presented it (``#reader[data-rendered-seq]``,
``window.councilFollow.rendered``, a ``follow:drawn:<seq>`` performance mark), and next-page
turns are copied from pages drawn ahead while the member read. A member joining the sitting in
progress gets the presented page from the reader's own HTML, before the socket says anything.
The timings are ``python -m bench.follow_pixels``'s business, not this test's.
"""

from __future__ import annotations

import contextlib
import json
import threading

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from websockets.sync.client import connect

from meetings.models import AgendaItemDocument, Sitting
from tests import factories
from tests.documents import pdfs
from tests.documents.helpers import upload

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TURNS = 20
PAGES = [f"第{n}頁 町税条例の一部を改正する条例について、説明資料の本文です。" for n in range(1, TURNS + 6)]
TABLET = {"width": 820, "height": 1180}


def session_of(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[django_settings.SESSION_COOKIE_NAME].value


class Presenter:
    """The clerk's console socket, from the test: sends commands, tracks the members' seq."""

    def __init__(self, server, user, sitting_id: int) -> None:
        cookie = f"{django_settings.SESSION_COOKIE_NAME}={session_of(user)}"
        url = server.url.replace("http", "ws", 1) + f"/ws/sittings/{sitting_id}/"
        self.stack = contextlib.ExitStack()
        self.ws = self.stack.enter_context(
            connect(url, additional_headers={"Cookie": cookie}, origin=server.url)
        )
        self.seq = 0
        self.errors: list[dict] = []
        self.changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            while True:
                message = json.loads(self.ws.recv())
                with self.changed:
                    if message.get("type") == "state":
                        self.seq = max(self.seq, (message.get("seqs") or {}).get("members", 0))
                    elif message.get("stream") == "members":
                        self.seq = max(self.seq, message["seq"])
                    elif message.get("type") == "error":
                        self.errors.append(message)
                    self.changed.notify_all()
        except Exception:  # noqa: BLE001 - the socket closes at the end of the test
            pass

    def command(self, message: dict, after: int) -> int:
        """Send and wait for the members' event it causes; returns that event's seq."""
        self.ws.send(json.dumps(message))
        with self.changed:
            assert self.changed.wait_for(lambda: self.seq > after or self.errors, 20), "no event"
            assert self.errors == []
            return self.seq


def rendered(page) -> dict:
    return page.evaluate("""() => ({
        seq: Number(document.getElementById('reader').dataset.renderedSeq || 0),
        page: Number(document.getElementById('reader').dataset.renderedPage || 0),
        hook: window.councilFollow && window.councilFollow.rendered,
        marks: performance.getEntriesByType('mark').filter((m) => m.name.startsWith('follow:drawn:')).map((m) => m.name),
    })""")


def test_every_turn_is_drawn_for_its_sequence_number(daphne_server, new_context, tmp_path):
    org = factories.make_small_council()
    sitting = org["sitting"]
    Sitting.objects.filter(pk=sitting.pk).update(
        status=Sitting.Status.OPEN, opened_at=timezone.now(), agenda_published_at=timezone.now()
    )
    item = factories.make_agenda_item(
        sitting, title="町税条例の一部を改正する条例について", bill_number="議案第45号"
    )
    path = tmp_path / "議案第45号.pdf"
    path.write_bytes(pdfs.japanese_pdf(PAGES, title="議案第45号"))
    document = upload(org, path, title="議案第45号 説明資料")
    AgendaItemDocument.objects.create(agenda_item=item, document=document)

    presenter = Presenter(daphne_server, org["clerk"].user, sitting.pk)
    try:
        with presenter.changed:
            presenter.changed.wait_for(lambda: presenter.seq > 0 or presenter.errors, 10)
        seq = presenter.command(
            {"type": "document.present", "document_id": document.pk, "page": 3}, after=presenter.seq
        )

        # Joining the sitting in progress: the reader's page already says what is presented.
        context = new_context(viewport=TABLET, device_scale_factor=2, has_touch=True, is_mobile=True)
        context.add_cookies(
            [
                {
                    "name": django_settings.SESSION_COOKIE_NAME,
                    "value": session_of(org["members"][4].user),
                    "url": daphne_server.url,
                }
            ]
        )
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        files: list[dict] = []
        file_path = reverse("documents:version_file", args=[document.current_version.pk])
        page.on("request", lambda r: files.append(r.headers) if file_path in r.url else None)
        page.goto(f"{daphne_server.url}/meetings/sittings/{sitting.pk}/reader/")
        embedded = json.loads(page.locator("#live-presented").text_content())
        assert embedded["seq"] == seq and embedded["presentation"]["page"] == 3
        assert embedded["presentation"]["document_id"] == document.pk
        page.wait_for_function("(s) => window.councilFollow?.rendered?.seq === s", arg=seq, timeout=30000)
        first = rendered(page)
        assert (first["seq"], first["page"]) == (seq, 3)
        # The presented (small) file was fetched whole, once, by the page's boot script, and the
        # pdf.js worker it started is the one in use.
        assert len(files) == 1 and "range" not in files[0], files
        assert page.evaluate("() => window.councilReaderBoot.worker instanceof Worker")
        page.evaluate("""() => { window.drawn = [];
            document.addEventListener('reader:drawn', (e) => window.drawn.push(e.detail)); }""")

        for n in range(4, 4 + TURNS):
            # The member reads long enough for the next page to be drawn ahead.
            page.wait_for_function("(n) => window.councilReader.panes[0].ahead.has(n)", arg=n, timeout=30000)
            page.evaluate(
                "(n) => { window.prepared = window.councilReader.panes[0].ahead.get(n).canvas; }", n
            )
            seq = presenter.command({"type": "page.turn", "page": n}, after=seq)
            page.wait_for_function(
                "([s, n]) => document.getElementById('reader').dataset.renderedSeq === String(s)"
                " && document.getElementById('reader').dataset.renderedPage === String(n)",
                arg=[seq, n],
                timeout=30000,
            )
            now = rendered(page)
            assert now["hook"]["seq"] == seq and now["hook"]["page"] == n
            assert f"follow:drawn:{seq}" in now["marks"]
            # The canvas drawn ahead is the one on the glass now: swapped in, not copied.
            assert page.evaluate(
                "() => document.querySelector('.reader-pane.is-active .page-canvas') === window.prepared"
            )
            assert page.evaluate(
                "() => document.querySelector('.reader-pane.is-active .page-wrap').dataset.page"
            ) in (str(n - 1), str(n))  # the text layer follows the pixels
        # Nothing missed: one mark per turn, every next page copied from the page drawn ahead.
        marks = rendered(page)["marks"]
        assert len(marks) == TURNS + 1
        drawn = page.evaluate("() => window.drawn.map((d) => [d.page, d.fromAhead])")
        assert drawn == [[n, True] for n in range(4, 4 + TURNS)]

        # A jump is drawn at the target page, for its own sequence number.
        seq = presenter.command({"type": "page.turn", "page": 2}, after=seq)
        page.wait_for_function("(s) => window.councilFollow.rendered.seq === s", arg=seq, timeout=30000)
        assert rendered(page)["page"] == 2
        page.wait_for_selector(
            ".reader-pane.is-active .page-wrap[data-page='2'] .textLayer span", timeout=30000
        )
        assert "第2頁" in page.locator(".reader-pane.is-active .textLayer").inner_text().replace("\n", "")
        assert errors == []
    finally:
        presenter.stack.close()


def member_page(daphne_server, new_context, user, viewport=TABLET):
    context = new_context(viewport=viewport, device_scale_factor=2, has_touch=True, is_mobile=True)
    context.add_cookies(
        [{"name": django_settings.SESSION_COOKIE_NAME, "value": session_of(user), "url": daphne_server.url}]
    )
    return context.new_page()


def test_before_anything_is_presented_the_reader_says_so(daphne_server, new_context, tmp_path):
    org = factories.make_small_council()
    sitting = org["sitting"]
    Sitting.objects.filter(pk=sitting.pk).update(
        status=Sitting.Status.OPEN, opened_at=timezone.now(), agenda_published_at=timezone.now()
    )
    item = factories.make_agenda_item(sitting, title="町税条例の一部を改正する条例について")
    path = tmp_path / "議案第45号.pdf"
    path.write_bytes(pdfs.japanese_pdf(PAGES[:3], title="議案第45号"))
    document = upload(org, path, title="議案第45号 説明資料")
    AgendaItemDocument.objects.create(agenda_item=item, document=document)

    page = member_page(daphne_server, new_context, org["members"][4].user)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{daphne_server.url}/meetings/sittings/{sitting.pk}/reader/")
    empty = page.get_by_test_id("reader-empty")
    empty.wait_for(state="visible", timeout=10000)
    assert "説明者はまだ資料を表示していません。" in empty.inner_text()
    # No page number to show ("/ –") and nothing to turn while no document is open.
    assert not page.locator(".reader-goto").is_visible()
    assert not page.locator("#reader-bar [data-action=next]").is_visible()
    # The way to the sitting's documents meanwhile.
    empty.get_by_role("button", name="この会議の資料を開く").click()
    menu = page.locator("#reader-menu")
    menu.wait_for(state="visible", timeout=5000)
    assert "議案第45号 説明資料" in menu.inner_text()
    page.locator("[data-action=menu-close]").click()

    # The presenter shows a document: the message gives way to the page.
    presenter = Presenter(daphne_server, org["clerk"].user, sitting.pk)
    try:
        with presenter.changed:
            presenter.changed.wait_for(lambda: presenter.seq > 0 or presenter.errors, 10)
        seq = presenter.command(
            {"type": "document.present", "document_id": document.pk, "page": 2}, after=presenter.seq
        )
        page.wait_for_function("(s) => window.councilFollow?.rendered?.seq === s", arg=seq, timeout=30000)
        assert not empty.is_visible()
        assert page.locator(".reader-goto").is_visible()
        assert page.locator(".reader-page-count").inner_text() == "3"
        assert errors == []
    finally:
        presenter.stack.close()


def presented_sitting(daphne_server, tmp_path, page: int):
    """A sitting in session whose presenter shows a small 3-page document at ``page``."""
    org = factories.make_small_council()
    sitting = org["sitting"]
    Sitting.objects.filter(pk=sitting.pk).update(
        status=Sitting.Status.OPEN, opened_at=timezone.now(), agenda_published_at=timezone.now()
    )
    item = factories.make_agenda_item(sitting, title="町税条例の一部を改正する条例について")
    path = tmp_path / "議案第45号.pdf"
    path.write_bytes(pdfs.japanese_pdf(PAGES[:3], title="議案第45号"))
    document = upload(org, path, title="議案第45号 説明資料")
    AgendaItemDocument.objects.create(agenda_item=item, document=document)
    presenter = Presenter(daphne_server, org["clerk"].user, sitting.pk)
    with presenter.changed:
        presenter.changed.wait_for(lambda: presenter.seq > 0 or presenter.errors, 10)
    seq = presenter.command(
        {"type": "document.present", "document_id": document.pk, "page": page}, after=presenter.seq
    )
    return org, sitting, document, presenter, seq


def test_joining_draws_the_presented_page_before_the_socket_says_anything(
    daphne_server, new_context, tmp_path
):
    org, sitting, document, presenter, seq = presented_sitting(daphne_server, tmp_path, page=3)
    try:
        page = member_page(daphne_server, new_context, org["members"][4].user)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        # Every frame from the server is held back until the test lets it through.
        sockets: list = []
        held: list = []
        delivered: list = []

        def route(ws):
            sockets.append(ws)
            server = ws.connect_to_server()

            def from_server(message):
                if delivered or held == ["released"]:
                    delivered.append(message)
                    ws.send(message)
                else:
                    held.append(message)

            server.on_message(from_server)

        page.route_web_socket("**/ws/sittings/**", route)
        page.goto(f"{daphne_server.url}/meetings/sittings/{sitting.pk}/reader/")
        page.wait_for_function("(s) => window.councilFollow?.rendered?.seq === s", arg=seq, timeout=30000)
        assert rendered(page)["page"] == 3
        assert delivered == []  # drawn from the page's own state: no frame had reached the page

        # The state carried in the page is like any other: a newer one from the socket replaces it.
        newer = presenter.command({"type": "page.turn", "page": 2}, after=seq)
        page.wait_for_function("() => true")  # let the held frames reach the route
        assert held and sockets
        frames, held[:] = list(held), ["released"]
        for message in frames:
            delivered.append(message)
            sockets[-1].send(message)
        page.wait_for_function("(s) => window.councilFollow?.rendered?.seq === s", arg=newer, timeout=30000)
        assert rendered(page)["page"] == 2
        assert errors == []
    finally:
        presenter.stack.close()


def test_a_slow_boot_script_still_joins_with_one_read_of_the_file(daphne_server, new_context, tmp_path):
    """boot.js (which starts the worker and the file early) arriving after the reader's own modules:
    the reader draws the presented page by itself and the file is read once."""
    org, sitting, document, presenter, seq = presented_sitting(daphne_server, tmp_path, page=2)
    try:
        page = member_page(daphne_server, new_context, org["members"][4].user)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        files: list[str] = []
        file_path = reverse("documents:version_file", args=[document.current_version.pk])
        page.on("request", lambda r: files.append(r.url) if file_path in r.url else None)

        def slow(route):
            response = route.fetch()
            threading.Event().wait(2.5)
            route.fulfill(response=response)

        page.route("**/js/reader/boot.js", slow)
        page.goto(f"{daphne_server.url}/meetings/sittings/{sitting.pk}/reader/")
        page.wait_for_function("(s) => window.councilFollow?.rendered?.seq === s", arg=seq, timeout=30000)
        assert rendered(page)["page"] == 2
        page.wait_for_function("() => window.councilReaderBoot !== undefined", timeout=30000)
        assert page.evaluate("() => window.councilReaderBoot.worker") is None  # no second worker
        page.wait_for_timeout(500)
        assert len(files) == 1, files
        assert errors == []
    finally:
        presenter.stack.close()


def test_a_tablet_with_no_debugger_in_the_page_joins_and_draws_the_presented_page(daphne_server, tmp_path):
    """The benchmark's tablet: Chromium driven over the bare DevTools Protocol (bench.support.cdp,
    no Runtime domain enabled, nothing of Playwright's in the page), at tablet size."""
    from bench.follow_pixels import WAIT_DRAWN_JS
    from bench.support import cdp

    org, sitting, document, presenter, seq = presented_sitting(daphne_server, tmp_path, page=3)
    try:
        cookie = {
            "name": django_settings.SESSION_COOKIE_NAME,
            "value": session_of(org["members"][4].user),
            "url": daphne_server.url,
        }
        with cdp.Browser(cdp.chromium_path()) as browser:
            tab = browser.new_tab(
                width=TABLET["width"],
                height=TABLET["height"],
                scale=2,
                mobile=True,
                throttle=1,
                locale="ja-JP",
                cookies=[cookie],
            )
            tab.navigate(f"{daphne_server.url}/meetings/sittings/{sitting.pk}/reader/")
            drawn = tab.evaluate(f"({WAIT_DRAWN_JS})({json.dumps([seq, 3, 30000])})", timeout=40)
            assert (drawn["seq"], drawn["page"]) == (seq, 3)
            # The page laid out for a tablet in Japanese, signed in as the member.
            assert tab.evaluate("[innerWidth, devicePixelRatio, document.documentElement.lang]") == [
                820,
                2,
                "ja",
            ]
            assert tab.evaluate("document.querySelector('.reader-pane.is-active .page-canvas').width") >= 1600
            assert tab.errors() == []
            tab.close()
    finally:
        presenter.stack.close()
