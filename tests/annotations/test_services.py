"""Annotation services: carrying notes across a replacement, sync with dedup and conflicts, bookmarks."""

import datetime
import uuid

import pytest
from django.utils import timezone

from council.audit import audit_verify
from council.models import AuditEntry
from documents.annotations import services
from documents.annotations.models import Annotation, Bookmark
from tests.annotations.helpers import add_version, make_document

pytestmark = pytest.mark.django_db


def stroke(version, page=1, **kw):
    change = {
        "client_id": str(uuid.uuid4()),
        "version": version.pk,
        "page": page,
        "kind": "pen",
        "colour": "#d32f2f",
        "geometry": {"points": [[0.1, 0.1, 0.5], [0.2, 0.25, 0.6]], "width": 0.004},
        "updated_at": timezone.now().isoformat(),
        "base_revision": 0,
    }
    change.update(kw)
    return change


def note(version, page=1, text="確認する", **kw):
    return stroke(version, page, kind="note", geometry={"x": 0.5, "y": 0.5}, text=text, **kw)


def sync(user, *changes):
    return services.annotations_sync(member=user, changes=list(changes))["results"]


def test_annotation_created_once_when_sent_twice(org):
    member = org["members"][4].user
    doc = make_document(org["council"], org["plenary"])
    change = note(doc.current_version)
    first, second = sync(member, change) + sync(member, change)
    assert first["status"] == "created"
    assert second["status"] == "unchanged"
    assert Annotation.objects.filter(member=member).count() == 1


def test_annotation_refused_on_document_member_cannot_see(org):
    outsider = org["members"][8].user  # not on the committee
    doc = make_document(org["council"], org["committee"])
    [result] = sync(outsider, note(doc.current_version))
    assert result == {
        "client_id": result["client_id"],
        "status": "rejected",
        "error": "You cannot annotate this document.",
    }
    assert not Annotation.objects.exists()


def test_annotation_validation_errors(org):
    member = org["members"][4].user
    version = make_document(org["council"], org["plenary"], pages=2).current_version
    results = sync(
        member,
        note(version, page=3),
        stroke(version, geometry={"points": "x"}),
        stroke(version, colour="red"),
        stroke(version, kind="laser"),
    )
    assert [r["error"] for r in results] == [
        "That page does not exist in this document.",
        "The shape of the annotation is not valid.",
        "The colour is not valid.",
        "Unknown kind of annotation.",
    ]


def test_annotation_update_in_order_increments_revision(org):
    member = org["members"][4].user
    version = make_document(org["council"], org["plenary"]).current_version
    change = note(version)
    [created] = sync(member, change)
    [updated] = sync(member, dict(change, text="再確認", base_revision=created["annotation"]["revision"]))
    assert updated["status"] == "updated"
    assert updated["annotation"]["revision"] == 2
    assert Annotation.objects.get().text == "再確認"


def test_offline_sync_conflict_later_edit_wins_and_losing_text_is_kept(org):
    member = org["members"][4].user
    version = make_document(org["council"], org["plenary"]).current_version
    t0 = timezone.now() - datetime.timedelta(hours=1)
    change = note(version, text="original", updated_at=t0.isoformat())
    [created] = sync(member, change)
    # Tablet edits offline at t0+10min, phone edits online at t0+20min: the phone's edit is later.
    tablet = dict(
        change,
        text="tablet text",
        base_revision=1,
        updated_at=(t0 + datetime.timedelta(minutes=10)).isoformat(),
    )
    phone = dict(
        change,
        text="phone text",
        base_revision=1,
        updated_at=(t0 + datetime.timedelta(minutes=20)).isoformat(),
    )
    [phone_result] = sync(member, phone)
    assert phone_result["status"] == "updated"
    [tablet_result] = sync(member, tablet)
    assert tablet_result["status"] == "conflict"
    assert tablet_result["annotation"]["text"] == "phone text"
    assert tablet_result["conflict_copy"]["text"] == "tablet text"
    assert tablet_result["conflict_copy"]["conflict_of"] == change["client_id"]
    # Sending the losing change again makes no second copy.
    [again] = sync(member, tablet)
    assert again["status"] in {"conflict", "unchanged"}
    texts = sorted(Annotation.objects.filter(member=member).values_list("text", flat=True))
    assert texts == ["phone text", "tablet text"]


def test_offline_sync_conflict_offline_edit_made_later_wins(org):
    member = org["members"][4].user
    version = make_document(org["council"], org["plenary"]).current_version
    t0 = timezone.now() - datetime.timedelta(hours=1)
    change = note(version, text="original", updated_at=t0.isoformat())
    sync(member, change)
    sync(
        member,
        dict(
            change,
            text="online earlier",
            base_revision=1,
            updated_at=(t0 + datetime.timedelta(minutes=5)).isoformat(),
        ),
    )
    [result] = sync(
        member,
        dict(
            change,
            text="offline later",
            base_revision=1,
            updated_at=(t0 + datetime.timedelta(minutes=30)).isoformat(),
        ),
    )
    assert result["status"] == "conflict"
    assert result["annotation"]["text"] == "offline later"
    assert result["conflict_copy"]["text"] == "online earlier"
    assert Annotation.objects.filter(member=member, deleted_at__isnull=True).count() == 2


def test_offline_sync_future_device_clock_does_not_win(org):
    member = org["members"][4].user
    version = make_document(org["council"], org["plenary"]).current_version
    change = note(version, text="a", updated_at=(timezone.now() - datetime.timedelta(minutes=5)).isoformat())
    sync(member, change)
    far_future = (timezone.now() + datetime.timedelta(days=365)).isoformat()
    [result] = sync(member, dict(change, text="b", base_revision=1, updated_at=far_future))
    assert datetime.datetime.fromisoformat(result["annotation"]["updated_at"]) <= timezone.now()


def test_annotation_delete_is_a_tombstone(org):
    member = org["members"][4].user
    version = make_document(org["council"], org["plenary"]).current_version
    change = stroke(version)
    sync(member, change)
    [deleted] = sync(member, dict(change, deleted=True, base_revision=1))
    assert deleted["status"] == "deleted"
    assert deleted["annotation"]["deleted"] is True
    assert Annotation.objects.get().deleted_at is not None


def test_annotation_carry_forward_unchanged_and_changed_pages(org):
    member, other = org["members"][4].user, org["members"][5].user
    doc = make_document(org["council"], org["plenary"], pages=3)
    old = doc.current_version
    sync(member, note(old, page=1, text="p1"), note(old, page=2, text="p2"), stroke(old, page=3))
    sync(other, note(old, page=2, text="other p2"))
    services.bookmark_toggle(member=member, version=old, page=3)
    new = add_version(doc, pages=3)
    # Page 2 changed; pages 1 and 3 unchanged (3 moved to 3).
    services.carry_forward(old=old, new=new, unchanged_pages={1: 1, 3: 3})

    moved = Annotation.objects.filter(version=new).order_by("page")
    assert [(a.member, a.page) for a in moved] == [(member, 1), (member, 3)]
    stayed = Annotation.objects.filter(version=old).order_by("member_id")
    assert {a.text for a in stayed} == {"p2", "other p2"}
    assert all(a.needs_review and a.review_version == new for a in stayed)
    assert Annotation.objects.count() == 4  # nothing lost
    assert Bookmark.objects.get().version == new
    entry = AuditEntry.objects.filter(action="annotations.carried_forward").get()
    assert entry.data == {"old_version": old.pk, "moved": 2, "needs_review": 2, "bookmarks_moved": 1}
    assert "p2" not in str(entry.data)
    assert audit_verify().ok


def test_annotation_carry_forward_page_renumbered_and_removed(org):
    member = org["members"][4].user
    doc = make_document(org["council"], org["plenary"], pages=3)
    old = doc.current_version
    sync(member, note(old, page=2, text="moves to 3"), note(old, page=3, text="page removed"))
    new = add_version(doc, pages=3)
    services.carry_forward(old=old, new=new, unchanged_pages={1: 1, 2: 3})
    assert Annotation.objects.get(text="moves to 3").page == 3
    removed = Annotation.objects.get(text="page removed")
    assert removed.version == old and removed.needs_review


def test_annotation_review_resolve_copies_to_current_version(org):
    member = org["members"][4].user
    doc = make_document(org["council"], org["plenary"], pages=2)
    old = doc.current_version
    sync(member, note(old, page=2, text="look"))
    new = add_version(doc, pages=2)
    services.carry_forward(old=old, new=new, unchanged_pages={})
    flagged = Annotation.objects.get()
    services.review_resolve(member=member, annotation=flagged, move_to_page=2)
    assert Annotation.objects.filter(version=new, page=2, text="look").exists()
    flagged.refresh_from_db()
    assert not flagged.needs_review
    with pytest.raises(services.AnnotationError, match="This note does not need a review."):
        services.review_resolve(member=member, annotation=flagged, move_to_page=None)


def test_annotation_edit_after_carry_forward_applies_to_moved_note(org):
    """A device that still knows the note under the old version keeps editing the same note."""
    member = org["members"][4].user
    doc = make_document(org["council"], org["plenary"], pages=1)
    old = doc.current_version
    change = note(old, page=1, text="before")
    sync(member, change)
    new = add_version(doc, pages=1)
    services.carry_forward(old=old, new=new, unchanged_pages={1: 1})
    [result] = sync(member, dict(change, text="after", base_revision=1))
    assert result["status"] == "updated"
    assert result["annotation"]["version"] == new.pk
