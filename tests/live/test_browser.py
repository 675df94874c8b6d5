"""In Debian's Chromium: the clerk turns pages in the console, two readers follow; one reads ahead
on their own and taps back to the presenter."""

from __future__ import annotations

import pytest
from django.utils import timezone

from meetings.models import AgendaItemDocument, Sitting
from tests import factories
from tests.browser import login_cookie, open_page
from tests.documents import pdfs
from tests.documents.helpers import upload

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGES = [f"第{n}頁 町税条例の一部を改正する条例について、説明資料の本文です。" for n in range(1, 9)]


def shown_page(page) -> str | None:
    return page.evaluate(
        "() => document.querySelector('.reader-pane.is-active .page-wrap')?.dataset.page || null"
    )


def wait_shown(page, number: int, document_id: int) -> None:
    page.wait_for_function(
        """([n, doc]) => {
            const r = window.councilReader;
            const wrap = document.querySelector('.reader-pane.is-active .page-wrap');
            return r && r.current.documentId === doc && r.current.page === n && wrap && wrap.dataset.page === String(n);
        }""",
        arg=[number, document_id],
        timeout=20000,
    )


def test_console_turns_pages_readers_follow_and_one_reads_ahead_then_returns(
    daphne_server, new_context, tmp_path
):
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
    errors: list[str] = []

    clerk_context = new_context()
    clerk_context.add_cookies([login_cookie(org["clerk"].user, daphne_server)])
    console = open_page(clerk_context, f"{daphne_server.url}/meetings/sittings/{sitting.pk}/console/", errors)
    console.wait_for_function("() => window.councilLive && window.councilLive.connected")

    readers = []
    for member in (org["members"][4], org["members"][5]):
        context = new_context(viewport={"width": 1024, "height": 768})
        context.add_cookies([login_cookie(member.user, daphne_server)])
        page = open_page(context, f"{daphne_server.url}/meetings/sittings/{sitting.pk}/reader/", errors)
        try:
            page.wait_for_function(
                "() => window.councilReader && window.councilLive && window.councilLive.connected",
                timeout=60000,
            )
        except Exception as exc:
            state = page.evaluate("""() => ({reader: !!window.councilReader, live: !!window.councilLive,
                connected: !!(window.councilLive && window.councilLive.connected),
                bar: document.querySelector('.live-bar-connection')?.textContent})""")
            raise AssertionError(
                f"reader not ready: {state} errors={errors} console={page.console_log[-20:]}"
            ) from exc
        readers.append(page)
    a, b = readers

    # The clerk presents the document: both readers open it at page 1.
    console.get_by_role("button", name="議案第45号 説明資料").click()
    for page in readers:
        wait_shown(page, 1, document.pk)
    assert "説明者の画面に追従中" in a.locator(".live-bar-follow").inner_text()

    # Page turns from the console (button and thumbnail strip) reach both.
    console.get_by_role("button", name="次のページ").click()
    for page in readers:
        wait_shown(page, 2, document.pk)
    console.locator(".live-thumb[data-page='3']").click()
    for page in readers:
        wait_shown(page, 3, document.pk)
    assert "第3頁" in a.locator(".reader-pane.is-active .textLayer").inner_text().replace("\n", "")

    # Reader B reads ahead on their own: follow mode ends, the way back is offered.
    b.locator("[data-action=next]").click()
    wait_shown(b, 4, document.pk)
    back = b.locator(".live-back")
    back.wait_for(state="visible")
    assert back.locator(".live-back-label").inner_text() == "説明者の画面に戻る(3ページ)"
    assert "自分で閲覧中" in back.inner_text()
    # The console sees who is reading on their own.
    console.wait_for_function(
        "() => document.querySelector('.live-people')?.textContent.includes('各自で閲覧中')"
    )

    # The presenter moves on: A follows, B stays where they are reading, and their button updates.
    console.get_by_role("button", name="次のページ").click()
    wait_shown(a, 4, document.pk)
    console.get_by_role("button", name="次のページ").click()
    wait_shown(a, 5, document.pk)
    b.wait_for_function("() => document.querySelector('.live-back').textContent.includes('5ページ')")
    assert shown_page(b) == "4"

    # One tap and B is back with the presenter, following again.
    back.click()
    wait_shown(b, 5, document.pk)
    assert back.is_hidden()
    console.get_by_role("button", name="次のページ").click()
    for page in readers:
        wait_shown(page, 6, document.pk)
    assert errors == []


def test_console_held_arrow_key_flips_through_pages_without_flooding(daphne_server, new_context, tmp_path):
    """Holding → in the console moves through the pages at once, but the turns sent are coalesced
    (the latest page, a few times a second), so a held key neither floods the socket nor gets
    stuck re-sending the page after the confirmed one."""
    org = factories.make_small_council()
    sitting = org["sitting"]
    Sitting.objects.filter(pk=sitting.pk).update(
        status=Sitting.Status.OPEN, opened_at=timezone.now(), agenda_published_at=timezone.now()
    )
    item = factories.make_agenda_item(sitting, title="予算書", bill_number="議案第50号")
    path = tmp_path / "予算書.pdf"
    path.write_bytes(pdfs.japanese_pdf([f"第{n}頁" for n in range(1, 61)], title="予算書"))
    document = upload(org, path, title="議案第50号 予算書")
    AgendaItemDocument.objects.create(agenda_item=item, document=document)
    errors: list[str] = []
    context = new_context()
    context.add_cookies([login_cookie(org["clerk"].user, daphne_server)])
    console = open_page(context, f"{daphne_server.url}/meetings/sittings/{sitting.pk}/console/", errors)
    console.wait_for_function("() => window.councilLive && window.councilLive.connected")
    console.locator(f".live-doc[data-document='{document.pk}']").first.click()
    console.wait_for_function("() => document.querySelector('.live-page').textContent === '1'")
    console.evaluate("""() => {
        const socket = window.councilLive, send = socket.send.bind(socket);
        window.turnsSent = 0;
        socket.send = (m) => { if (m.type === 'page.turn') window.turnsSent += 1; return send(m); };
    }""")
    for _ in range(45):  # a key held down: one keydown per auto-repeat, faster than any round trip
        console.keyboard.press("ArrowRight")
    console.wait_for_function(
        "() => document.querySelector('.live-page').textContent === '46'", timeout=10000
    )
    sent = console.evaluate("() => window.turnsSent")
    assert 1 <= sent < 45, sent
    assert console.locator(".live-error").inner_text() == ""
    for _ in range(3):
        console.keyboard.press("ArrowLeft")
    console.wait_for_function(
        "() => document.querySelector('.live-page').textContent === '43'", timeout=10000
    )
    assert errors == []
