"""The clerk's editor in Debian's Chromium against a real daphne: typing is autosaved (and audited),
the status line says so, and the keyboard moves between blocks and adds a remark."""

from __future__ import annotations

import pytest
from django_tasks_db.models import DBTaskResult
from playwright.sync_api import expect

from council.models import AuditEntry
from meetings.minutes import services
from meetings.minutes.models import Block, GenerationJob
from tests import factories
from tests.browser import login_cookie, wait_for
from tests.minutes.conftest import build_recorded_sitting

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_typing_is_autosaved_and_the_keyboard_moves_between_blocks(daphne_server, new_context):
    rec = build_recorded_sitting(factories.make_small_council())
    clerk = rec["clerk"].user
    minutes = services.draft_generate(sitting=rec["sitting"], actor=clerk)
    speeches = list(
        minutes.blocks.filter(kind=Block.Kind.SPEECH, source__startswith="turn:").order_by("position")
    )
    context = new_context()
    context.add_cookies([login_cookie(clerk, daphne_server)])
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{daphne_server.url}/meetings/minutes/{minutes.pk}/edit/")
    status = page.locator("#save-status")
    first = page.locator(f"#text-{speeches[0].pk}")
    first.click()
    page.keyboard.type("ただいまから本日の会議を開きます。")
    expect(status).to_have_text("保存中…", timeout=5000)
    expect(status).to_have_text("すべて保存しました", timeout=10000)
    assert wait_for(lambda: Block.objects.get(pk=speeches[0].pk).text == "ただいまから本日の会議を開きます。")

    # Alt+Down jumps to the next text block (here the chair's suggested line); typing there saves it too.
    editable = list(
        minutes.blocks.filter(kind__in=[Block.Kind.SPEECH, Block.Kind.REMARK])
        .order_by("position")
        .values_list("pk", flat=True)
    )
    following = editable[editable.index(speeches[0].pk) + 1]
    page.keyboard.press("Alt+ArrowDown")
    expect(page.locator(f"#text-{following}")).to_be_focused()
    page.keyboard.press("Control+End")
    page.keyboard.type("(拍手)")
    page.keyboard.press("Control+s")
    assert wait_for(lambda: Block.objects.get(pk=following).text.endswith("(拍手)"))
    assert AuditEntry.objects.filter(action="minutes.block_edited").count() >= 2

    # Ctrl+Enter adds a remark after the current block (typed text is saved before leaving).
    page.keyboard.type("以上です。")
    page.keyboard.press("Control+Enter")
    assert wait_for(lambda: minutes.blocks.filter(kind=Block.Kind.REMARK).exists())
    remark = minutes.blocks.get(kind=Block.Kind.REMARK)
    page.wait_for_url(f"**/edit/#block-{remark.pk}")
    assert Block.objects.get(pk=following).text.endswith("(拍手)以上です。")
    assert remark.position == Block.objects.get(pk=following).position + 1
    page.wait_for_load_state("load")
    expect(page.locator(f"#text-{remark.pk}")).to_be_focused()
    assert errors == []


@pytest.fixture
def queueing_server(transactional_db):
    """A daphne that queues jobs in the database, and the job worker that runs them."""
    from tests.servers import Daphne, free_port, server_env, start_worker

    worker = start_worker()
    server = Daphne(port=free_port(), env=server_env(COUNCIL_TASKS_BACKEND="database")).start()
    yield server
    server.stop()
    worker.stop()


def test_drafting_runs_in_the_job_worker_and_the_page_follows_its_progress(queueing_server, new_context):
    daphne_server = queueing_server
    rec = build_recorded_sitting(factories.make_small_council())
    clerk = rec["clerk"].user
    context = new_context()
    context.add_cookies([login_cookie(clerk, daphne_server)])
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{daphne_server.url}/meetings/minutes/sittings/{rec['sitting'].pk}/")
    page.click("form[action$='/generate/'] button")
    # The job runs in the job worker (not in daphne); the page polls it and opens the editor when done.
    page.wait_for_url("**/meetings/minutes/*/edit/", timeout=20000)
    minutes = rec["sitting"].minutes_versions.get()
    assert page.url.endswith(f"/meetings/minutes/{minutes.pk}/edit/")
    expect(page.locator(".block-speech")).to_have_count(minutes.blocks.filter(kind=Block.Kind.SPEECH).count())
    job = GenerationJob.objects.get(sitting=rec["sitting"])
    assert (job.state, job.progress) == ("done", 100)
    queued = DBTaskResult.objects.get(task_path="meetings.minutes.jobs.generation_task")
    assert queued.status == "SUCCESSFUL" and queued.worker_ids  # run by the worker, through the queue
    assert errors == []


def test_minutes_preview_opens_in_a_dialog_over_the_editor(daphne_server, new_context):
    """#12: 'Preview the PDF' keeps the clerk in the editor: progress in the side column, then the
    PDF in a dialog; closing it returns to the text where it was."""
    rec = build_recorded_sitting(factories.make_small_council())
    clerk = rec["clerk"].user
    minutes = services.draft_generate(sitting=rec["sitting"], actor=clerk)
    context = new_context(viewport={"width": 1366, "height": 768})
    context.add_cookies([login_cookie(clerk, daphne_server)])
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    editor_url = f"{daphne_server.url}/meetings/minutes/{minutes.pk}/edit/"
    page.goto(editor_url)
    page.click("form[data-preview-form] button")
    dialog = page.locator("#preview-dialog")
    expect(dialog).to_be_visible(timeout=30000)
    assert page.url == editor_url
    job = GenerationJob.objects.get(minutes=minutes, kind="pdf")
    expect(dialog.locator("iframe")).to_have_attribute("src", f"/meetings/minutes/jobs/{job.pk}/pdf/")
    expect(page.locator("#job-title")).to_have_text("PDFを作成しました")
    page.screenshot(path="/tmp/clerkday-preview-dialog.png")
    page.click("[data-preview-close]")
    expect(dialog).to_be_hidden()
    assert page.url == editor_url
    assert errors == []
