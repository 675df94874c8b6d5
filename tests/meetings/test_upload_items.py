"""#12: uploading a sitting's documents by agenda item: the item is chosen by its bill number,
defaults to the one being prepared, and a document can be moved to another item later."""

from __future__ import annotations

import pytest
from django.urls import reverse

from council.errors import Refused
from council.models import AuditEntry
from documents import services as document_services
from meetings import services
from meetings.live.models import LiveState
from meetings.models import AgendaItemDocument, Sitting
from tests.documents.helpers import upload
from tests.factories import make_agenda_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def filed(org, pdf_files):
    sitting = org["sitting"]
    first = make_agenda_item(sitting, title="町税条例の一部改正について", bill_number="議案第45号")
    second = make_agenda_item(sitting, title="一般会計補正予算(第3号)", bill_number="議案第46号")
    document = upload(org, pdf_files["base"], title="議案第46号 補正予算書")
    AgendaItemDocument.objects.create(
        agenda_item=first, document=document, position=1
    )  # filed under the wrong item
    return dict(org, sitting=sitting, first=first, second=second, document=document)


@pytest.fixture
def pdf_files(tmp_path):
    from tests.documents import pdfs

    return {"base": pdfs.write(tmp_path, "補正予算書.pdf", pdfs.japanese_pdf(["補正予算の概要です。"]))}


def test_upload_item_moved_to_another_item_by_the_service(filed):
    clerk = filed["clerk"].user
    link = services.agenda_document_move(
        actor=clerk, sitting=filed["sitting"], document_id=filed["document"].pk, to_item=filed["second"]
    )
    assert link.agenda_item == filed["second"] and link.position == 1
    assert not AgendaItemDocument.objects.filter(agenda_item=filed["first"]).exists()
    entry = AuditEntry.objects.get(action="meetings.document_moved")
    assert (entry.data["from"], entry.data["to"]) == (filed["first"].pk, filed["second"].pk)


@pytest.fixture
def english():
    from django.utils import translation

    with translation.override("en"):
        yield


def test_upload_item_move_refusals_change_nothing(filed, org, english):
    clerk, sitting = filed["clerk"].user, filed["sitting"]
    other_sitting_item = make_agenda_item(
        type(sitting).objects.create(
            session=sitting.session,
            body=org["committee"],
            number=90,
            date=sitting.date,
            start_time=sitting.start_time,
            place="委員会室",
        )
    )
    cases = [
        (filed["first"], "already on that item"),
        (other_sitting_item, "Choose an item of this sitting"),
        (None, "Choose an item of this sitting"),
    ]
    for to_item, message in cases:
        with pytest.raises(Refused, match=message):
            services.agenda_document_move(
                actor=clerk, sitting=sitting, document_id=filed["document"].pk, to_item=to_item
            )
    with pytest.raises(Refused, match="not on this sitting's order of business"):
        services.agenda_document_move(
            actor=clerk, sitting=sitting, document_id=999999, to_item=filed["second"]
        )
    Sitting.objects.filter(pk=sitting.pk).update(status=Sitting.Status.CLOSED)
    with pytest.raises(Refused, match="closed or cancelled"):
        services.agenda_document_move(
            actor=clerk, sitting=sitting, document_id=filed["document"].pk, to_item=filed["second"]
        )
    assert AgendaItemDocument.objects.get(document=filed["document"]).agenda_item == filed["first"]
    assert not AuditEntry.objects.filter(action="meetings.document_moved").exists()


def test_upload_item_chosen_by_bill_number_and_defaults_to_the_item_being_prepared(client, filed):
    client.cookies["django_language"] = "ja"
    client.force_login(filed["clerk"].user)
    url = reverse("meetings:reader:upload", args=[filed["sitting"].pk])
    page = client.get(url).content.decode()
    assert "議案第46号 一般会計補正予算(第3号)" in page
    assert "案件を選んでください" in page  # no default: the clerk chooses
    page = client.get(url, {"item": filed["second"].pk}).content.decode()
    assert f'<option value="{filed["second"].pk}" selected>' in page
    # In the live sitting, the item on the floor is the default.
    LiveState.objects.update_or_create(sitting=filed["sitting"], defaults={"agenda_item": filed["first"]})
    page = client.get(url).content.decode()
    assert f'<option value="{filed["first"].pk}" selected>' in page
    # The order of business links each item to its upload.
    agenda = client.get(reverse("meetings:agenda_edit", args=[filed["sitting"].pk])).content.decode()
    assert f"{url}?item={filed['second'].pk}" in agenda


def test_upload_item_move_through_the_page(client, filed):
    client.cookies["django_language"] = "ja"
    client.force_login(filed["clerk"].user)
    sitting, document = filed["sitting"], filed["document"]
    page = client.get(reverse("meetings:reader:upload", args=[sitting.pk])).content.decode()
    move_url = reverse("meetings:agenda_document_move", args=[sitting.pk, document.pk])
    assert f'action="{move_url}"' in page
    response = client.post(
        move_url, {"from_item": filed["first"].pk, "to_item": filed["second"].pk}, follow=True
    )
    assert "を日程第2に移しました" in response.content.decode()
    assert AgendaItemDocument.objects.get(document=document).agenda_item == filed["second"]
    refused = client.post(move_url, {"from_item": filed["second"].pk, "to_item": "x"}, follow=True)
    assert "資料の移動先として" in refused.content.decode()
    member = filed["members"][4].user
    client.force_login(member)
    assert client.post(move_url, {"to_item": filed["first"].pk}).status_code in (403, 404)
    assert AgendaItemDocument.objects.get(document=document).agenda_item == filed["second"]


def test_upload_item_document_withdrawn_and_moved_stays_out_of_the_console(filed):
    from meetings.live.selectors import console_documents

    document_services.document_withdraw(document=filed["document"], actor=filed["clerk"].user)
    assert console_documents(sitting=filed["sitting"], user=filed["clerk"].user) == []
