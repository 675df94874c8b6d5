"""#12: a withdrawn document leaves no traces: its notices say so, opening it gives a translated
410 page to those who could read it (a 404 identical to a missing one to anyone else), the console
and the reader never list it, and withdrawing asks for confirmation first."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from documents import selectors, services
from documents.models import Document, ReplacementNotice
from documents.notices.models import Notice
from meetings.live.selectors import console_documents
from meetings.models import AgendaItemDocument
from meetings.reader import sitting_reader_data
from tests.documents.helpers import upload
from tests.factories import make_agenda_item

pytestmark = pytest.mark.django_db


def ja_client(user=None) -> Client:
    client = Client()
    client.cookies["django_language"] = "ja"
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def withdrawn(org, pdf_files, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        document = upload(org, pdf_files["base"], title="議案第45号 町税条例の一部改正")
    holder = org["members"][3].user
    services.receipt_record(user=holder, version=document.current_version)
    with django_capture_on_commit_callbacks(execute=True):
        services.document_replace(
            document=document, path=pdf_files["changed"], original_name="差替.pdf", actor=org["clerk"].user
        )
    services.document_withdraw(document=document, actor=org["clerk"].user)
    document.refresh_from_db()
    return document


def test_withdrawn_document_opened_by_a_reader_gives_a_japanese_410_page(org, withdrawn):
    client = ja_client(org["members"][4].user)
    for name in ("documents:detail", "documents:read"):
        response = client.get(reverse(name, args=[withdrawn.pk]))
        assert response.status_code == 410
        page = response.content.decode()
        assert "この資料は取り下げられました" in page and "議案第45号 町税条例の一部改正" in page
        assert "Not Found" not in page and 'lang="ja"' in page


def test_withdrawn_document_is_a_plain_404_to_those_who_could_not_read_it(org, withdrawn, pdf_files):
    # A committee document a plenary-only member never could read, then withdrawn: same 404 as a missing id.
    committee_doc = upload(org, pdf_files["base"], body=org["committee"], title="委員会資料")
    services.document_withdraw(document=committee_doc, actor=org["clerk"].user)
    outsider = ja_client(org["members"][9].user)  # not on the committee
    hidden = outsider.get(reverse("documents:detail", args=[committee_doc.pk]))
    missing = outsider.get(reverse("documents:detail", args=[999999]))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content
    assert "ページが見つかりません" in missing.content.decode()
    assert "Not Found" not in missing.content.decode()
    # Anonymous visitors never learn of a withdrawn members' document either.
    assert ja_client().get(reverse("documents:detail", args=[withdrawn.pk])).status_code in (302, 404)


def test_withdrawn_document_never_released_stays_404(org, pdf_files):
    draft = upload(org, pdf_files["base"], release_now=False)
    services.document_withdraw(document=draft, actor=org["clerk"].user)
    assert (
        ja_client(org["members"][4].user).get(reverse("documents:detail", args=[draft.pk])).status_code == 404
    )


def test_withdrawn_document_notices_say_it_was_withdrawn(org, withdrawn):
    holder = org["members"][3].user
    assert not selectors.unread_notices(holder).exists()  # the 差し替え notice goes away
    assert ReplacementNotice.objects.filter(user=holder).exists()  # kept for the record
    notice = Notice.objects.filter(document=withdrawn, kind=Notice.Kind.DOCUMENT_RELEASED).get()
    client = ja_client(org["members"][4].user)
    inbox = client.get(reverse("documents:notices:inbox")).content.decode()
    assert "(取り下げ)" in inbox
    detail = client.get(reverse("documents:notices:detail", args=[notice.pk])).content.decode()
    assert "この資料は事務局により取り下げられたため" in detail
    assert f'href="{notice.link}"' not in detail  # no button to a document that cannot be opened


def test_withdrawn_document_leaves_the_console_and_the_reader(org, pdf_files):
    sitting = org["sitting"]
    item = make_agenda_item(sitting)
    old = upload(org, pdf_files["base"], title="議案書(旧)")
    new = upload(org, pdf_files["changed"], title="議案書(差し替え)")
    for position, document in enumerate((old, new), start=1):
        AgendaItemDocument.objects.create(agenda_item=item, document=document, position=position)
    services.document_withdraw(document=old, actor=org["clerk"].user)
    clerk = org["clerk"].user
    assert [d["id"] for d in console_documents(sitting=sitting, user=clerk)] == [new.pk]
    _agenda, documents = sitting_reader_data(clerk, sitting)
    assert [d["id"] for d in documents] == [new.pk]


def test_withdraw_asks_for_confirmation_first(org, pdf_files):
    document = upload(org, pdf_files["base"])
    client = ja_client(org["clerk"].user)
    url = reverse("documents:release", args=[document.pk])
    asked = client.post(url, {"action": "withdraw"})
    assert asked.status_code == 200 and "この資料を取り下げますか" in asked.content.decode()
    document.refresh_from_db()
    assert document.release_state == Document.Release.RELEASED  # nothing changed yet
    detail = client.get(reverse("documents:detail", args=[document.pk])).content.decode()
    assert 'data-confirm-dialog="withdraw-dialog"' in detail and 'id="withdraw-dialog"' in detail
    client.post(url, {"action": "withdraw", "confirm": "yes"})
    document.refresh_from_db()
    assert document.release_state == Document.Release.WITHDRAWN
