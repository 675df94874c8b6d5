"""Notes and bookmarks go on the current version only; a replaced (差し替え済み) version keeps the
notes already on it, which their member can still edit and review (issue #14)."""

import uuid

import pytest
from django.utils import timezone, translation

from documents.annotations import services
from documents.annotations.models import Annotation, Bookmark
from tests.annotations.helpers import add_version, make_document

pytestmark = pytest.mark.django_db

REPLACED = "This version of the document has been replaced. Open the current version to write notes."


def note(version, *, client_id=None, text="確認する", base_revision=0):
    return {
        "client_id": client_id or str(uuid.uuid4()),
        "version": version.pk,
        "page": 1,
        "kind": "note",
        "colour": "#d32f2f",
        "geometry": {"x": 0.5, "y": 0.5},
        "text": text,
        "updated_at": timezone.now().isoformat(),
        "base_revision": base_revision,
    }


def test_note_on_a_superseded_version_is_refused_with_a_reason(org):
    member = org["members"][4].user
    document = make_document(org["council"], org["plenary"])
    old = document.current_version
    kept = note(old)
    [created] = services.annotations_sync(member=member, changes=[kept])["results"]
    assert created["status"] == "created"
    new = add_version(document)

    with translation.override("en"):
        [refused] = services.annotations_sync(member=member, changes=[note(old)])["results"]
    assert refused["status"] == "rejected" and refused["error"] == REPLACED
    with translation.override("ja"):
        [refused_ja] = services.annotations_sync(member=member, changes=[note(old)])["results"]
    assert "差し替え" in refused_ja["error"] or "新しい版" in refused_ja["error"], refused_ja["error"]
    assert Annotation.objects.filter(version=old).count() == 1  # only the note written before

    # The note already there can still be edited; the current version takes new notes.
    [edited] = services.annotations_sync(
        member=member, changes=[{**kept, "text": "見直した", "base_revision": 1}]
    )["results"]
    assert edited["status"] == "updated"
    [on_new] = services.annotations_sync(member=member, changes=[note(new)])["results"]
    assert on_new["status"] == "created"


def test_bookmark_on_a_superseded_version_is_refused_but_can_be_removed(org):
    member = org["members"][4].user
    document = make_document(org["council"], org["plenary"])
    old = document.current_version
    services.bookmark_toggle(member=member, version=old, page=2)
    add_version(document)
    with translation.override("en"), pytest.raises(services.AnnotationError, match="has been replaced"):
        services.bookmark_toggle(member=member, version=old, page=3)
    assert services.bookmark_toggle(member=member, version=old, page=2) is None  # removing still works
    assert not Bookmark.objects.filter(version=old).exists()
