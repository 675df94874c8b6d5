"""In Debian's Chromium: a remote member asks for the floor from the reader and the chair gives it; the
chair opens a roll-call vote in the live console, two members vote from their readers (one attending
online), the chair closes and declares, both readers show the result."""

from __future__ import annotations

import pytest
from django.utils import timezone

from meetings.models import Sitting
from meetings.voting.models import Ballot, Poll
from tests import factories
from tests.browser import login_cookie, open_page
from tests.voting.conftest import make_remote, mark_all_present

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_roll_call_vote_from_console_and_two_readers_one_remote(daphne_server, new_context):
    org = factories.make_small_council()
    sitting = factories.make_sitting(org["session"], org["committee"], place="第1委員会室")
    Sitting.objects.filter(pk=sitting.pk).update(
        status=Sitting.Status.OPEN, opened_at=timezone.now(), agenda_published_at=timezone.now()
    )
    sitting.refresh_from_db()
    factories.make_agenda_item(
        sitting, title="町税条例の一部を改正する条例について", bill_number="議案第45号"
    )
    chair, in_room, remote = org["members"][2], org["members"][4], org["members"][6]
    mark_all_present(sitting, [chair, org["members"][3], in_room, org["members"][5]], org["clerk"].user)
    make_remote(sitting, remote, chair_user=chair.user, clerk_user=org["clerk"].user)
    errors: list[str] = []

    chair_context = new_context()
    chair_context.add_cookies([login_cookie(chair.user, daphne_server)])
    console = open_page(chair_context, f"{daphne_server.url}/meetings/sittings/{sitting.pk}/console/", errors)
    console.wait_for_function("() => window.councilLive && window.councilLive.connected")
    console.locator('[data-voting="quorum"].is-met').wait_for()

    readers = []
    for member in (in_room, remote):
        context = new_context(viewport={"width": 1024, "height": 768})
        context.add_cookies([login_cookie(member.user, daphne_server)])
        page = open_page(context, f"{daphne_server.url}/meetings/sittings/{sitting.pk}/reader/", errors)
        page.wait_for_function("() => window.councilLive && window.councilLive.connected")
        readers.append(page)

    # The remote member asks for the floor from the reader; the chair gives it; every tablet shows the speaker.
    # The floor is in the chamber sheet, opened from the reader's bar.
    readers[1].locator('[data-action="chamber"]').click()
    readers[1].locator('[data-voting-action="floor"]').click()
    readers[1].locator('[data-voting="floor-status"]', has_text="1番目").wait_for()
    console.locator('[data-voting="queue"] li').first.get_by_role("button", name="発言を許可").click()
    for page in readers:
        page.locator('[data-voting="speaker"] .voting-speaking', has_text=remote.full_name).wait_for(
            state="attached"
        )
    console.get_by_role("button", name="発言を終える").click()
    readers[0].locator('[data-voting="speaker"]', has_text="発言者なし").wait_for(state="attached")
    readers[1].locator('[data-action="chamber"]').click()  # closed again: nothing of voting on the page
    assert readers[1].locator("#chamber-sheet").is_hidden() and readers[1].locator("#vote-sheet").is_hidden()

    # The chair puts the question by roll call.
    form = console.locator('[data-voting-form="motion"]')
    form.locator('input[name="title"]').fill("議案第45号 町税条例の一部を改正する条例について")
    form.locator('select[name="method"]').select_option("roll_call")

    form.get_by_role("button", name="表決に付す").click()
    console.locator('[data-voting="poll"] .voting-not-yet li').first.wait_for()
    assert console.locator('[data-voting="poll"] .voting-not-yet li').count() == 4

    # Each member votes from the reader: choose, then confirm (a ballot cannot be changed).
    for page, choice in zip(readers, ["yes", "yes"], strict=True):
        page.locator(f'[data-voting="poll"] .voting-choices .btn-{choice}').click()
        page.locator(f'[data-voting="poll"] .voting-confirm .btn-{choice}').click()
        page.locator('[data-voting="poll"] .voting-receipt').wait_for()
    assert "投票を受け付けました" in readers[1].locator('[data-voting="poll"]').inner_text()
    console.wait_for_function(
        "() => document.querySelectorAll('[data-voting=\"poll\"] .voting-not-yet li').length === 2"
    )

    # The chair closes the vote and declares the result.
    console.get_by_role("button", name="表決を締め切る").click()
    console.get_by_role("button", name="結果を宣告する").click()
    for page in readers:
        page.locator('#vote-sheet [data-voting="poll"] [data-outcome]').wait_for()
    poll = Poll.objects.get(sitting=sitting)
    assert poll.state == "declared" and (poll.yes_count, poll.no_count, poll.outcome) == (2, 0, "carried")
    for page in readers:
        text = page.locator('[data-voting="poll"]').inner_text()
        assert "可決" in text and "賛成 2 / 反対 0" in text
    assert set(Ballot.objects.filter(poll=poll).values_list("member_id", flat=True)) == {
        in_room.pk,
        remote.pk,
    }
    assert errors == []
