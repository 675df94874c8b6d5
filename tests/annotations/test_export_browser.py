"""The annotated-PDF export on a tablet, in Debian's Chromium against daphne and a real job worker:
the pen panel's button starts the job, a sheet over the page follows it and offers the download,
and the member never leaves the reader."""

import io
import uuid
from pathlib import Path

import pikepdf
import pytest
from django_tasks_db.models import DBTaskResult
from playwright.sync_api import expect

from documents.annotations import services
from documents.annotations.models import AnnotationExport
from tests import factories
from tests.annotations.helpers import make_document
from tests.browser import login_cookie

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VIEWPORTS = {"portrait": (820, 1180), "landscape": (1180, 820), "laptop": (1366, 768)}
SHOTS = Path("/tmp/annotation-export")
AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
NOTE = "討論で触れる"


@pytest.fixture
def queueing_server(transactional_db):
    """A daphne that queues jobs in the database; the test starts the job worker when it wants."""
    from tests.servers import Daphne, free_port, server_env

    server = Daphne(port=free_port(), env=server_env(COUNCIL_TASKS_BACKEND="database")).start()
    yield server
    server.stop()


def _open_export(context, server, document):
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    url = f"{server.url}/documents/{document.pk}/read/"
    page.goto(url)
    page.wait_for_selector(".reader-pane.is-active .annot-overlay canvas", state="attached", timeout=45000)
    page.locator("#reader-bar [data-action=tools]").click()
    button = page.locator("#reader-tools [data-annot=export]")
    expect(button).to_be_visible()
    box = button.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44  # a finger's target
    button.click()
    sheet = page.locator("#annot-export")
    expect(sheet).to_be_visible()
    expect(page.locator("#reader-tools")).to_be_hidden()  # one sheet at a time
    assert page.url == url  # still in the reader
    return page, sheet, errors


def test_export_sheet_follows_the_worker_and_offers_the_download(queueing_server, new_context):
    from tests.servers import start_worker

    org = factories.make_small_council()
    document = make_document(org["council"], org["plenary"], pages=3)
    member = org["members"][4].user
    services.annotations_sync(
        member=member,
        changes=[
            {
                "client_id": str(uuid.uuid4()),
                "version": document.current_version.pk,
                "page": 1,
                "kind": "note",
                "geometry": {"x": 0.4, "y": 0.4},
                "text": NOTE,
            }
        ],
    )
    SHOTS.mkdir(exist_ok=True)
    pages = {}
    # No job worker yet: each tablet's sheet shows the export waiting, and the page stays usable.
    for name, (width, height) in VIEWPORTS.items():
        # bypass_csp: the strict policy would refuse the injected axe-core script.
        context = new_context(viewport={"width": width, "height": height}, has_touch=True, bypass_csp=True)
        context.add_cookies([login_cookie(member, queueing_server)])
        page, sheet, errors = _open_export(context, queueing_server, document)
        expect(sheet).to_have_attribute("data-state", "queued")
        expect(sheet.locator(".annot-export-message")).to_have_text("処理の順番を待っています…")
        expect(sheet.locator("[data-export-action=download]")).to_be_hidden()
        page.screenshot(path=str(SHOTS / f"waiting-{width}x{height}.png"))
        pages[name] = (page, sheet, errors)
    assert AnnotationExport.objects.filter(member=member).count() == 1  # three taps, one job
    export = AnnotationExport.objects.get(member=member)
    assert export.state == "queued" and not export.output

    worker = start_worker()
    try:
        for name, (width, height) in VIEWPORTS.items():
            page, sheet, errors = pages[name]
            download = sheet.locator("[data-export-action=download]")
            expect(download).to_be_visible(timeout=30000)
            expect(sheet).to_have_attribute("data-state", "done")
            expect(sheet.locator(".annot-export-message")).to_have_text("書き込み入りのPDFができました。")
            box = download.bounding_box()
            assert box["height"] >= 56 and box["width"] >= 120  # large, for a finger
            page.screenshot(path=str(SHOTS / f"ready-{width}x{height}.png"))
        page, sheet, errors = pages["portrait"]
        # axe-core (node_modules, pinned) finds nothing serious in the sheet.
        page.add_script_tag(content=AXE_JS.read_text())
        found = page.evaluate(
            """() => axe.run('#annot-export', {runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa']}).then((r) =>
                r.violations.filter((v) => ['serious', 'critical'].includes(v.impact)).map((v) => v.id))"""
        )
        assert found == []
        with page.expect_download() as info:
            sheet.locator("[data-export-action=download]").click()
        data = Path(info.value.path()).read_bytes()
        with pikepdf.open(io.BytesIO(data)) as pdf:
            assert str(pdf.pages[0].obj.Annots[0].Contents) == NOTE
        queued = DBTaskResult.objects.get(task_path="documents.annotations.jobs.export_task")
        assert queued.status == "SUCCESSFUL" and queued.worker_ids  # run by the worker, through the queue

        # A damaged file: the sheet says so, in Japanese, and offers to try again.
        version = document.current_version
        with version.served_file.open("wb") as damaged:
            damaged.write(b"%PDF-1.7\nbroken")
        page, sheet, errors = pages["landscape"]
        sheet.locator("[data-export-action=close]").click()
        expect(sheet).to_be_hidden()
        page.locator("#reader-bar [data-action=tools]").click()
        page.locator("#reader-tools [data-annot=export]").click()
        expect(sheet).to_have_attribute("data-state", "failed", timeout=30000)
        expect(sheet.locator(".annot-export-message")).to_have_text(
            "資料のファイルを読み込めなかったため、PDFを作成できませんでした。事務局にお知らせください。"
        )
        expect(sheet.locator("[data-export-action=retry]")).to_be_visible()
        expect(sheet.locator("[data-export-action=download]")).to_be_hidden()
        page.screenshot(path=str(SHOTS / "failed-1180x820.png"))
        # The export's own page (without script, or opened later) says the same.
        failed = AnnotationExport.objects.get(member=member)
        assert failed.state == "failed" and failed.error == "unreadable"
        page.goto(f"{queueing_server.url}/documents/annotations/exports/{failed.pk}/")
        expect(page.locator(".annot-export-message")).to_contain_text("資料のファイルを読み込めなかった")
        page.screenshot(path=str(SHOTS / "export-page-1180x820.png"))
    finally:
        worker.stop()
    for _page, _sheet, errors in pages.values():
        assert errors == []
