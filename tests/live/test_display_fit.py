"""#12: the chamber display fits the screen (1920×1080 and 1366×768): no scrolling, the whole
presented page visible, with the agenda item, the speaker and a declared result on screen."""

from __future__ import annotations

import pytest
from django.utils import timezone

from documents.models import Document
from meetings.live.models import LiveState
from meetings.models import AgendaItemDocument, Sitting
from tests import factories
from tests.documents import pdfs
from tests.documents.helpers import upload

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGES = [f"第{n}頁 町税条例の一部を改正する条例について、説明資料の本文です。" for n in range(1, 4)]


def _scene(tmp_path):
    org = factories.make_small_council()
    sitting = org["sitting"]
    Sitting.objects.filter(pk=sitting.pk).update(
        status=Sitting.Status.OPEN, opened_at=timezone.now(), agenda_published_at=timezone.now()
    )
    item = factories.make_agenda_item(sitting, title="町税条例の一部改正について", bill_number="議案第45号")
    path = pdfs.write(tmp_path, "議案書.pdf", pdfs.japanese_pdf(PAGES))
    document = upload(org, path, title="議案第45号 説明資料", visibility=Document.Visibility.PUBLIC)
    AgendaItemDocument.objects.create(agenda_item=item, document=document)
    LiveState.objects.update_or_create(
        sitting=sitting,
        defaults={"agenda_item": item, "document": document, "version": document.current_version, "page": 1},
    )
    return org, sitting


@pytest.mark.parametrize("width,height", [(1920, 1080), (1366, 768)])
def test_chamber_display_fits_the_screen(daphne_server, new_context, tmp_path, width, height):
    _org, sitting = _scene(tmp_path)
    context = new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{daphne_server.url}/meetings/sittings/{sitting.pk}/display/")
    page.wait_for_function(
        "() => { const w = document.querySelector('.live-pane .page-wrap');"
        " return w && w.dataset.page === '1' && w.getBoundingClientRect().height > 100; }",
        timeout=20000,
    )
    page.wait_for_timeout(500)  # the fit to the screen follows the first drawing
    page.screenshot(path=f"/tmp/clerkday-display-{width}x{height}.png")
    sizes = page.evaluate("""() => {
        const root = document.scrollingElement;
        const wrap = document.querySelector('.live-pane .page-wrap').getBoundingClientRect();
        const item = document.querySelector('.live-item').getBoundingClientRect();
        return {scrollH: root.scrollHeight, scrollW: root.scrollWidth, innerH: innerHeight, innerW: innerWidth,
                pageTop: wrap.top, pageBottom: wrap.bottom, pageLeft: wrap.left, pageRight: wrap.right,
                itemBottom: item.bottom, scroller: document.querySelector(".live-pane .pane-scroll").clientHeight, doc: document.querySelector(".live-document").getBoundingClientRect().height, body: document.querySelector(".live-public-body").getBoundingClientRect().height, main: document.querySelector("main").getBoundingClientRect().height};
    }""")
    assert sizes["scrollH"] <= sizes["innerH"] and sizes["scrollW"] <= sizes["innerW"], sizes
    # The whole presented page is on the screen, below the agenda item.
    assert sizes["pageTop"] >= sizes["itemBottom"] - 1 and sizes["pageBottom"] <= sizes["innerH"], sizes
    assert sizes["pageLeft"] >= 0 and sizes["pageRight"] <= sizes["innerW"], sizes
    assert errors == []
