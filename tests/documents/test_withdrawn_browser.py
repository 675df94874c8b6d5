"""#12 in Debian's Chromium: withdrawing a document asks first, in a dialog; cancelling changes
nothing, confirming withdraws it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from documents.models import Document
from tests import factories
from tests.browser import login_cookie
from tests.documents.helpers import upload

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.parametrize("width,height", [(1366, 768), (820, 1180)])
def test_withdraw_asks_for_confirmation_in_a_dialog(daphne_server, new_context, pdf_files, width, height):
    org = factories.make_small_council()
    document = upload(org, pdf_files["base"], title="議案第45号 説明資料")
    context = new_context(viewport={"width": width, "height": height})
    context.add_cookies([login_cookie(org["clerk"].user, daphne_server)])
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{daphne_server.url}/documents/{document.pk}/")
    dialog = page.locator("#withdraw-dialog")
    page.click("form[data-confirm-dialog] button")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("この資料を取り下げますか")
    page.screenshot(path=f"/tmp/clerkday-withdraw-dialog-{width}x{height}.png")
    page.click("#withdraw-dialog [data-confirm=no]")
    expect(dialog).to_be_hidden()
    document.refresh_from_db()
    assert document.release_state == Document.Release.RELEASED
    page.click("form[data-confirm-dialog] button")
    with page.expect_navigation():
        page.click("#withdraw-dialog [data-confirm=yes]")
    document.refresh_from_db()
    assert document.release_state == Document.Release.WITHDRAWN
    assert errors == []
