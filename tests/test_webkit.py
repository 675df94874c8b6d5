"""The councillor's tablet journeys in a WebKit engine: most councillors use iPads, whose browsers
all run WebKit. Playwright's WebKit build cannot be installed here; Debian's WebKitGTK can
(``webkit2gtk-driver``: WebKitWebDriver, driven with Selenium, under Xvfb). ``scripts/setup.sh``
installs both; a missing driver fails the tests rather than skipping them.

One journey, against a real daphne: sign in through the form, open the sitting's reader (the PDF
page is drawn), follow the presenter as the clerk turns pages (the clerk's console socket, spoken
from Python), read ahead and come back to the presenter in one tap, draw a pen stroke that is still
there after a reload, and cast a ballot in an open vote and see the receipt.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from documents.annotations.models import Annotation
from meetings.models import AgendaItemDocument, Sitting
from meetings.voting.models import Ballot
from tests import factories
from tests.documents import pdfs
from tests.documents.helpers import upload
from tests.voting.conftest import mark_all_present

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.webkit]

WEBKIT_DRIVER = "/usr/bin/WebKitWebDriver"
TABLET = (1180, 820)  # an iPad held sideways, as on a council desk
PAGES = [f"第{n}頁 町税条例の一部を改正する条例について、説明資料の本文です。" for n in range(1, 7)]
PASSWORD = "webkit-tablet-1234"


@pytest.fixture(scope="module")
def xvfb():
    """A virtual X display of our own (Xvfb picks a free display number and tells us)."""
    xvfb_bin = shutil.which("Xvfb")
    assert xvfb_bin, "Xvfb is missing: run scripts/setup.sh (Debian package xvfb)"
    read, write = os.pipe()
    proc = subprocess.Popen(
        [xvfb_bin, "-displayfd", str(write), "-screen", "0", "1400x1400x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    number = b""
    deadline = time.monotonic() + 15
    while not number.endswith(b"\n") and time.monotonic() < deadline:
        chunk = os.read(read, 16)
        if not chunk:
            break
        number += chunk
    os.close(read)
    assert number.strip(), "Xvfb did not start"
    yield f":{number.strip().decode()}"
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def webkit(xvfb):
    """A WebKitGTK browser window (MiniBrowser in automation mode) at tablet size."""
    from selenium import webdriver
    from selenium.webdriver.webkitgtk.options import Options
    from selenium.webdriver.webkitgtk.service import Service

    assert os.path.exists(WEBKIT_DRIVER), (
        "WebKitWebDriver is missing: run scripts/setup.sh (webkit2gtk-driver)"
    )
    env = dict(os.environ, DISPLAY=xvfb)
    env.pop("WAYLAND_DISPLAY", None)
    service = Service(executable_path=WEBKIT_DRIVER, env=env)
    options = Options()
    driver = webdriver.WebKitGTK(options=options, service=service)
    driver.set_window_size(*TABLET)
    driver.set_script_timeout(30)
    yield driver
    driver.quit()


def wait_js(driver, expression: str, timeout: float = 30.0, what: str = ""):
    """Wait until a JavaScript expression is truthy; its value is returned."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = driver.execute_script(f"{ERROR_HOOK}; return ({expression});")
        except Exception as exc:  # a navigation in progress
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(0.1)
    raise AssertionError(
        f"timed out waiting for {what or expression}: {last!r}; page state: {page_state(driver)}"
    )


def page_state(driver) -> dict:
    try:
        state = driver.execute_script("""return {url: location.href, reader: !!window.councilReader,
            live: !!(window.councilLive && window.councilLive.connected),
            page: window.councilReader && window.councilReader.current && window.councilReader.current.page,
            errors: window.__errors || [], bar: (document.querySelector('.live-bar') || {}).textContent,
            voteSheet: (() => { const s = document.querySelector('#vote-sheet');
                return s ? {hidden: s.hidden, text: s.textContent.replace(/\\s+/g, ' ').slice(0, 300)} : null; })(),
            poll: (() => { const s = window.councilLive && window.councilLive.state;
                return s ? {parts: Object.keys(s.parts || {}), poll: s.parts && s.parts.poll,
                            me: s.me, seqs: s.seqs} : null; })()};""")
    except Exception as exc:
        state = {"error": str(exc)}
    # What the server said when the page shows something unexpected (a state part that failed, say).
    for log in SERVER_LOGS:
        try:
            lines = log.read_text(errors="replace").splitlines()
        except OSError:
            continue
        state[f"log {log.name}"] = [line for line in lines if "ERROR" in line or "Traceback" in line][-10:]
    return state


SERVER_LOGS: list = []
ERROR_HOOK = """if (!window.__errors) { window.__errors = [];
    window.addEventListener('error', (e) => window.__errors.push(String(e.message)));
    window.addEventListener('unhandledrejection', (e) => window.__errors.push(String(e.reason))); }"""


SHOWN = """(() => { const r = window.councilReader;
    const wrap = document.querySelector('.reader-pane.is-active .page-wrap');
    return r && r.current && r.current.documentId === %d && r.current.page === %d && wrap
        && wrap.dataset.page === '%d'; })()"""

DRAWN_PIXELS = """(() => { const c = document.querySelector(%r);
    if (!c || !c.width || !c.height) return 0;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && (d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200)) n++;
    return n; })()"""
PAGE_CANVAS = ".reader-pane.is-active .page-wrap canvas"
INK_CANVAS = ".reader-pane.is-active .annot-overlay canvas"


class Console:
    """The clerk's console socket, spoken from Python (the tablet under test is the WebKit one)."""

    def __init__(self, server, sitting_id: int, user) -> None:
        from websockets.sync.client import connect

        client = Client()
        client.force_login(user)
        cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
        self.ws = connect(
            f"{server.ws_url}/ws/sittings/{sitting_id}/",
            origin=server.url,
            additional_headers={"Cookie": f"{django_settings.SESSION_COOKIE_NAME}={cookie}"},
            open_timeout=10,
            proxy=None,
        ).__enter__()
        self.n = 0

    def send(self, message: dict) -> dict:
        """Send and wait for the answer to this message (events in between are skipped)."""
        self.n += 1
        message = dict(message, id=f"c{self.n}")
        self.ws.send(json.dumps(message))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            reply = json.loads(self.ws.recv(timeout=10))
            if reply.get("re") == message["id"]:
                assert reply.get("type") != "error", reply
                return reply
        raise AssertionError(f"no answer to {message}")

    def close(self) -> None:
        self.ws.close()


def sign_in(driver, server, username: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{server.url}/accounts/login/")
    driver.find_element(By.ID, "id_username").send_keys(username)
    driver.find_element(By.ID, "id_password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait_js(driver, "!location.pathname.startsWith('/accounts/login/')", what="signed in")


def tap(driver, css: str) -> None:
    from selenium.webdriver.common.by import By

    element = driver.find_element(By.CSS_SELECTOR, css)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    element.click()


def draw_stroke(driver) -> None:
    """A pen stroke with W3C pointer actions at viewport coordinates (WebKitWebDriver cannot
    measure a canvas element itself)."""
    from selenium.webdriver.common.actions import interaction
    from selenium.webdriver.common.actions.action_builder import ActionBuilder
    from selenium.webdriver.common.actions.pointer_input import PointerInput

    # The pen tools open as a panel over the page from the reader's bar.
    if driver.execute_script(
        "const t = document.getElementById('reader-tools'); return !!t && !t.checkVisibility();"
    ):
        tap(driver, "#reader-bar [data-action=tools]")
        wait_js(driver, "document.getElementById('reader-tools').checkVisibility()", what="pen tools open")
    tap(driver, "[data-tool=pen]")
    # A point where a finger would touch the canvas itself (not clipped by the page's scroller or
    # covered by the bars), with room for the stroke.
    where = driver.execute_script(f"""const c = document.querySelector({INK_CANVAS!r});
        c.scrollIntoView({{block: 'center'}});
        const r = c.getBoundingClientRect();
        for (let fy = 0.1; fy < 0.9; fy += 0.05) for (let fx = 0.1; fx < 0.6; fx += 0.05) {{
          const x = r.left + r.width * fx, y = r.top + r.height * fy;
          if (y + 90 > innerHeight || x + 170 > innerWidth) continue;
          if (document.elementFromPoint(x, y) === c && document.elementFromPoint(x + 168, y + 84) === c)
            return [Math.round(x), Math.round(y)];
        }}
        return null;""")
    assert where, "no visible part of the page to draw on"
    x, y = where
    actions = ActionBuilder(driver, mouse=PointerInput(interaction.POINTER_MOUSE, "pen"), duration=20)
    actions.pointer_action.move_to_location(x, y).pointer_down()
    for i in range(1, 15):
        actions.pointer_action.move_to_location(x + i * 12, y + i * 6)
    actions.pointer_action.pointer_up()
    actions.perform()


def test_webkit_tablet_reader_follow_back_annotation_and_ballot(daphne_server, webkit):
    driver = webkit
    SERVER_LOGS[:] = [daphne_server.log]
    org = factories.make_small_council()
    sitting = org["sitting"]
    Sitting.objects.filter(pk=sitting.pk).update(
        status=Sitting.Status.OPEN, opened_at=timezone.now(), agenda_published_at=timezone.now()
    )
    sitting.refresh_from_db()
    item = factories.make_agenda_item(
        sitting, title="町税条例の一部を改正する条例について", bill_number="議案第45号"
    )
    path = daphne_server.log.parent / "議案第45号.pdf"
    path.write_bytes(pdfs.japanese_pdf(PAGES, title="議案第45号"))
    document = upload(org, path, title="議案第45号 説明資料")
    AgendaItemDocument.objects.create(agenda_item=item, document=document)
    member = org["members"][4]
    member.user.set_password(PASSWORD)
    member.user.save()
    clerk = org["clerk"].user

    # Sign in through the form and open the sitting's reader: the PDF page is drawn.
    sign_in(driver, daphne_server, member.user.username)
    driver.get(f"{daphne_server.url}/meetings/sittings/{sitting.pk}/reader/")
    wait_js(
        driver,
        "window.councilReader && window.councilLive && window.councilLive.connected",
        what="reader connected",
    )
    console = Console(daphne_server, sitting.pk, clerk)
    try:
        console.send({"type": "document.present", "document_id": document.pk, "page": 1})
        wait_js(driver, SHOWN % (document.pk, 1, 1), what="presented page 1")
        wait_js(driver, DRAWN_PIXELS % PAGE_CANVAS, what="page 1 drawn on the canvas")
        text = driver.execute_script(
            "return document.querySelector('.reader-pane.is-active .textLayer')?.textContent || ''"
        )
        assert "第1頁" in text.replace("\n", "")

        # Following the presenter: the clerk turns the page, the WebKit tablet follows.
        console.send({"type": "page.turn", "page": 2})
        wait_js(driver, SHOWN % (document.pk, 2, 2), what="followed to page 2")
        wait_js(driver, DRAWN_PIXELS % PAGE_CANVAS, what="page 2 drawn")

        # Reading ahead on one's own, then back to the presenter in one tap.
        tap(driver, "[data-action=next]")
        wait_js(driver, SHOWN % (document.pk, 3, 3), what="read ahead to page 3")
        wait_js(
            driver,
            "document.querySelector('.live-back') && !document.querySelector('.live-back').hidden"
            " && document.querySelector('.live-back').offsetParent !== null",
            what="back button shown",
        )
        console.send({"type": "page.turn", "page": 4})
        wait_js(
            driver,
            "document.querySelector('.live-back').textContent.includes('4')",
            what="back button updated",
        )
        assert driver.execute_script("return " + SHOWN % (document.pk, 3, 3)), (
            "the reader left page 3 by itself"
        )
        tap(driver, ".live-back")
        wait_js(driver, SHOWN % (document.pk, 4, 4), what="back with the presenter on page 4")
        console.send({"type": "page.turn", "page": 5})
        wait_js(driver, SHOWN % (document.pk, 5, 5), what="following again on page 5")

        # A pen stroke on the page, kept after a reload. A tablet reaching the platform over plain
        # http on the council's LAN is not a secure context and has no crypto.randomUUID: take it
        # away here, as such a tablet has it (the layer makes its ids from getRandomValues then).
        assert driver.execute_script("return " + DRAWN_PIXELS % INK_CANVAS) == 0
        driver.execute_script("delete Crypto.prototype.randomUUID;")
        assert driver.execute_script("return typeof crypto.randomUUID") == "undefined"
        draw_stroke(driver)
        wait_js(driver, DRAWN_PIXELS % INK_CANVAS, what="ink on the canvas")
        deadline = time.monotonic() + 15
        while not Annotation.objects.filter(member=member.user, kind="pen").exists():
            assert time.monotonic() < deadline, f"the stroke was not saved: {page_state(driver)}"
            time.sleep(0.2)
        stroke = Annotation.objects.get(member=member.user, kind="pen")
        assert stroke.page == 5 and len(stroke.geometry["points"]) > 5

        # The chair puts the question (before the reload, so the tablet finds the vote open).
        from meetings.voting.services import motions, polls

        mark_all_present(sitting, org["members"], clerk)
        chair = org["members"][0]
        motion = motions.motion_create(agenda_item=item, title="議案第45号", by=chair.user)
        poll = polls.poll_open(motion=motion, method="roll_call", by=chair.user)

        driver.refresh()
        wait_js(
            driver,
            "window.councilReader && window.councilLive && window.councilLive.connected",
            what="reader connected after reload",
        )
        wait_js(driver, SHOWN % (document.pk, 5, 5), what="back on the presented page after reload")
        wait_js(driver, DRAWN_PIXELS % INK_CANVAS, what="the stroke drawn again after reload")

        # The ballot: choose, confirm, and the receipt is shown.
        wait_js(
            driver,
            "document.querySelector('[data-voting=\"poll\"] .voting-choices .btn-yes')",
            what="the open vote on the tablet",
        )
        tap(driver, '[data-voting="poll"] .voting-choices .btn-yes')
        tap(driver, '[data-voting="poll"] .voting-confirm .btn-yes')
        wait_js(
            driver, "document.querySelector('[data-voting=\"poll\"] .voting-receipt')", what="the receipt"
        )
        assert Ballot.objects.filter(poll=poll, member=member).count() == 1
    finally:
        console.close()
