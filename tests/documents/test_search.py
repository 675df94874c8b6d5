"""Japanese full-text search: substrings, across line breaks, only what the user may see."""

from django.test import Client
from django.urls import reverse

from documents import selectors, services
from documents.models import Document
from tests.documents.helpers import upload


def test_japanese_substring_search(org, pdf_files):
    document = upload(org, pdf_files["base"], title="町税条例")
    member = org["members"][3].user
    hits = selectors.search_pages(member, "百分の五")
    assert [(h.document.pk, h.page) for h in hits] == [(document.pk, 2)]
    assert "<mark>百分の五</mark>" in hits[0].snippet
    # A substring inside a word, and spaces in the query are ignored (Japanese has none).
    assert [h.page for h in selectors.search_pages(member, "税条")] == [1]
    assert [h.page for h in selectors.search_pages(member, "四十二 億")] == [3]
    # Full-width letters and digits match their ASCII forms (NFKC), both ways.
    assert selectors.search_pages(member, "令和９年")[0].page == 2
    assert selectors.search_pages(member, "存在しない語句") == []
    assert selectors.search_pages(member, "   ") == []


def test_search_respects_visibility(org, pdf_files):
    draft = upload(org, pdf_files["base"], title="下書き", release_now=False)
    secret = upload(
        org,
        pdf_files["base"],
        title="秘密会資料",
        body=org["committee"],
        visibility=Document.Visibility.CLOSED_SESSION,
    )
    on_committee = org["members"][4].user
    not_on_committee = org["members"][8].user
    assert {h.document.pk for h in selectors.search_pages(on_committee, "百分の五")} == {secret.pk}
    assert selectors.search_pages(not_on_committee, "百分の五") == []
    clerk_hits = {h.document.pk for h in selectors.search_pages(org["clerk"].user, "百分の五")}
    assert clerk_hits == {draft.pk, secret.pk}


def test_search_finds_only_current_versions(org, pdf_files):
    document = upload(org, pdf_files["base"])
    services.document_replace(
        document=document, path=pdf_files["changed"], original_name="x.pdf", actor=org["clerk"].user
    )
    member = org["members"][3].user
    assert selectors.search_pages(member, "百分の五") == []
    assert [h.page for h in selectors.search_pages(member, "百分の四")] == [2]


def test_search_pages(org, pdf_files):
    document = upload(org, pdf_files["base"], title="議案書")
    client = Client()
    client.force_login(org["members"][3].user)
    response = client.get(reverse("documents:search"), {"q": "百分の五"})
    assert response.status_code == 200
    content = response.content.decode()
    assert f"/documents/{document.pk}/read/?page=2&amp;q=%E7%99%BE" in content
    assert "<mark>百分の五</mark>" in content
    data = client.get(reverse("documents:search_json"), {"q": "百分の五"}).json()
    assert data["hits"][0]["page"] == 2 and data["hits"][0]["version"] == document.current_version.pk
    assert Client().get(reverse("documents:search_json"), {"q": "百分の五"}).json()["hits"] == []
