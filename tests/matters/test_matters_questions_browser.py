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


def test_matters_questions_console_counts_waiting_from_the_real_opening(daphne_server, new_context):
    """The published order queues the questioners ahead of the sitting, placed at its scheduled
    start (here three hours ago). The console shows no waiting time before the opening, and once
    the clerk opens the sitting the times count from then, not from the scheduled start."""
    from meetings.models import Sitting
    from meetings.voting.models import FloorTurn
    from tests.voting.conftest import mark_all_present

    org = factories.make_small_council()
    session, sitting, clerk_user = org["session"], org["sitting"], org["clerk"].user
    now = timezone.localtime()
    start = now - datetime.timedelta(hours=3)
    Sitting.objects.filter(pk=sitting.pk).update(
        date=start.date(), start_time=start.time().replace(microsecond=0), agenda_published_at=now
    )
    sitting.refresh_from_db()
    call = questions.call_open(actor=clerk_user, session=session, deadline=now + datetime.timedelta(hours=1))
    people = org["members"][3:5]
    for person in people:
        questions.question_submit(
            user=person.user,
            call=call,
            topics=[{"subject": "防災対策について", "points": "備蓄の状況は。", "answerers": ["町長"]}],
        )
    type(call).objects.filter(pk=call.pk).update(deadline=now - datetime.timedelta(seconds=1))
    call.refresh_from_db()
    questions.order_fix(actor=clerk_user, call=call, method="receipt")
    questions.publish(actor=clerk_user, call=call, sitting=sitting)
    assert FloorTurn.objects.filter(sitting=sitting, status="waiting").count() == 2
    mark_all_present(sitting, org["members"], clerk_user)

    errors: list[str] = []
    context = new_context()
    context.add_cookies([login_cookie(clerk_user, daphne_server)])
    console = open_page(context, f"{daphne_server.url}/meetings/sittings/{sitting.pk}/console/", errors)
    console.wait_for_function("() => window.councilLive && window.councilLive.connected")
    waits = console.locator('[data-voting="queue"] .voting-wait')
    waits.nth(1).wait_for(state="attached")
    console.wait_for_timeout(1200)  # a tick of the timer
    assert waits.all_inner_texts() == ["", ""]  # not "待機 180:00": nobody waits before the opening

    console.locator('[data-command="sitting.open"]').click()
    console.wait_for_function(
        """() => [...document.querySelectorAll('[data-voting="queue"] .voting-wait')]
                 .every((span) => /^待機 0:0\\d$/.test(span.textContent))""",
        timeout=15000,
    )
    assert not errors
