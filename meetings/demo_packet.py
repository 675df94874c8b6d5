"""Demo data, packet step: the documents of the demo sittings, linked to their agenda items.

The documents themselves (WeasyPrint bills, 説明資料, the petition) come from ``documents.demo``;
this step knows the sittings: each entry goes to the agenda items with its bill number, the
plenary's first. Idempotent: a second run finds the documents and links in place.
"""

from __future__ import annotations

from django.utils import timezone

from council.models import Council
from documents import demo as documents_demo
from meetings.models import AgendaItem, AgendaItemDocument


def seed(*, stdout) -> None:
    council = Council.objects.filter(name=documents_demo.COUNCIL_NAME).first()
    if council is None:
        stdout.write("meetings.demo_packet: no demo council, skipped.")
        return
    actor = documents_demo.clerk_of(council)
    created = linked = 0
    for entry in documents_demo.packet(timezone.localdate()):
        items = list(
            AgendaItem.objects.filter(sitting__session__council=council, bill_number=entry["bill"])
            .select_related("sitting__body")
            .order_by("sitting__date", "sitting__body__order")
        )
        if not items:
            continue
        # The plenary's document; committee sittings on the same bill link to it too.
        document, made = documents_demo.demo_document(
            council=council, body=items[0].sitting.body, entry=entry, actor=actor
        )
        created += int(made)
        for item in items:
            _link, made = AgendaItemDocument.objects.get_or_create(
                agenda_item=item,
                document=document,
                defaults={"position": item.document_links.count() + 1},
            )
            linked += int(made)
    stdout.write(f"meetings.demo_packet: {created} documents created, {linked} agenda links.")
