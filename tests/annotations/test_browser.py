"""The annotation layer and offline packets in Debian's Chromium against a real daphne server."""

import datetime

import pytest
from django.utils import timezone

from documents.annotations.models import Annotation, OfflineDevice
from meetings.models import AgendaItemDocument
from tests import factories
from tests.annotations.helpers import make_document
from tests.browser import login_cookie, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def open_reader(context, server, document, **query):
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    suffix = "&".join(f"{k}={v}" for k, v in query.items())
    page.goto(f"{server.url}/documents/{document.pk}/read/" + (f"?{suffix}" if suffix else ""))
    # Generous: the first page load also installs the Service Worker and pdf.js.
    page.wait_for_selector(".reader-pane.is-active .annot-overlay canvas", state="attached", timeout=45000)
    return page, errors


def ink_pixels(page) -> int:
    """Pixels drawn on the annotation canvas of the active pane."""
    return page.evaluate("""() => {
        const c = document.querySelector('.reader-pane.is-active .annot-overlay canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
        return n;
    }""")


def open_tools(page):
    """The pen tools open as a panel over the page from the reader's bar."""
    if page.locator("#reader-tools").is_hidden():
        page.locator("#reader-bar [data-action=tools]").click()
        page.locator("#reader-tools").wait_for(state="visible")


def below_tools(page) -> float:
    """The first y on the page that the open pen panel does not cover."""
    return (
        page.locator("#reader-tools").bounding_box()["y"]
        + page.locator("#reader-tools").bounding_box()["height"]
    )


def open_menu(page):
    if page.locator("#reader-menu").is_hidden():
        page.locator("#reader-bar [data-action=menu]").click()
        page.locator("#reader-menu").wait_for(state="visible")


def draw_stroke(page):
    open_tools(page)
    page.locator("[data-tool=pen]").click()
    box = page.locator(".reader-pane.is-active .annot-overlay canvas").bounding_box()
    x, y = box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.2
    page.mouse.move(x, y)
    page.mouse.down()
    for i in range(1, 15):
        page.mouse.move(x + i * 12, y + i * 6)
    page.mouse.up()


def test_annotation_browser_stroke_private_and_on_every_device(daphne_server, new_context):
    org = factories.make_small_council()
    document = make_document(org["council"], org["plenary"], pages=2)
    author, other = org["members"][4].user, org["members"][5].user

    context = new_context()
    context.add_cookies([login_cookie(author, daphne_server)])
    page, errors = open_reader(context, daphne_server, document)
    page.evaluate("""() => { window.navEvents = [];
        document.addEventListener('reader:navigate', (e) => window.navEvents.push(e.detail)); }""")
    assert ink_pixels(page) == 0
    draw_stroke(page)
    assert ink_pixels(page) > 50
    assert wait_for(lambda: Annotation.objects.filter(member=author, kind="pen").exists())
    stroke = Annotation.objects.get(member=author)
    assert stroke.page == 1 and len(stroke.geometry["points"]) > 5
    assert all(0 <= p[0] <= 1 and 0 <= p[1] <= 1 for p in stroke.geometry["points"])
    # A pen stroke is not navigation: a member following the presenter stays in follow mode.
    assert page.evaluate("() => window.navEvents.length") == 0
    assert errors == []

    # The same member on another device (a new browser context) sees the stroke.
    again = new_context(viewport={"width": 900, "height": 700})
    again.add_cookies([login_cookie(author, daphne_server)])
    page2, _ = open_reader(again, daphne_server, document)
    page2.wait_for_function(
        """() => {
        const c = document.querySelector('.reader-pane.is-active .annot-overlay canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) return true;
        return false; }""",
        timeout=10000,
    )

    # Another member sees nothing.
    stranger = new_context()
    stranger.add_cookies([login_cookie(other, daphne_server)])
    with stranger.expect_event(
        "response", lambda r: "/documents/annotations/api/versions/" in r.url
    ) as loaded:
        page3, _ = open_reader(stranger, daphne_server, document)
    # First what did happen: the stranger's annotation layer asked for the notes and was answered
    # (an empty list); only then does "no ink" mean the stroke was not shown, not "not loaded yet".
    assert loaded.value.ok
    body = page3.evaluate(f"""() => fetch('/documents/annotations/api/versions/{document.current_version.pk}/')
        .then((r) => r.text())""")
    assert '"annotations": []' in body
    assert ink_pixels(page3) == 0


def test_offline_packet_read_and_note_synced_when_back_online(daphne_server, new_context):
    org = factories.make_small_council()
    sitting = org["sitting"]
    item = factories.make_agenda_item(sitting, title="町税条例の一部改正について", bill_number="議案第45号")
    document = make_document(org["council"], org["plenary"], pages=2)
    AgendaItemDocument.objects.create(agenda_item=item, document=document)
    closed = make_document(org["council"], org["plenary"], title="秘密会資料", visibility="closed")
    AgendaItemDocument.objects.create(agenda_item=item, document=closed)
    member = org["members"][4].user
    version = document.current_version

    context = new_context()
    context.add_cookies([login_cookie(member, daphne_server)])
    page = context.new_page()
    page.goto(f"{daphne_server.url}/documents/annotations/offline/")
    page.locator("#packet-download").click()
    page.wait_for_selector("#offline-packet[data-state=ready]", timeout=30000)
    assert page.evaluate(
        "() => { const p = document.getElementById('packet-progress'); return p.value === p.max; }"
    )
    cached = page.evaluate("""() => caches.open('council-packet-v1').then((c) => c.keys())
        .then((keys) => keys.map((r) => new URL(r.url).pathname))""")
    assert f"/documents/versions/{version.pk}/file" in cached
    assert f"/documents/versions/{closed.current_version.pk}/file" not in cached  # never offline
    device = OfflineDevice.objects.get(member=member)
    assert device.expires_at is not None

    # The network goes away: the browser is offline and the server is down.
    context.set_offline(True)
    daphne_server.stop()
    page.goto(f"{daphne_server.url}/documents/{document.pk}/read/?page=1&version={version.pk}")
    page.wait_for_selector(".reader-pane.is-active .annot-overlay canvas", state="attached", timeout=20000)
    open_tools(page)
    page.locator("[data-tool=note]").click()
    box = page.locator(".reader-pane.is-active .annot-overlay canvas").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.5, max(box["y"], below_tools(page)) + 40)
    page.locator("#annot-note-text").fill("電車で確認:第2条の税率")
    page.locator(".annot-dialog button[value=save]").click()
    page.wait_for_selector(".annot-note", timeout=5000)
    page.wait_for_function("() => document.querySelector('.annot-status').classList.contains('offline')")
    assert not Annotation.objects.filter(member=member).exists()

    # Back online: the note reaches the server once.
    daphne_server.start()
    context.set_offline(False)
    assert wait_for(lambda: Annotation.objects.filter(member=member, kind="note").exists(), timeout=20)
    note = Annotation.objects.get(member=member, kind="note")
    assert note.text == "電車で確認:第2条の税率" and note.version == version and note.page == 1
    page.reload()
    page.wait_for_selector(".annot-note", timeout=10000)
    assert Annotation.objects.filter(member=member).count() == 1


def _download_packet(page, server):
    page.goto(f"{server.url}/documents/annotations/offline/")
    page.locator("#packet-download").click()
    page.wait_for_selector("#offline-packet[data-state=ready]", timeout=30000)


def _council_caches(page) -> list:
    return page.evaluate("() => caches.keys().then((k) => k.filter((n) => n.startsWith('council-')))")


def test_offline_copy_removed_on_revocation_and_at_sign_out(daphne_server, new_context):
    org = factories.make_small_council()
    item = factories.make_agenda_item(org["sitting"])
    document = make_document(org["council"], org["plenary"], pages=1)
    AgendaItemDocument.objects.create(agenda_item=item, document=document)
    member = org["members"][4].user

    context = new_context()
    context.add_cookies([login_cookie(member, daphne_server)])
    page = context.new_page()
    withdrawn = make_document(org["council"], org["plenary"], title="撤回される資料", pages=1)
    AgendaItemDocument.objects.create(agenda_item=item, document=withdrawn)
    _download_packet(page, daphne_server)
    assert "council-packet-v1" in _council_caches(page)
    withdrawn_file = f"/documents/versions/{withdrawn.current_version.pk}/file"
    cached_files = """() => caches.open('council-packet-v1').then((c) => c.keys())
        .then((keys) => keys.map((r) => new URL(r.url).pathname))"""
    assert withdrawn_file in page.evaluate(cached_files)
    # The secretariat withdraws one document: the device drops it when it next connects.
    withdrawn.release_state = "withdrawn"
    withdrawn.save()
    page.reload()
    page.wait_for_function(f"() => ({cached_files})().then((paths) => !paths.includes('{withdrawn_file}'))")
    assert f"/documents/versions/{document.current_version.pk}/file" in page.evaluate(cached_files)
    # A document released after the download: the member is told to download again.
    fresh = make_document(org["council"], org["plenary"], title="追加資料", pages=1)
    AgendaItemDocument.objects.create(agenda_item=item, document=fresh)
    page.reload()
    page.wait_for_function("""() => document.getElementById('packet-status').textContent
        === document.getElementById('offline-packet').dataset.msgPacketStale""")
    # Expired by the device's own clock (this works offline too): the copy goes at the next page load.
    past = (timezone.now() - datetime.timedelta(minutes=1)).isoformat()
    page.evaluate(
        """(past) => new Promise((resolve) => {
        const req = indexedDB.open('council-offline', 1);
        req.onsuccess = () => { const tx = req.result.transaction('meta', 'readwrite');
            tx.objectStore('meta').put(past, 'expires_at'); tx.oncomplete = () => { req.result.close(); resolve(); }; };
    })""",
        past,
    )
    page.reload()
    page.wait_for_function("""() => document.getElementById('packet-status').textContent
        === document.getElementById('offline-packet').dataset.msgExpired""")
    assert "council-packet-v1" not in _council_caches(page)
    page.evaluate(
        "() => new Promise((r) => { const q = indexedDB.deleteDatabase('council-offline'); q.onsuccess = q.onerror = r; })"
    )
    _download_packet(page, daphne_server)
    # An administrator revokes the member's devices; the device learns it when it next connects.
    from documents.annotations.services import devices_revoke

    devices_revoke(actor=org["admin"], member=member)
    page.reload()
    page.wait_for_function("() => document.getElementById('packet-status').textContent.length > 0")
    assert _council_caches(page) == []
    assert wait_for(lambda: OfflineDevice.objects.filter(member=member, wiped_at__isnull=False).exists())

    # A fresh download on a new device id, then signing out removes it too.
    page.evaluate(
        "() => new Promise((r) => { const q = indexedDB.deleteDatabase('council-offline'); q.onsuccess = q.onerror = r; })"
    )
    _download_packet(page, daphne_server)
    assert "council-packet-v1" in _council_caches(page)
    page.locator("form.logout button[type=submit]").click()
    page.wait_for_url("**/accounts/login/**")
    page.wait_for_function("() => caches.keys().then((k) => !k.some((n) => n.startsWith('council-')))")


def test_annotation_browser_highlighter_undo_eraser_bookmark(daphne_server, new_context):
    org = factories.make_small_council()
    document = make_document(org["council"], org["plenary"], pages=2)
    author = org["members"][4].user
    context = new_context()
    context.add_cookies([login_cookie(author, daphne_server)])
    page, errors = open_reader(context, daphne_server, document)
    live = Annotation.objects.filter(member=author, deleted_at__isnull=True)

    draw_stroke(page)  # pen
    page.locator("[data-colour='#fbc02d']").click()
    page.locator("[data-tool=highlighter]").click()
    box = page.locator(".reader-pane.is-active .annot-overlay canvas").bounding_box()
    top = max(box["y"], below_tools(page)) + 20
    page.mouse.move(box["x"] + 60, top)
    page.mouse.down()
    page.mouse.move(box["x"] + 300, top + 2, steps=8)
    page.mouse.up()
    assert wait_for(lambda: live.count() == 2)
    highlight = live.get(kind="highlighter")
    assert highlight.colour == "#fbc02d" and highlight.geometry["width"] > 0.01

    page.locator("[data-annot=undo]").click()  # takes back the highlighter stroke
    assert wait_for(lambda: live.count() == 1 and live.get().kind == "pen")

    page.locator("[data-tool=eraser]").click()
    pen = live.get()
    x, y = pen.geometry["points"][3][:2]
    page.mouse.click(box["x"] + x * box["width"], box["y"] + y * box["height"])
    assert wait_for(lambda: live.count() == 0)
    assert Annotation.objects.filter(member=author).count() == 2  # tombstones, for other devices

    page.locator("[data-annot=bookmark]").click()
    page.wait_for_selector("[data-annot=bookmark][aria-pressed=true]")
    assert author.bookmarks.get().page == 1
    # The export is a button that starts a job (tests/annotations/test_export_browser.py follows it).
    assert page.locator("[data-annot=export]").get_attribute("aria-controls") == "annot-export"

    # A note from the keyboard alone (no pointer): it goes at the top left of the page.
    page.locator("[data-tool=note]").focus()
    page.keyboard.press("Enter")
    page.locator("#annot-note-text").wait_for()
    page.keyboard.type("キーボードで追加")
    page.locator(".annot-dialog button[value=save]").focus()
    page.keyboard.press("Enter")
    assert wait_for(lambda: Annotation.objects.filter(member=author, text="キーボードで追加").exists())
    assert errors == []


def test_annotation_browser_reader_search_finds_own_notes(daphne_server, new_context):
    import uuid

    from documents.annotations.services import annotations_sync

    org = factories.make_small_council()
    document = make_document(org["council"], org["plenary"], pages=3)
    author, other = org["members"][4].user, org["members"][5].user
    annotations_sync(
        member=author,
        changes=[
            {
                "client_id": str(uuid.uuid4()),
                "version": document.current_version.pk,
                "page": 3,
                "kind": "note",
                "geometry": {"x": 0.5, "y": 0.5},
                "text": "補正予算の財源を質問する",
            }
        ],
    )
    context = new_context()
    context.add_cookies([login_cookie(author, daphne_server)])
    page, errors = open_reader(context, daphne_server, document)
    open_menu(page)
    page.fill("#reader-search-q", "財源")
    page.locator(".reader-search button[type=submit]").click()
    hit = page.locator(".annot-search .search-hit")
    hit.wait_for(timeout=10000)
    assert "補正予算の財源を質問する" in hit.inner_text()
    hit.click()
    page.wait_for_function("() => window.councilReader.current.page === 3")
    page.wait_for_selector(".reader-pane.is-active .annot-note", timeout=10000)

    stranger = new_context()
    stranger.add_cookies([login_cookie(other, daphne_server)])
    page2, _ = open_reader(stranger, daphne_server, document)
    open_menu(page2)
    page2.fill("#reader-search-q", "財源")
    with page2.expect_response(lambda r: "/documents/annotations/api/notes/search/" in r.url) as answered:
        page2.locator(".reader-search button[type=submit]").click()
    # First what did happen: the notes search ran for the stranger and found nothing of theirs.
    assert answered.value.ok and answered.value.json()["hits"] == []
    page2.wait_for_selector(".reader-search-results > *", timeout=10000)  # the document search answered too
    assert page2.locator(".annot-search .search-hit").count() == 0
    assert "補正予算" not in page2.content()


def test_offline_browser_conflict_keeps_both_texts(daphne_server, new_context):
    import uuid

    from documents.annotations.services import annotations_sync

    org = factories.make_small_council()
    document = make_document(org["council"], org["plenary"], pages=1)
    member = org["members"][4].user
    version = document.current_version
    client_id = str(uuid.uuid4())
    note = {
        "client_id": client_id,
        "version": version.pk,
        "page": 1,
        "kind": "note",
        "geometry": {"x": 0.3, "y": 0.1},
        "text": "原文",
    }
    annotations_sync(member=member, changes=[note])

    context = new_context()
    context.add_cookies([login_cookie(member, daphne_server)])
    page, errors = open_reader(context, daphne_server, document)
    page.wait_for_selector(".annot-note", timeout=10000)
    context.set_offline(True)
    page.locator(".annot-note").click()
    page.locator("#annot-note-text").fill("タブレットで修正")
    page.locator(".annot-dialog button[value=save]").click()
    page.wait_for_function("() => document.querySelector('.annot-status').classList.contains('offline')")
    # The tablet's edit is stamped before it is drawn: wait for it, so the phone's edit is later.
    page.wait_for_function(
        "() => [...document.querySelectorAll('.annot-note')].some((e) => e.title === 'タブレットで修正')"
    )
    page.wait_for_timeout(50)
    # Later, the same note is changed on the member's phone, which is online.
    annotations_sync(member=member, changes=[dict(note, text="スマホで修正", base_revision=1)])
    context.set_offline(False)
    assert wait_for(lambda: Annotation.objects.filter(member=member, conflict_of__isnull=False).exists())
    winner = Annotation.objects.get(client_id=client_id)
    copy = Annotation.objects.get(conflict_of=winner)
    assert (winner.text, copy.text) == ("スマホで修正", "タブレットで修正")
    page.wait_for_selector(".annot-note.conflict", timeout=10000)
    assert page.locator(".annot-note").count() == 2
    labels = page.locator(".annot-note").evaluate_all("(els) => els.map((e) => e.title).sort()")
    assert labels == sorted(["スマホで修正", "タブレットで修正"])
    assert errors == []
