"""Committee-report and questions-preview PDFs are rendered by the job worker only (issue 15): the
views serve the stored file or say "being prepared" and queue one render; WeasyPrint never runs
in a request."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from pypdf import PdfReader

from meetings.matters import pdfs, questions, services
from meetings.matters.models import RenderedPdf
from meetings.minutes import rendering
from tests.annotations.helpers import response_body
from tests.factories import PASSWORD
from tests.matters.conftest import decided_in_committee

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]  # the job worker renders PDFs
TASK = "meetings.matters.pdfs.render_task"


@pytest.fixture
def worker_queue(settings):
    """The database queue of production: nothing runs until the job worker does."""
    settings.TASKS = {"default": {"BACKEND": settings.TASK_BACKENDS["database"], "QUEUES": ["default"]}}


@pytest.fixture
def no_render_here(monkeypatch):
    """WeasyPrint refuses to run: a view that renders fails the test."""
    real = rendering.render_pdf

    def refuse(*args, **kwargs):
        raise AssertionError("render_pdf called outside the job worker")

    monkeypatch.setattr(rendering, "render_pdf", refuse)
    yield
    monkeypatch.setattr(rendering, "render_pdf", real)


def _worker(monkeypatch) -> None:
    monkeypatch.undo()  # the worker may render
    call_command("db_worker", batch=True, verbosity=0)


def _text(response) -> str:
    reader = PdfReader(io.BytesIO(response_body(response)))
    return "".join(page.extract_text() for page in reader.pages).replace(" ", "")


def _report(world, submit, *, reported: bool = True):
    clerk = world["clerk_user"]
    report = decided_in_committee(world, submit)
    bill = report.matter
    if reported:
        services.matter_place(actor=clerk, matter=bill, sitting=world["plenary2"])
        services.matter_chair_report(actor=clerk, matter=bill, sitting=world["plenary2"])
    services.matter_publish(actor=clerk, matter=bill)
    return report


def _tasks():
    return DBTaskResult.objects.filter(task_path=TASK)


def test_public_report_pdf_is_queued_once_rendered_by_the_worker_and_served(
    world, submit, worker_queue, no_render_here, monkeypatch
):
    report = _report(world, submit)
    # A report from before this feature, or whose queued job was lost: no file, nothing queued.
    RenderedPdf.objects.all().delete()
    _tasks().delete()
    url = f"/meetings/matters/reports/{report.pk}/pdf/"
    client = Client()
    for _ in range(5):
        response = client.get(url)
        assert response.status_code == 503 and response["Retry-After"] == "5"
        page = response.content.decode()
        assert '<meta http-equiv="refresh" content="5">' in page and "PDFを作成しています" in page
    queued = _tasks().get()  # exactly one render for five requests
    assert queued.status == "READY" and queued.args_kwargs["args"] == ["report", report.pk]

    _worker(monkeypatch)
    assert _tasks().get().status == "SUCCESSFUL"
    monkeypatch.setattr(rendering, "render_pdf", no_render_here_again)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["ETag"].startswith(f'"report-{report.pk}-')
    text = _text(response)
    for expected in (
        "委員会審査報告書",
        "議案第1号",
        "原案可決すべきもの",
        "全会一致(賛成4)",
        "附帯意見なし",
    ):
        assert expected in text, expected
    assert client.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    assert _tasks().count() == 1


def no_render_here_again(*args, **kwargs):
    raise AssertionError("render_pdf called outside the job worker")


def test_an_edit_makes_the_stored_pdf_stale_and_queues_a_new_render(world, submit, worker_queue, monkeypatch):
    report = _report(world, submit)
    call_command("db_worker", batch=True, verbosity=0)
    stored = RenderedPdf.objects.get(key=f"report-{report.pk}")
    old_name, old_sha = stored.file.name, stored.html_sha256
    assert default_storage.exists(old_name) and not _tasks().filter(status="READY").exists()
    monkeypatch.setattr(rendering, "render_pdf", no_render_here_again)
    url = f"/meetings/matters/reports/{report.pk}/pdf/"
    client = Client()
    assert client.get(url).status_code == 200

    services.report_update(actor=world["clerk_user"], report=report, remarks="継続して検討されたい")
    # The edit queued the new render at commit; the stale file is no longer served.
    assert _tasks().filter(status="READY").count() == 1
    assert client.get(url).status_code == 503
    assert client.get(url).status_code == 503
    assert _tasks().filter(status="READY").count() == 1

    _worker(monkeypatch)
    stored.refresh_from_db()
    assert stored.html_sha256 != old_sha and stored.queued_sha256 == ""
    assert not default_storage.exists(old_name)  # the stale file is gone
    monkeypatch.setattr(rendering, "render_pdf", no_render_here_again)
    text = _text(client.get(url))
    assert "継続して検討されたい" in text and "附帯意見なし" not in text


def test_an_unreported_report_stays_404_publicly_and_queues_nothing(
    world, submit, worker_queue, no_render_here
):
    report = _report(world, submit, reported=False)
    _tasks().delete()
    RenderedPdf.objects.all().delete()
    assert Client().get(f"/meetings/matters/reports/{report.pk}/pdf/").status_code == 404
    assert Client().get("/meetings/matters/reports/999999/pdf/").status_code == 404
    assert not _tasks().exists() and not RenderedPdf.objects.exists()


def test_clerk_report_and_questions_previews_wait_for_the_worker(
    world, submit, worker_queue, no_render_here, monkeypatch
):
    report = _report(world, submit, reported=False)
    call = questions.call_open(
        actor=world["clerk_user"],
        session=world["session"],
        deadline=timezone.now() + datetime.timedelta(hours=2),
    )
    questions.question_submit(
        user=world["members"][3].user,
        call=call,
        topics=[{"subject": "防災対策について", "points": "備蓄の状況は。", "answerers": ["町長"]}],
    )
    _tasks().delete()
    RenderedPdf.objects.all().delete()
    clerk = Client()
    assert clerk.login(username=world["clerk_user"].username, password=PASSWORD)
    report_url = f"/meetings/matters/manage/reports/{report.pk}/pdf/"
    questions_url = f"/meetings/matters/manage/sessions/{world['session'].pk}/questions.pdf"
    for url in (report_url, questions_url, report_url, questions_url):
        response = clerk.get(url)
        assert response.status_code == 202 and "PDFを作成しています" in response.content.decode()
    assert sorted(tuple(t.args_kwargs["args"]) for t in _tasks()) == [
        ("questions", call.pk),
        ("report", report.pk),
    ]
    # A member is refused, as before, and queues nothing.
    member = Client()
    assert member.login(username=world["members"][3].user.username, password=PASSWORD)
    assert member.get(questions_url).status_code == 403 and _tasks().count() == 2

    _worker(monkeypatch)
    monkeypatch.setattr(rendering, "render_pdf", no_render_here_again)
    assert "委員会審査報告書" in _text(clerk.get(report_url))
    assert "防災対策について" in _text(clerk.get(questions_url))
    assert pdfs.current(pdfs.QUESTIONS, call.pk) is not None


PUBLISH_TASK = "meetings.matters.questions.publish_document_task"


def _fixed_call(world, people):
    from django.utils import timezone as tz

    from meetings.matters.models import QuestionCall

    call = questions.call_open(
        actor=world["clerk_user"], session=world["session"], deadline=tz.now() + datetime.timedelta(hours=2)
    )
    for person in people:
        questions.question_submit(
            user=person.user,
            call=call,
            topics=[
                {"subject": f"{person.family_name}議員の質問", "points": "状況は。", "answerers": ["町長"]}
            ],
        )
    QuestionCall.objects.filter(pk=call.pk).update(deadline=tz.now() - datetime.timedelta(seconds=1))
    call.refresh_from_db()
    questions.order_fix(actor=world["clerk_user"], call=call, method="receipt")
    return call


def test_publishing_the_questions_list_records_it_at_once_and_the_worker_makes_its_pdf(
    world, worker_queue, no_render_here, monkeypatch
):
    from meetings.matters.models import QuestionCall
    from meetings.voting.models import FloorTurn

    members = world["members"]
    people = [members[3], members[4], members[5]]
    call = _fixed_call(world, people)
    clerk = Client()
    assert clerk.login(username=world["clerk_user"].username, password=PASSWORD)
    manage_url = f"/meetings/matters/manage/sessions/{world['session'].pk}/questions/"
    public_url = f"/meetings/matters/sessions/{world['session'].pk}/questions/"

    # The request publishes (state, item, floor queue) without rendering, and queues one render.
    response = clerk.post(manage_url, {"action": "publish", "sitting": world["plenary1"].pk})
    assert response.status_code == 302
    call = QuestionCall.objects.get(pk=call.pk)
    assert call.published_at is not None and call.document is None and not call.document_ready
    assert call.agenda_item.sitting == world["plenary1"]
    assert FloorTurn.objects.filter(agenda_item=call.agenda_item, status="waiting").count() == 3
    queued = DBTaskResult.objects.filter(task_path=PUBLISH_TASK)
    assert queued.get().status == "READY"
    # Meanwhile the public page lists the order and says the PDF is being prepared, without a link.
    page = Client().get(public_url).content.decode()
    assert f"{members[5].family_name}議員の質問" in page
    assert "data-pdf-preparing" in page and ">PDF</a>" not in page
    assert "data-pdf-preparing" in clerk.get(manage_url).content.decode()

    _worker(monkeypatch)
    monkeypatch.setattr(rendering, "render_pdf", no_render_here_again)
    call = QuestionCall.objects.get(pk=call.pk)
    assert call.document_ready and call.document_sha256 == call.published_sha256
    document = call.document
    assert document.release_state == "released" and document.visibility == "public"
    assert call.agenda_item.document_links.filter(document=document).exists()
    page = Client().get(public_url).content.decode()
    assert f"/documents/{document.pk}/" in page and "data-pdf-preparing" not in page
    with document.versions.get().served_file.open("rb") as handle:
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(handle.read())).pages).replace(" ", "")
    assert "一般質問通告一覧" in text and all(f"{p.family_name}議員の質問" in text for p in people)

    # A notice struck and the list published again: the published state changes at once, the old
    # PDF is no longer offered, and the worker replaces it (差し替え) with the list as republished.
    questions.question_strike(actor=world["clerk_user"], question=call.questions.get(member=people[1]))
    with monkeypatch.context() as m:
        m.setattr(rendering, "render_pdf", no_render_here_again)
        assert (
            clerk.post(manage_url, {"action": "publish", "sitting": world["plenary1"].pk}).status_code == 302
        )
    call = QuestionCall.objects.get(pk=call.pk)
    assert not call.document_ready and call.document == document
    page = Client().get(public_url).content.decode()
    assert "data-pdf-preparing" in page and f"/documents/{document.pk}/" not in page
    _worker(monkeypatch)
    call = QuestionCall.objects.get(pk=call.pk)
    assert call.document_ready and document.versions.count() == 2
    with document.versions.order_by("-number").first().served_file.open("rb") as handle:
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(handle.read())).pages).replace(" ", "")
    assert f"{people[1].family_name}議員の質問" not in text and f"{people[2].family_name}議員の質問" in text
    assert queued.filter(status="SUCCESSFUL").count() == 2


def test_a_render_for_an_older_publication_does_nothing(world, worker_queue, no_render_here, monkeypatch):
    from meetings.matters.models import QuestionCall

    members = world["members"]
    people = [members[3], members[4], members[5]]
    call = _fixed_call(world, people)
    questions.publish(actor=world["clerk_user"], call=call, sitting=world["plenary1"])
    questions.order_move(
        actor=world["clerk_user"], question=call.questions.get(member=people[2]), direction="up"
    )
    questions.publish(actor=world["clerk_user"], call=call, sitting=world["plenary1"])
    assert DBTaskResult.objects.filter(task_path=PUBLISH_TASK, status="READY").count() == 2

    _worker(monkeypatch)
    call = QuestionCall.objects.get(pk=call.pk)
    # One document, one version: the render of the first publication found it outdated.
    assert call.document_ready and call.document.versions.count() == 1
    with call.document.versions.get().served_file.open("rb") as handle:
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(handle.read())).pages).replace(" ", "")
    assert text.index(f"{people[2].family_name}議員") < text.index(f"{people[1].family_name}議員")


def test_the_clerks_page_asks_again_for_a_published_lists_pdf_that_never_came(
    world, worker_queue, no_render_here, monkeypatch
):
    from meetings.matters.models import QuestionCall

    call = _fixed_call(world, [world["members"][3], world["members"][4]])
    questions.publish(actor=world["clerk_user"], call=call, sitting=world["plenary1"])
    jobs = DBTaskResult.objects.filter(task_path=PUBLISH_TASK)
    jobs.update(status="FAILED")  # the render failed (or its worker was lost)
    clerk = Client()
    assert clerk.login(username=world["clerk_user"].username, password=PASSWORD)
    url = f"/meetings/matters/manage/sessions/{world['session'].pk}/questions/"
    assert clerk.get(url).status_code == 200
    assert not jobs.filter(status="READY").exists()  # asked for a moment ago: not yet again
    QuestionCall.objects.filter(pk=call.pk).update(
        document_queued_at=timezone.now() - questions.REQUEUE_AFTER - datetime.timedelta(seconds=1)
    )
    for _ in range(3):
        assert "data-pdf-preparing" in clerk.get(url).content.decode()
    assert jobs.filter(status="READY").count() == 1  # once, however often the page is opened
    _worker(monkeypatch)
    call = QuestionCall.objects.get(pk=call.pk)
    assert call.document_ready and call.document.versions.count() == 1
    page = Client().get(f"/meetings/matters/sessions/{world['session'].pk}/questions/").content.decode()
    assert ">PDF</a>" in page
