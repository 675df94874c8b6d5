"""Annotations are private: no other member, clerk, official, administrator or anonymous visitor
sees them through any page, API, export or admin screen."""

import io
import json
import uuid

import pikepdf
import pytest
from django.test import Client
from django.urls import reverse

from documents.annotations import jobs, selectors, services
from documents.annotations.models import Annotation
from tests.annotations.helpers import add_version, make_document, response_body
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

SECRET = "秘密のメモ: 反対討論の論点"


@pytest.fixture
def setup(org):
    author = org["members"][4].user
    doc = make_document(org["council"], org["plenary"], pages=2)
    old = doc.current_version
    note_id, moved_id = str(uuid.uuid4()), str(uuid.uuid4())
    services.annotations_sync(
        member=author,
        changes=[
            {
                "client_id": note_id,
                "version": old.pk,
                "page": 1,
                "kind": "note",
                "geometry": {"x": 0.2, "y": 0.2},
                "text": SECRET,
                "base_revision": 0,
            },
            {
                "client_id": moved_id,
                "version": old.pk,
                "page": 2,
                "kind": "note",
                "geometry": {"x": 0.2, "y": 0.2},
                "text": SECRET + " (2)",
                "base_revision": 0,
            },
            {
                "client_id": str(uuid.uuid4()),
                "version": old.pk,
                "page": 1,
                "kind": "pen",
                "geometry": {"points": [[0.1, 0.1], [0.3, 0.3]], "width": 0.004},
                "base_revision": 0,
            },
        ],
    )
    services.bookmark_toggle(member=author, version=old, page=2, label=SECRET)
    new = add_version(doc, pages=2)
    services.carry_forward(old=old, new=new, unchanged_pages={1: 1})  # page 2's note now needs review
    export = jobs.export_start(member=author, document=doc)  # the annotated copy, made by the worker
    jobs.run_export(export.pk)
    return {
        "author": author,
        "doc": doc,
        "old": old,
        "new": new,
        "note_id": note_id,
        "flagged_id": moved_id,
        "export_id": export.pk,
    }


def clients(org):
    """Everyone except the author, signed in (or not)."""

    def signed_in(user):
        c = Client()
        assert c.login(username=user.username, password=PASSWORD)
        return c

    return {
        "anonymous": Client(),
        "other member": signed_in(org["members"][5].user),
        "committee chair": signed_in(org["members"][2].user),
        "clerk": signed_in(org["clerk"].user),
        "official": signed_in(org["official"].user),
        "admin": signed_in(org["admin"]),
    }


def endpoints(s):
    doc, old, new = s["doc"], s["old"], s["new"]
    url = lambda name, **kw: reverse(f"documents:annotations:{name}", kwargs=kw)  # noqa: E731
    return [
        ("get", url("api_version", version_id=new.pk)),
        ("get", url("api_version", version_id=old.pk)),
        ("get", url("my_notes")),
        ("get", url("my_notes") + "?q=秘密"),
        ("get", url("api_notes_search") + "?q=秘密"),
        ("get", url("review_list")),
        ("get", url("review_detail", client_id=s["flagged_id"])),
        ("get", url("review_page_image", client_id=s["flagged_id"], which="old")),
        ("get", url("review_page_image", client_id=s["flagged_id"], which="new")),
        ("post", url("export_start", document_id=doc.pk)),
        ("get", url("export_status", pk=s["export_id"])),
        ("get", url("export_page", pk=s["export_id"])),
        ("get", url("export_file", pk=s["export_id"])),
        ("get", url("offline")),
        ("get", url("manage_devices")),
        ("get", "/admin/"),
        ("get", "/admin/annotations/"),
        ("get", "/admin/annotations/annotation/"),
        ("get", "/admin/annotations/bookmark/"),
        ("post", url("review_detail", client_id=s["flagged_id"])),
    ]


def _body(response) -> bytes:
    return response_body(response)


@pytest.mark.parametrize(
    "role", ["anonymous", "other member", "committee chair", "clerk", "official", "admin"]
)
def test_annotation_privacy_for_role(org, setup, role):
    client = clients(org)[role]
    secret_bytes = [
        SECRET.encode("utf-8"),
        SECRET.encode("utf-16-be"),
        setup["note_id"].encode(),
        setup["flagged_id"].encode(),
    ]
    for method, url in endpoints(setup):
        response = getattr(client, method)(url)
        body = _body(response)
        for needle in secret_bytes:
            assert needle not in body, f"{role} saw an annotation at {method.upper()} {url}"
        if setup["flagged_id"] in url:
            assert response.status_code in (302, 403, 404), (role, url, response.status_code)
        if url.endswith(".pdf") and response.status_code == 200:
            with pikepdf.open(io.BytesIO(body)) as pdf:
                assert all("/Annots" not in page.obj for page in pdf.pages)
                for page in pdf.pages:
                    assert "/CouncilHL" not in page.obj.Resources.get("/ExtGState", pikepdf.Dictionary())
    # The sync API cannot reach the author's notes either: the same client id makes the caller's own note.
    if role != "anonymous":
        response = client.post(
            reverse("documents:annotations:api_sync"),
            data=json.dumps(
                {
                    "changes": [
                        {
                            "client_id": setup["note_id"],
                            "version": setup["new"].pk,
                            "page": 1,
                            "kind": "note",
                            "geometry": {"x": 0.5, "y": 0.5},
                            "text": "overwrite",
                            "base_revision": 1,
                        }
                    ]
                }
            ),
            content_type="application/json",
        )
        assert SECRET.encode() not in response.content
    else:
        response = client.post(
            reverse("documents:annotations:api_sync"), data="{}", content_type="application/json"
        )
        assert response.status_code == 403
        assert response.json() == {"error": "Sign in to keep notes."}
    assert Annotation.objects.get(member=setup["author"], client_id=setup["note_id"]).text == SECRET


@pytest.mark.parametrize("role", ["other member", "clerk", "official", "admin"])
def test_annotation_privacy_search_notes_returns_only_own(org, setup, role):
    user = {
        "other member": org["members"][5].user,
        "clerk": org["clerk"].user,
        "official": org["official"].user,
        "admin": org["admin"],
    }[role]
    assert selectors.search_notes(user=user, query="秘密") == []
    found = sorted(h.text for h in selectors.search_notes(user=setup["author"], query="秘密"))
    assert found == [SECRET, SECRET + " (2)"]


def test_annotation_privacy_admin_has_no_annotation_models(org):
    from django.contrib import admin

    from documents.annotations.models import AnnotationExport, Bookmark, OfflineDevice

    for model in (Annotation, Bookmark, OfflineDevice, AnnotationExport):
        assert not admin.site.is_registered(model)


def test_annotation_privacy_audit_never_holds_content(org, setup):
    from council.models import AuditEntry

    for entry in AuditEntry.objects.all():
        dumped = json.dumps(entry.data, ensure_ascii=False)
        assert SECRET not in dumped and setup["note_id"] not in dumped
        assert entry.target_type != "annotations.annotation"


def test_annotation_author_sees_own_everywhere(org, setup):
    client = Client()
    client.login(username=setup["author"].username, password=PASSWORD)
    data = client.get(
        reverse("documents:annotations:api_version", kwargs={"version_id": setup["new"].pk})
    ).json()
    assert [a["text"] for a in data["annotations"] if a["kind"] == "note"] == [SECRET]
    assert SECRET in client.get(reverse("documents:annotations:my_notes") + "?q=反対討論").content.decode()
    review = client.get(
        reverse("documents:annotations:review_detail", kwargs={"client_id": setup["flagged_id"]})
    )
    assert review.status_code == 200
    image = client.get(
        reverse(
            "documents:annotations:review_page_image",
            kwargs={"client_id": setup["flagged_id"], "which": "old"},
        )
    )
    assert image["Content-Type"] == "image/png" and image.content[:4] == b"\x89PNG"
    pdf = client.get(reverse("documents:annotations:export_file", kwargs={"pk": setup["export_id"]}))
    assert pdf.status_code == 200 and pdf["Cache-Control"] == "private, no-store"
    with pikepdf.open(io.BytesIO(_body(pdf))) as out:
        annots = out.pages[0].obj.Annots
        assert str(annots[0].Contents) == SECRET
        assert "/CouncilHL" in out.pages[0].obj.Resources.ExtGState
        content = b"".join(c.read_bytes() for c in out.pages[0].obj.Contents)
        assert b" l S" in content  # the pen stroke is drawn in


@pytest.mark.parametrize("role", ["anonymous", "other member", "clerk", "official", "admin"])
def test_annotation_privacy_notes_search_api(org, setup, role):
    url = reverse("documents:annotations:api_notes_search") + "?q=秘密"
    response = clients(org)[role].get(url)
    assert SECRET.encode() not in response.content
    if role != "anonymous":
        assert response.json()["hits"] == []
    mine = Client()
    mine.login(username=setup["author"].username, password=PASSWORD)
    hits = mine.get(url).json()["hits"]
    assert sorted(h["text"] for h in hits) == [SECRET, SECRET + " (2)"]
    assert all(h["url"].startswith(f"/documents/{setup['doc'].pk}/read/") for h in hits)


def test_annotation_my_notes_links_flagged_notes_to_review(org, setup):
    client = Client()
    client.login(username=setup["author"].username, password=PASSWORD)
    page = client.get(reverse("documents:annotations:my_notes")).content.decode()
    review = reverse("documents:annotations:review_detail", kwargs={"client_id": setup["flagged_id"]})
    assert review in page
    assert f"/documents/{setup['doc'].pk}/read/?page=1&amp;version={setup['new'].pk}" in page
