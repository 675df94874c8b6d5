"""The sitting reader page: what each user is given (documents payload, agenda, include points)."""

import json
import re

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from documents import services
from documents.models import Document
from meetings.models import AgendaItemDocument
from tests import factories
from tests.documents.helpers import upload


def payload(response, name):
    match = re.search(
        rf'<script id="{name}" type="application/json">(.*?)</script>', response.content.decode(), re.S
    )
    return json.loads(match.group(1))


def setup_sitting(org, pdf_files):
    sitting = org["sitting"]
    sitting.agenda_published_at = timezone.now()
    sitting.save()
    item = factories.make_agenda_item(sitting)
    released = upload(org, pdf_files["base"], title="議案書")
    draft = upload(org, pdf_files["base"], title="下書き", release_now=False)
    for document in (released, draft):
        AgendaItemDocument.objects.create(agenda_item=item, document=document)
    return sitting, item, released, draft


def test_member_sees_released_documents_only(org, pdf_files):
    sitting, item, released, draft = setup_sitting(org, pdf_files)
    services.document_replace(
        document=released, path=pdf_files["changed"], original_name="x.pdf", actor=org["clerk"].user
    )
    client = Client()
    client.force_login(org["members"][3].user)
    response = client.get(reverse("meetings:reader:sitting", args=[sitting.pk]))
    assert response.status_code == 200
    documents = payload(response, "reader-documents")
    assert [d["id"] for d in documents] == [released.pk]
    versions = documents[0]["versions"]
    assert [v["number"] for v in versions] == [2]  # only the current version
    assert versions[0]["url"] == reverse("documents:version_file", args=[versions[0]["id"]])
    assert versions[0]["page_count"] == 4
    assert documents[0]["badge"] == "new"
    agenda = payload(response, "reader-agenda")
    assert agenda[0]["id"] == item.pk and agenda[0]["documents"] == [released.pk]
    config = payload(response, "reader-config")
    assert config["worker"].endswith("vendor/pdfjs/pdf.worker.min.mjs")
    assert config["cmaps"].endswith("vendor/pdfjs/cmaps/")
    content = response.content.decode()
    assert f'data-sitting-id="{sitting.pk}"' in content
    assert "下書き" not in content


def test_clerk_sees_drafts_and_old_versions(org, pdf_files):
    sitting, item, released, draft = setup_sitting(org, pdf_files)
    services.document_replace(
        document=released, path=pdf_files["changed"], original_name="x.pdf", actor=org["clerk"].user
    )
    client = Client()
    client.force_login(org["clerk"].user)
    documents = payload(client.get(reverse("meetings:reader:sitting", args=[sitting.pk])), "reader-documents")
    by_id = {d["id"]: d for d in documents}
    assert set(by_id) == {released.pk, draft.pk}
    assert [v["number"] for v in by_id[released.pk]["versions"]] == [2, 1]
    assert by_id[released.pk]["versions"][0]["changes"]["changed"] == [2]


def test_unpublished_agenda_and_outsiders(org, pdf_files):
    sitting, item, released, draft = setup_sitting(org, pdf_files)
    sitting.agenda_published_at = None
    sitting.save()
    client = Client()
    client.force_login(org["members"][3].user)
    response = client.get(reverse("meetings:reader:sitting", args=[sitting.pk]))
    assert payload(response, "reader-documents") == [] and payload(response, "reader-agenda") == []
    # Not a member of the committee: its sittings' reader is a 404.
    committee_sitting = factories.make_sitting(org["session"], org["committee"])
    client.force_login(org["members"][8].user)
    assert client.get(reverse("meetings:reader:sitting", args=[committee_sitting.pk])).status_code == 404
    assert Client().get(reverse("meetings:reader:sitting", args=[sitting.pk])).status_code == 302


def test_opening_clears_the_badge(org, pdf_files):
    sitting, item, released, draft = setup_sitting(org, pdf_files)
    client = Client()
    client.force_login(org["members"][3].user)
    version = released.current_version
    assert client.post(reverse("documents:opened", args=[version.pk])).json() == {"ok": True}
    documents = payload(client.get(reverse("meetings:reader:sitting", args=[sitting.pk])), "reader-documents")
    assert documents[0]["badge"] == ""
    assert client.post(reverse("documents:opened", args=[draft.current_version.pk])).status_code == 404
    assert Document.objects.count() == 2
