"""The sitting reader's page carries what is presented (and the members' seq) for those who may
follow the sitting, so a member joining draws the presented page before the socket answers; nobody
else learns it from the page."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from council.models import Person
from documents.models import Document, DocumentVersion
from documents.reader import WHOLE_FILE_MAX
from meetings.live import permissions as live_permissions
from meetings.live.models import LiveState
from meetings.models import AgendaItemDocument, Sitting
from tests import factories
from tests.documents import pdfs
from tests.documents.helpers import upload

pytestmark = pytest.mark.django_db


def embedded(user, sitting) -> dict | None:
    client = Client()
    client.force_login(user)
    response = client.get(f"/meetings/sittings/{sitting.pk}/reader/")
    assert response.status_code == 200
    html = response.content.decode()
    start = html.index('<script id="live-presented" type="application/json">') + len(
        '<script id="live-presented" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def test_reader_page_embeds_the_presented_page_for_followers_only(tmp_path):
    org = factories.make_small_council()
    sitting = org["sitting"]
    member = org["members"][4].user
    assert embedded(member, sitting) is None  # nothing presented yet

    path = tmp_path / "議案.pdf"
    path.write_bytes(pdfs.japanese_pdf(["第1頁", "第2頁", "第3頁"], title="議案"))
    document = upload(org, path, title="議案第1号")
    LiveState.objects.update_or_create(
        sitting=sitting,
        defaults={"document": document, "version": document.current_version, "page": 2, "seq": 41},
    )
    data = embedded(member, sitting)
    assert data["seq"] == 41
    assert data["presentation"]["document_id"] == document.pk
    assert data["presentation"]["version_id"] == document.current_version.pk
    assert data["presentation"]["page"] == 2

    # An official of another council may open the sitting's page but not follow it: nothing leaks.
    other = factories.make_council(name="猪苗代町議会", municipality="猪苗代町")
    outsider = factories.make_person(other, kind=Person.Kind.OFFICIAL).user
    assert embedded(outsider, sitting) is None


def preloaded(user, sitting) -> list[str]:
    client = Client()
    client.force_login(user)
    html = client.get(f"/meetings/sittings/{sitting.pk}/reader/").content.decode()
    head = html[: html.index("</head>")]
    return re.findall(r'<link rel="preload" href="([^"]+)" as="fetch" crossorigin>', head)


def test_reader_page_preloads_the_presented_file_for_those_who_may_read_it(tmp_path):
    org = factories.make_small_council()
    sitting = org["sitting"]
    Sitting.objects.filter(pk=sitting.pk).update(
        status=Sitting.Status.OPEN, opened_at=timezone.now(), agenda_published_at=timezone.now()
    )
    item = factories.make_agenda_item(sitting, title="町税条例の一部を改正する条例について")
    member = org["members"][4].user
    path = tmp_path / "議案.pdf"
    path.write_bytes(pdfs.japanese_pdf(["第1頁", "第2頁"], title="議案"))
    document = upload(org, path, title="議案第1号")
    AgendaItemDocument.objects.create(agenda_item=item, document=document)
    assert preloaded(member, sitting) == []  # nothing presented yet

    version = document.current_version
    LiveState.objects.update_or_create(
        sitting=sitting, defaults={"document": document, "version": version, "page": 2, "seq": 7}
    )
    # The bytes are on their way with the page's own resources (boot.js's fetch takes them).
    assert preloaded(member, sitting) == [reverse("documents:version_file", args=[version.pk])]

    # Someone who may not follow the sitting learns nothing from the page.
    other = factories.make_council(name="猪苗代町議会", municipality="猪苗代町")
    outsider = factories.make_person(other, kind=Person.Kind.OFFICIAL).user
    assert preloaded(outsider, sitting) == []

    # A large file is read by range as its pages are drawn: not preloaded whole.
    DocumentVersion.objects.filter(pk=version.pk).update(size=WHOLE_FILE_MAX + 1)
    assert preloaded(member, sitting) == []


def test_a_closed_session_paper_is_not_in_the_page_of_an_official_who_may_not_open_it(tmp_path):
    """The page carries what this follower's own socket state would say: executive officials follow
    every sitting but may not open closed-session (秘密会) papers, so nothing of one is in their page."""
    org = factories.make_small_council()
    sitting = org["sitting"]
    Sitting.objects.filter(pk=sitting.pk).update(
        status=Sitting.Status.OPEN, opened_at=timezone.now(), agenda_published_at=timezone.now()
    )
    item = factories.make_agenda_item(sitting, title="人事案件", closed_session=True)
    path = tmp_path / "秘密会資料.pdf"
    path.write_bytes(pdfs.japanese_pdf(["第1頁", "第2頁"], title="秘密会資料"))
    secret = upload(org, path, title="秘密会資料 人事評価", visibility=Document.Visibility.CLOSED_SESSION)
    AgendaItemDocument.objects.create(agenda_item=item, document=secret)
    LiveState.objects.update_or_create(
        sitting=sitting,
        defaults={
            "agenda_item": item,
            "document": secret,
            "version": secret.current_version,
            "page": 2,
            "seq": 12,
        },
    )
    member = org["members"][4].user
    official = org["official"].user
    assert live_permissions.can_follow(official, sitting)
    assert embedded(member, sitting)["presentation"]["title"] == "秘密会資料 人事評価"
    assert embedded(official, sitting) is None
    client = Client()
    client.force_login(official)
    html = client.get(f"/meetings/sittings/{sitting.pk}/reader/").content.decode()
    assert "人事評価" not in html
    assert preloaded(official, sitting) == []
