"""Upload, replacement (差し替え) with its change summary, release and receipts."""

import datetime

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from council.models import AuditEntry
from documents import selectors, services
from documents.errors import DocumentError
from documents.ingest import IngestRefused
from documents.models import Document, DocumentVersion, Page, Receipt, ReplacementNotice
from tests.documents.helpers import upload


def stored_files(settings):
    root = settings.MEDIA_ROOT
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_create_stores_a_version_with_pages(org, pdf_files, settings):
    document = upload(org, pdf_files["base"], title="議案第45号 町税条例の一部改正")
    version = document.current_version
    assert version.number == 1 and version.page_count == 3
    assert version.original_name == "議案書.pdf"
    # Generated storage names, never the uploaded name.
    assert "議案書" not in version.served_file.name and "議案書" not in version.original_file.name
    assert default_storage.exists(version.served_file.name)
    assert default_storage.open(version.original_file.name).read() == pdf_files["base"].read_bytes()
    pages = list(version.pages.order_by("number"))
    assert [p.number for p in pages] == [1, 2, 3]
    assert all(default_storage.exists(p.thumbnail.name) for p in pages)
    assert "百分の五" in pages[1].search_text
    assert AuditEntry.objects.filter(action="documents.created", target_id=str(document.pk)).exists()


@pytest.mark.parametrize("name", ["image", "truncated", "encrypted", "javascript", "embedded"])
def test_refused_file_stores_nothing(org, pdf_files, settings, name):
    with pytest.raises(IngestRefused):
        upload(org, pdf_files[name])
    assert Document.objects.count() == 0
    assert DocumentVersion.objects.count() == 0
    assert stored_files(settings) == []


def test_only_clerks_upload(org, pdf_files, settings):
    with pytest.raises(DocumentError) as excinfo:
        upload(org, pdf_files["base"], actor=org["members"][0].user)
    assert excinfo.value.reason == "forbidden"
    assert stored_files(settings) == []


def test_replacement_summary_and_notices(org, pdf_files):
    document = upload(org, pdf_files["base"])
    old = document.current_version
    holder = org["members"][3].user
    services.receipt_record(user=holder, version=old)
    assert selectors.badges_for(holder, [document]) == {}
    assert selectors.badges_for(org["members"][4].user, [document]) == {document.pk: "new"}

    new = services.document_replace(
        document=document,
        path=pdf_files["changed"],
        original_name="差替.pdf",
        actor=org["clerk"].user,
        note="第2条の税率を訂正",
    )
    assert new.number == 2
    changes = services.page_changes(old=old, new=new)
    assert changes["unchanged"] == {1: 1, 3: 3}
    assert changes["changed"] == [2]
    assert changes["added"] == [4]
    assert changes["removed"] == []
    assert new.change_summary["changed"] == [2]
    assert new.change_summary["pages"] == [3, 4]
    # The holder is told, and sees "updated"; the old version stays (for the secretariat).
    assert ReplacementNotice.objects.filter(version=new, user=holder, read_at__isnull=True).exists()
    assert selectors.badges_for(holder, [document]) == {document.pk: "updated"}
    assert DocumentVersion.objects.filter(pk=old.pk).exists()
    services.receipt_record(user=holder, version=new)
    assert selectors.badges_for(holder, [document]) == {}
    assert not selectors.unread_notices(holder).exists()
    assert Receipt.objects.get(user=holder, document=document).version_number == 2


def test_page_changes_removed_pages(org, pdf_files):
    document = upload(org, pdf_files["changed"])
    old = document.current_version
    new = services.document_replace(
        document=document, path=pdf_files["base"], original_name="x.pdf", actor=org["clerk"].user
    )
    changes = services.page_changes(old=old, new=new)
    assert changes == {
        "unchanged": {1: 1, 3: 3},
        "changed": [2],
        "added": [],
        "removed": [4],
        "pages": [4, 3],
    }


def test_annotations_on_unchanged_pages_are_carried_forward(org, pdf_files):
    from documents.annotations.models import Annotation

    document = upload(org, pdf_files["base"])
    old = document.current_version
    member = org["members"][2].user
    kept = Annotation.objects.create(
        member=member,
        document=document,
        version=old,
        page=3,
        kind="note",
        geometry={"x": 0.5, "y": 0.5},
        text="確認する",
    )
    flagged = Annotation.objects.create(
        member=member,
        document=document,
        version=old,
        page=2,
        kind="note",
        geometry={"x": 0.5, "y": 0.5},
        text="税率?",
    )
    new = services.document_replace(
        document=document, path=pdf_files["changed"], original_name="x.pdf", actor=org["clerk"].user
    )
    kept.refresh_from_db()
    flagged.refresh_from_db()
    assert (kept.version_id, kept.page) == (new.pk, 3)
    assert flagged.version_id == old.pk and flagged.needs_review


def test_release_schedule_and_withdraw(org, pdf_files):
    from documents import permissions

    document = upload(org, pdf_files["base"], release_now=False)
    member = org["members"][5].user
    assert document.release_state == Document.Release.DRAFT
    assert not permissions.can_view(member, document)
    soon = timezone.now() + datetime.timedelta(hours=1)
    document = services.document_release(document=document, actor=org["clerk"].user, at=soon)
    assert document.release_state == Document.Release.SCHEDULED
    assert not permissions.can_view(member, document)
    # Once the time has passed the document is visible, before and after the cron marks it.
    Document.objects.filter(pk=document.pk).update(release_at=timezone.now() - datetime.timedelta(seconds=1))
    document.refresh_from_db()
    assert permissions.can_view(member, document)
    assert permissions.visible_documents(member).filter(pk=document.pk).exists()
    assert services.release_due_documents() == 1
    document.refresh_from_db()
    assert document.release_state == Document.Release.RELEASED and document.released_at is not None
    document = services.document_withdraw(document=document, actor=org["clerk"].user)
    assert not permissions.can_view(member, document)
    assert permissions.can_view(org["clerk"].user, document)


def test_pages_are_deleted_with_the_document(org, pdf_files):
    document = upload(org, pdf_files["base"])
    document.delete()
    assert Page.objects.count() == 0


def test_release_due_documents_command(org, pdf_files):
    from io import StringIO

    from django.core.management import call_command

    document = upload(org, pdf_files["base"], release_now=False)
    Document.objects.filter(pk=document.pk).update(
        release_state=Document.Release.SCHEDULED, release_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    out = StringIO()
    call_command("release_due_documents", stdout=out)
    assert out.getvalue().strip() == "released 1"
    document.refresh_from_db()
    assert document.release_state == Document.Release.RELEASED
    assert AuditEntry.objects.filter(action="documents.released", target_id=str(document.pk)).exists()


def test_release_and_replacement_are_announced(org, pdf_files, django_capture_on_commit_callbacks):
    from documents.notices.models import Notice

    with django_capture_on_commit_callbacks(execute=True):
        document = upload(org, pdf_files["base"])
    assert Notice.objects.filter(kind=Notice.Kind.DOCUMENT_RELEASED, document=document).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        new = services.document_replace(
            document=document, path=pdf_files["changed"], original_name="x.pdf", actor=org["clerk"].user
        )
    assert Notice.objects.filter(kind=Notice.Kind.DOCUMENT_REPLACED, version=new).count() == 1
    # A draft is not announced until it is released.
    with django_capture_on_commit_callbacks(execute=True):
        draft = upload(org, pdf_files["base"], release_now=False)
    assert not Notice.objects.filter(document=draft).exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.document_release(document=draft, actor=org["clerk"].user)
    assert Notice.objects.filter(kind=Notice.Kind.DOCUMENT_RELEASED, document=draft).count() == 1
