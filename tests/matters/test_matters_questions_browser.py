"""In Chromium against a real daphne: the clerk's list of general questions grows as a member gives
notice, without a reload (the page follows the clerks' stream and fetches the list again)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from meetings.matters import questions
from tests import factories
from tests.browser import login_cookie, open_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_matters_questions_clerks_list_updates_live(daphne_server, new_context):
    org = factories.make_small_council()
    session = org["session"]
    questions.call_open(
        actor=org["clerk"].user, session=session, deadline=timezone.now() + datetime.timedelta(hours=2)
    )
    errors: list[str] = []
    clerk = new_context()
    clerk.add_cookies([login_cookie(org["clerk"].user, daphne_server)])
    page = open_page(
        clerk, f"{daphne_server.url}/meetings/matters/manage/sessions/{session.pk}/questions/", errors
    )
    page.wait_for_selector("#received-list[data-live=on]")
    assert page.locator("tr[data-question]").count() == 0
    # Once the socket has its state, the member gives notice from their own browser.
    page.wait_for_selector("#received-list[data-connected='1']", timeout=20000)
    page.evaluate("window.sameDocument = true")
    member = org["members"][4]
    tablet = new_context()
    tablet.add_cookies([login_cookie(member.user, daphne_server)])
    form = open_page(
        tablet, f"{daphne_server.url}/meetings/matters/sessions/{session.pk}/my-questions/", errors
    )
    form.fill("#id_subject_0", "図書館の開館時間について")
    form.fill("#id_points_0", "夜間開館の試行は。")
    form.check("input[name=answerers_0][value='教育長']")
    form.locator("form button.btn-primary").first.click()
    form.wait_for_load_state()
    page.wait_for_function("() => document.querySelectorAll('tr[data-question]').length === 1", timeout=15000)
    row = page.locator("tr[data-question]").first.inner_text()
    assert member.full_name in row and "図書館の開館時間について" in row
    assert page.locator("[data-questions-count]").inner_text() == "1"
    assert page.evaluate("window.sameDocument === true")  # no reload
    assert not errors
