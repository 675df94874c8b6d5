"""The reader in Debian's Chromium: a Japanese document is drawn and its text is in the text layer."""

import pytest
from django.utils import timezone

from meetings.models import AgendaItemDocument
from tests import factories
from tests.browser import login_cookie
from tests.documents.helpers import upload

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def canvas_is_drawn(page) -> bool:
    return page.evaluate("""() => {
        const c = document.querySelector('.reader-pane.is-active canvas');
        if (!c || !c.width) return false;
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let dark = 0;
        for (let i = 0; i < d.length; i += 4) { if (d[i] < 128 && d[i + 3] > 0) dark++; }
        return dark > 200;
    }""")


def test_reader_draws_japanese_document(daphne_server, new_context, pdf_files):
    org = factories.make_small_council()
    sitting = org["sitting"]
    sitting.agenda_published_at = timezone.now()
    sitting.save()
    item = factories.make_agenda_item(
        sitting, title="町税条例の一部を改正する条例について", bill_number="議案第45号"
    )
    document = upload(org, pdf_files["base"], title="議案第45号 町税条例の一部改正")
    AgendaItemDocument.objects.create(agenda_item=item, document=document)
    member = org["members"][4].user

    context = new_context()
    context.add_cookies([login_cookie(member, daphne_server)])
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "response",
        lambda r: (
            r.status >= 400 and not r.url.endswith("/favicon.ico") and errors.append(f"{r.status} {r.url}")
        ),
    )
    page.goto(f"{daphne_server.url}/meetings/sittings/{sitting.pk}/reader/")
    page.wait_for_function("() => window.councilReader !== undefined")
    # The document has a "new" badge until it is opened.
    assert page.locator(".reader-doc .badge-new").count() == 1
    # The order of business is in the menu, over the page; choosing a document closes it.
    page.locator("#reader-bar [data-action=menu]").click()
    page.get_by_role("button", name="日程第1").click()
    page.wait_for_selector(".reader-pane.is-active .textLayer span", timeout=20000)
    page.wait_for_function("() => window.councilReader.current.page === 1")
    page.locator("#reader-menu").wait_for(state="hidden")
    assert canvas_is_drawn(page)
    text = page.locator(".reader-pane.is-active .textLayer").inner_text()
    assert "町税条例" in text.replace("\n", "").replace(" ", "")

    # Turning the page dispatches a user-initiated navigate event and draws page 2.
    page.evaluate("""() => { window.navEvents = [];
        document.addEventListener('reader:navigate', (e) => window.navEvents.push(e.detail)); }""")
    page.locator("[data-action=next]").click()
    page.wait_for_function("() => window.navEvents.length > 0")
    detail = page.evaluate("() => window.navEvents[window.navEvents.length - 1]")
    assert detail["page"] == 2 and detail["userInitiated"] is True and detail["documentId"] == document.pk
    # The API turns pages too, not user-initiated.
    page.evaluate("() => window.councilReader.goToPage(3)")
    page.wait_for_function("() => window.navEvents.some((d) => d.page === 3 && d.userInitiated === false)")
    page.wait_for_function(
        "() => document.querySelector('.reader-pane.is-active .page-wrap').dataset.page === '3'"
    )
    assert "四十二億" in page.locator(".reader-pane.is-active .textLayer").inner_text().replace("\n", "")
    assert errors == []


def test_search_hit_opens_the_page_highlighted(daphne_server, new_context, pdf_files):
    org = factories.make_small_council()
    document = upload(org, pdf_files["base"], title="議案第45号")
    context = new_context(viewport={"width": 800, "height": 1100})
    context.add_cookies([login_cookie(org["members"][4].user, daphne_server)])
    page = context.new_page()

    # A scanned page with a JPEG 2000 image is drawn too (pdf.js's image decoders are served locally).
    scan = upload(org, pdf_files["jpeg2000"], title="スキャン")
    page.goto(f"{daphne_server.url}/documents/{scan.pk}/read/")
    page.wait_for_function("() => document.querySelector('.page-wrap').dataset.page === '1'", timeout=20000)
    red = page.evaluate("""() => { const c = document.querySelector('.reader-pane.is-active canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i] > 150 && d[i + 1] < 80) n++; return n; }""")
    assert red > 1000

    page.goto(f"{daphne_server.url}/documents/search/?q=百分の五")
    page.locator(f"a[href^='/documents/{document.pk}/read/?page=2']").click()
    page.wait_for_selector(".textLayer mark.highlight", timeout=20000)
    assert page.evaluate("() => window.councilReader.current") == {
        "documentId": document.pk,
        "versionId": document.current_version.pk,
        "page": 2,
    }
    marks = page.locator(".textLayer mark.highlight").all_inner_texts()
    assert "".join(marks) == "百分の五"
    # The search box in the reader finds it too, and a hit jumps there.
    page.evaluate("() => window.councilReader.goToPage(1)")
    page.wait_for_function("() => document.querySelector('.page-wrap').dataset.page === '1'")
    page.locator("#reader-bar [data-action=menu]").click()
    page.fill("#reader-search-q", "四十二億")
    page.press("#reader-search-q", "Enter")
    page.locator(".search-hit").first.click()
    page.wait_for_function("() => document.querySelector('.page-wrap').dataset.page === '3'")
    page.wait_for_selector(".textLayer mark.highlight")
    assert "".join(page.locator(".textLayer mark.highlight").all_inner_texts()) == "四十二億"


def test_replaced_document_side_by_side_and_swipe(daphne_server, new_context, pdf_files):
    from documents import services

    org = factories.make_small_council()
    sitting = org["sitting"]
    sitting.agenda_published_at = timezone.now()
    sitting.save()
    item = factories.make_agenda_item(sitting)
    first = upload(org, pdf_files["base"], title="議案書")
    second = upload(org, pdf_files["base"], title="説明資料")
    for document in (first, second):
        AgendaItemDocument.objects.create(agenda_item=item, document=document)
    member = org["members"][4].user
    services.receipt_record(user=member, version=first.current_version)
    services.document_replace(
        document=first, path=pdf_files["changed"], original_name="x.pdf", actor=org["clerk"].user
    )

    context = new_context(viewport={"width": 1280, "height": 800})
    context.add_cookies([login_cookie(member, daphne_server)])
    page = context.new_page()
    page.goto(f"{daphne_server.url}/meetings/sittings/{sitting.pk}/reader/?document={first.pk}")
    page.wait_for_selector(".reader-pane.is-active .textLayer span", timeout=20000)
    # The replaced document says so: which version, which pages changed; thumbnails mark them.
    assert page.locator(f".reader-doc[data-document='{first.pk}'] .badge-updated").count() == 0  # opened now
    changes = page.locator(".reader-pane.is-active .pane-changes").inner_text()
    assert "第2版" in changes and "2" in changes and "4" in changes
    assert page.locator(".thumb.is-changed").evaluate_all("els => els.map(e => e.dataset.page)") == ["2", "4"]

    # Swipe left on the page: the next page, as a user-initiated navigation.
    page.evaluate("""() => { window.navEvents = [];
        document.addEventListener('reader:navigate', (e) => window.navEvents.push(e.detail)); }""")
    box = page.locator(".reader-pane.is-active .pane-scroll").bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.8, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, y, steps=4)
    page.mouse.move(box["x"] + box["width"] * 0.2, y, steps=4)
    page.mouse.up()
    page.wait_for_function("() => window.navEvents.some((d) => d.page === 2 && d.userInitiated)")

    # Two documents side by side (from the menu).
    page.locator("#reader-bar [data-action=menu]").click()
    page.locator("[data-action=split]").click()
    page.locator(f".reader-doc[data-document='{second.pk}']").click()
    page.wait_for_function("() => window.councilReader.panes[1].pdf !== null")
    page.wait_for_selector(".reader-pane[data-pane='1'] .textLayer span", timeout=20000)
    boxes = [page.locator(f".reader-pane[data-pane='{i}']").bounding_box() for i in (0, 1)]
    assert boxes[0]["x"] + boxes[0]["width"] <= boxes[1]["x"] + 1  # left and right, not stacked
    assert page.evaluate("() => window.councilReader.current.documentId") == second.pk
    assert page.evaluate("() => window.councilReader.panes[0].current.documentId") == first.pk
