"""The annotated-PDF export runs in the job worker: the request only queues it, the worker draws the
member's notes in, only the member can follow or fetch it, a failure says what went wrong (in the
member's language) and old copies are removed."""

import datetime
import io
import json
import uuid

import pikepdf
import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django_tasks_db.models import DBTaskResult

from council.models import AuditEntry
from documents.annotations import jobs, services
from documents.annotations.models import AnnotationExport
from tests.annotations.helpers import make_document, response_body
from tests.factories import PASSWORD

NOTE = "第3条の修正案を確認する"
ACCEPT_JSON = {"HTTP_ACCEPT": "application/json"}


def _annotate(member, version):
    services.annotations_sync(
        member=member,
        changes=[
            {
                "client_id": str(uuid.uuid4()),
                "version": version.pk,
                "page": 1,
                "kind": "note",
                "geometry": {"x": 0.3, "y": 0.3},
                "text": NOTE,
            },
            {
                "client_id": str(uuid.uuid4()),
                "version": version.pk,
                "page": 2,
                "kind": "pen",
                "colour": "#1565c0",
                "geometry": {"points": [[0.1, 0.1, 0.5], [0.4, 0.4, 0.5]], "width": 0.004},
            },
        ],
    )


def _client(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def world(org):
    member = org["members"][4].user
    document = make_document(org["council"], org["plenary"], pages=3)
    _annotate(member, document.current_version)
    return {"member": member, "document": document, "client": _client(member)}


def _start(world) -> dict:
    url = reverse("documents:annotations:export_start", kwargs={"document_id": world["document"].pk})
    response = world["client"].post(url, **ACCEPT_JSON)
    assert response.status_code == 202, response.content
    return response.json()


@pytest.mark.django_db(transaction=True)
def test_export_request_only_queues_and_the_worker_draws_the_notes(world, settings):
    settings.TASKS = {"default": {"BACKEND": settings.TASK_BACKENDS["database"], "QUEUES": ["default"]}}
    started = _start(world)
    # The request rendered nothing: the row waits in the queue for the job worker.
    export = AnnotationExport.objects.get(pk=started["id"])
    assert (export.state, export.output.name, export.member) == ("queued", "", world["member"])
    assert started["state"] == "queued" and started["file_url"] == "" and not started["finished"]
    assert started["message"] == "Waiting for the job worker…"
    queued = DBTaskResult.objects.get(task_path="documents.annotations.jobs.export_task")
    assert queued.status == "READY" and queued.args_kwargs["args"] == [export.pk]

    call_command("db_worker", batch=True, verbosity=0)  # the job worker, once

    export.refresh_from_db()
    assert (export.state, export.progress, export.error) == ("done", 100, "")
    assert export.annotation_count == 2 and export.size == export.output.size > 0
    status = world["client"].get(started["status_url"]).json()
    assert status["finished"] and status["message"] == "Your PDF with your notes is ready."
    assert status["file_url"] == reverse("documents:annotations:export_file", kwargs={"pk": export.pk})
    response = world["client"].get(status["file_url"])
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    assert response["Content-Disposition"].startswith("attachment;")
    with pikepdf.open(io.BytesIO(response_body(response))) as pdf:
        assert len(pdf.pages) == 3
        assert str(pdf.pages[0].obj.Annots[0].Contents) == NOTE
        drawn = b"".join(c.read_bytes() for c in pdf.pages[1].obj.Contents)
        assert b"0.082 0.396 0.753 RG" in drawn and b" l S" in drawn  # the blue pen stroke
    assert DBTaskResult.objects.get(pk=queued.pk).status == "SUCCESSFUL"
    # The copy's removal is queued for when it falls due, so it goes even if nobody exports again.
    cleanup = DBTaskResult.objects.get(task_path="documents.annotations.jobs.cleanup_task")
    due = export.created_at + datetime.timedelta(hours=24, minutes=1)
    assert cleanup.status == "READY" and abs((cleanup.run_after - due).total_seconds()) < 1


@pytest.mark.django_db
def test_export_start_answers_without_rendering(world, monkeypatch):
    def forbidden(**kwargs):
        raise AssertionError("the request rendered the PDF")

    monkeypatch.setattr(jobs, "annotated_pdf", forbidden)
    started = _start(world)  # on_commit never runs inside the test's transaction: nothing is rendered
    assert AnnotationExport.objects.get(pk=started["id"]).state == "queued"
    # Without script the form's POST lands on the export's own page.
    url = reverse("documents:annotations:export_start", kwargs={"document_id": world["document"].pk})
    page = world["client"].post(url)
    assert page.status_code == 302 and page["Location"] == started["page_url"]


@pytest.mark.django_db
def test_a_second_tap_follows_the_same_export_and_a_new_one_replaces_the_old(world):
    first = _start(world)
    assert _start(world)["id"] == first["id"]  # still queued: the same job, not a second one
    assert AnnotationExport.objects.filter(member=world["member"]).count() == 1
    jobs.run_export(first["id"])
    second = _start(world)  # the notes may have changed since: a new copy replaces the old one
    assert second["id"] != first["id"]
    assert list(AnnotationExport.objects.values_list("pk", flat=True)) == [second["id"]]


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["other member", "clerk", "admin", "anonymous"])
def test_only_the_member_can_follow_or_fetch_their_export(org, world, who):
    export = AnnotationExport.objects.get(pk=_start(world)["id"])
    jobs.run_export(export.pk)
    users = {"other member": org["members"][5].user, "clerk": org["clerk"].user, "admin": org["admin"]}
    client = _client(users[who]) if who in users else Client()
    for name in ("export_status", "export_file", "export_page"):
        response = client.get(reverse(f"documents:annotations:{name}", kwargs={"pk": export.pk}))
        assert response.status_code in (302, 403, 404), (who, name, response.status_code)
        assert NOTE.encode() not in response_body(response)
    assert (
        world["client"].get(reverse("documents:annotations:export_file", args=[export.pk])).status_code == 200
    )


@pytest.mark.django_db
def test_a_member_who_lost_access_cannot_fetch_the_copy(org, world):
    from documents.models import Document

    export = AnnotationExport.objects.get(pk=_start(world)["id"])
    jobs.run_export(export.pk)
    Document.objects.filter(pk=world["document"].pk).update(visibility=Document.Visibility.SECRETARIAT)
    response = world["client"].get(reverse("documents:annotations:export_file", args=[export.pk]))
    assert response.status_code == 404


@pytest.mark.django_db
def test_a_failed_render_shows_a_clear_error_in_the_members_language(world):
    version = world["document"].current_version
    with version.served_file.open("wb") as damaged:
        damaged.write(b"%PDF-1.7\nthis is not a PDF any more")
    started = _start(world)
    jobs.run_export(started["id"])
    export = AnnotationExport.objects.get(pk=started["id"])
    assert (export.state, export.error, export.output.name) == ("failed", "unreadable", "")
    status = world["client"].get(started["status_url"]).json()
    assert status["finished"] and status["file_url"] == ""
    assert status["message"] == (
        "The document's file could not be read, so the PDF could not be made. Tell the secretariat."
    )
    with translation.override("ja"):
        japanese = world["client"].get(started["status_url"], HTTP_ACCEPT_LANGUAGE="ja").json()
    assert japanese["message"] != status["message"] and "PDF" in japanese["message"]
    assert (
        world["client"].get(reverse("documents:annotations:export_file", args=[export.pk])).status_code == 404
    )
    # The export's page shows the same sentence.
    page = world["client"].get(started["page_url"]).content.decode()
    assert "could not be read" in page and "Try again" in page  # a form that starts a new export


@pytest.mark.django_db
def test_a_member_who_lost_access_before_the_worker_ran_gets_a_clear_error(world):
    from documents.models import Document

    started = _start(world)
    Document.objects.filter(pk=world["document"].pk).update(visibility=Document.Visibility.SECRETARIAT)
    jobs.run_export(started["id"])
    export = AnnotationExport.objects.get(pk=started["id"])
    assert (export.state, export.error) == ("failed", "gone")
    assert jobs.describe(export) == "This document is no longer available to you."


@pytest.mark.django_db(transaction=True)
def test_old_copies_are_removed_and_interrupted_jobs_fail(world, settings):
    settings.COUNCIL_ANNOTATION_EXPORT_KEEP_HOURS = 24
    first = AnnotationExport.objects.get(pk=_start(world)["id"])  # immediate backend: run on commit
    first.refresh_from_db()
    assert first.state == "done"
    storage, name = first.output.storage, first.output.name
    assert storage.exists(name)
    AnnotationExport.objects.filter(pk=first.pk).update(
        created_at=timezone.now() - datetime.timedelta(hours=25)
    )
    stuck = AnnotationExport.objects.create(
        member=world["member"],
        document=world["document"],
        version=world["document"].current_version,
        state="running",
        created_at=timezone.now() - datetime.timedelta(minutes=20),
    )
    assert jobs.exports_cleanup() == 1
    assert not AnnotationExport.objects.filter(pk=first.pk).exists() and not storage.exists(name)
    stuck.refresh_from_db()
    assert (stuck.state, stuck.error) == ("failed", "interrupted")
    assert jobs.describe(stuck) == "The export was interrupted (the server restarted). Try again."
    # A new export of the same document removes the member's earlier copy and its file.
    second = AnnotationExport.objects.get(pk=_start(world)["id"])
    second.refresh_from_db()
    third = AnnotationExport.objects.get(pk=_start(world)["id"])
    assert third.pk != second.pk and not AnnotationExport.objects.filter(pk=second.pk).exists()
    assert not storage.exists(second.output.name)
    # The audit trail says that exports happened, never what the notes say.
    entries = AuditEntry.objects.filter(action__startswith="annotations.export")
    assert entries.count() >= 3
    assert all(NOTE not in json.dumps(e.data, ensure_ascii=False) for e in entries)
