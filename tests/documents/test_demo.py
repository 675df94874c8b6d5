"""The demo packet: realistic Japanese documents (documents.demo) attached to the demo sittings
(meetings.demo_packet), idempotently."""

from io import StringIO

import pytest

from documents.models import Document, Page
from meetings import demo_packet as demo
from meetings.models import AgendaItemDocument


@pytest.mark.slow  # renders and ingests the demo's documents
def test_demo_packet(db, settings):
    import council.demo
    import meetings.demo

    out = StringIO()
    council.demo.seed(stdout=out)
    meetings.demo.seed(stdout=out)
    demo.seed(stdout=out)
    titles = set(Document.objects.values_list("title", flat=True))
    assert "議案第45号 磐梯町税条例の一部を改正する条例" in titles
    assert "補正予算の概要（説明資料）" in titles
    assert all(d.release_state == "released" for d in Document.objects.all())
    tax = Document.objects.get(title__startswith="議案第45号")
    # Linked to the bill in the plenary and in the committee it was referred to.
    assert AgendaItemDocument.objects.filter(document=tax).count() == 2
    assert Page.objects.filter(version__document=tax, search_text__contains="百分の五").exists()
    count, links = Document.objects.count(), AgendaItemDocument.objects.count()
    demo.seed(stdout=out)
    assert (Document.objects.count(), AgendaItemDocument.objects.count()) == (count, links)
    assert "meetings.demo_packet: 0 documents created, 0 agenda links." in out.getvalue()
