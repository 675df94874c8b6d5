"""The clerk's matter page offers only the steps possible next (the services still refuse the
others), and the council's matter settings are edited in the product, audited."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from council.models import AuditEntry
from meetings.matters import rules, services
from meetings.matters.models import MatterSettings

pytestmark = pytest.mark.django_db


def _forms(client, matter) -> set[str]:
    html = client.get(f"/meetings/matters/manage/{matter.pk}/").content.decode()
    return set(re.findall(r'data-step="([a-z_]+)"', html))


@pytest.fixture
def clerk(world):
    client = Client()
    client.force_login(world["clerk_user"])
    return client


def test_matters_page_offers_only_the_next_possible_steps(world, submit, clerk):
    user = world["clerk_user"]
    bill = submit()
    assert _forms(clerk, bill) == {"place", "withdraw"}
    services.matter_place(actor=user, matter=bill, sitting=world["plenary1"])
    # On the plenary's agenda: explain, question, refer or omit referral, vote or decide; no
    # committee decision nor chair's report (never referred).
    assert _forms(clerk, bill) == {"place", "step", "refer", "motion", "decide", "withdraw"}
    services.matter_refer(actor=user, matter=bill, committee=world["committee"], sitting=world["plenary1"])
    # Referred: the plenary waits for the committee; only the committee's sitting can take it up.
    html = clerk.get(f"/meetings/matters/manage/{bill.pk}/").content.decode()
    assert _forms(clerk, bill) == {"place", "step", "withdraw"}
    assert 'value="referral_omitted"' not in html and 'value="referred"' not in html
    place_form = html[
        html.index('data-step="place"') : html.index("</form>", html.index('data-step="place"'))
    ]
    assert (
        f'value="{world["committee1"].pk}"' in place_form
        and f'value="{world["plenary1"].pk}"' not in place_form
    )
    services.matter_place(actor=user, matter=bill, sitting=world["committee1"])
    assert {"examine", "motion"} <= _forms(clerk, bill) and "chair_report" not in _forms(clerk, bill)
    services.matter_examine(actor=user, matter=bill, decision=rules.SHOULD_PASS, sitting=world["committee1"])
    assert "examine" not in _forms(clerk, bill) and "chair_report" in _forms(clerk, bill)
    assert "decide" not in _forms(clerk, bill)  # the chair reports before the plenary decides
    services.matter_chair_report(actor=user, matter=bill, sitting=world["plenary1"])
    assert {"decide", "motion"} <= _forms(clerk, bill) and "chair_report" not in _forms(clerk, bill)
    services.matter_decide(actor=user, matter=bill, result=rules.PASSED, sitting=world["plenary1"])
    assert _forms(clerk, bill) == set()


def test_matters_absent_steps_are_still_refused_by_the_server(world, submit, clerk):
    bill = submit()
    services.matter_place(actor=world["clerk_user"], matter=bill, sitting=world["plenary1"])
    assert "chair_report" not in _forms(clerk, bill)
    response = clerk.post(
        f"/meetings/matters/manage/{bill.pk}/act/",
        {"action": "chair_report", "sitting": world["plenary1"].pk},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "never referred to a committee; there is nothing to report" in response.content.decode()
    assert not bill.steps.filter(kind=rules.CHAIR_REPORT).exists()


def test_matters_results_offered_follow_the_amendments(world, submit, clerk):
    user = world["clerk_user"]
    bill = submit()
    services.matter_place(actor=user, matter=bill, sitting=world["plenary1"])
    html = clerk.get(f"/meetings/matters/manage/{bill.pk}/").content.decode()
    assert 'value="passed"' in html and 'value="amended"' not in html and 'value="continued"' not in html
    amendment = services.matter_submit(
        actor=user,
        session=world["session"],
        kind=rules.AMENDMENT,
        amends=bill,
        title="修正案",
        submitter_kind="members",
        sponsors=[(world["members"][3], "proposer")],
    )
    # The matter cannot be decided before its amendment; the amendment can be placed with it.
    assert "decide" not in _forms(clerk, bill) and "motion" not in _forms(clerk, bill)
    assert "place" in _forms(clerk, amendment)
    services.matter_place(actor=user, matter=amendment, sitting=world["plenary1"])
    services.matter_decide(actor=user, matter=amendment, result=rules.CARRIED, sitting=world["plenary1"])
    html = clerk.get(f"/meetings/matters/manage/{bill.pk}/").content.decode()
    assert 'value="amended"' in html and 'value="passed"' not in html


def test_matters_settings_are_edited_by_clerks_and_audited(world, submit, clerk):
    url = "/meetings/matters/manage/settings/"
    page = clerk.get(url)
    assert page.status_code == 200 and "番号の付け方" in page.content.decode()
    response = clerk.post(url, {"numbering": "session", "publish_counted_names": "on"})
    assert response.status_code == 302
    saved = MatterSettings.objects.get(council=world["council"])
    assert saved.numbering == "session" and saved.publish_counted_names
    entry = AuditEntry.objects.get(action="matter.settings")
    assert entry.data["after"] == {"numbering": "session", "publish_counted_names": True}
    # Once matters are numbered this year, the numbering stays; the refusal changes nothing.
    submit()
    response = clerk.post(url, {"numbering": "year"})
    assert response.status_code == 400
    assert "番号が付いています" in response.content.decode()
    saved.refresh_from_db()
    assert saved.numbering == "session" and saved.publish_counted_names
    assert AuditEntry.objects.filter(action="matter.settings").count() == 1
    # Bad input is refused by the form.
    assert clerk.post(url, {"numbering": "forever"}).status_code == 400


def test_matters_settings_are_for_the_secretariat_only(world):
    member = Client()
    member.force_login(world["members"][3].user)
    assert member.get("/meetings/matters/manage/settings/").status_code == 403
    assert member.post("/meetings/matters/manage/settings/", {"numbering": "session"}).status_code == 403
    anonymous = Client().get("/meetings/matters/manage/settings/")
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    assert not MatterSettings.objects.exists()


def _sitting_page(client, sitting) -> tuple[dict[int, list[str]], set[int]]:
    """The per-sitting page: the one-click steps offered for each matter on the agenda (matter id
    → step codes) and the matters offered for placing on this sitting."""
    html = client.get(f"/meetings/matters/manage/sittings/{sitting.pk}/").content.decode()
    offered: dict[int, list[str]] = {}
    for row in re.findall(r"<tr>(.*?)</tr>", html, flags=re.S):
        found = re.search(r'href="/meetings/matters/manage/(\d+)/"', row)
        if found:
            offered[int(found.group(1))] = re.findall(r'<option value="([a-z_]+)"', row)
    placing = {int(pk) for pk in re.findall(r'data-place="(\d+)"', html)}
    return offered, placing


def test_matters_sitting_page_offers_each_matter_only_its_possible_steps(world, submit, clerk):
    user = world["clerk_user"]
    plenary, committee = world["plenary1"], world["committee1"]
    bill = submit()
    other = submit(title="手数料条例の一部を改正する条例")
    services.matter_place(actor=user, matter=bill, sitting=plenary)
    services.matter_place(actor=user, matter=other, sitting=plenary)
    offered, _placing = _sitting_page(clerk, plenary)
    both = [rules.EXPLAINED, rules.QUESTIONED, rules.REFERRAL_OMITTED, rules.DEBATED]
    assert offered == {bill.pk: both, other.pk: both}

    # Referred: no more 委員会付託省略, and no 討論 before the committee chair has reported.
    services.matter_refer(actor=user, matter=bill, committee=world["committee"], sitting=plenary)
    offered, _placing = _sitting_page(clerk, plenary)
    assert offered[bill.pk] == [rules.EXPLAINED, rules.QUESTIONED]
    # Referral omitted for the other: it goes straight to debate and vote.
    services.matter_step_record(actor=user, matter=other, kind=rules.REFERRAL_OMITTED, sitting=plenary)
    offered, _placing = _sitting_page(clerk, plenary)
    assert offered[other.pk] == [rules.EXPLAINED, rules.QUESTIONED, rules.DEBATED]

    # The committee's sitting offers to place only the matter referred to it (the other would be
    # refused there), and no 付託省略 once it is on that agenda.
    offered, placing = _sitting_page(clerk, committee)
    assert offered == {} and placing == {bill.pk}
    services.matter_place(actor=user, matter=bill, sitting=committee)
    offered, placing = _sitting_page(clerk, committee)
    assert offered == {bill.pk: [rules.EXPLAINED, rules.QUESTIONED, rules.DEBATED]} and placing == set()

    # Decided: nothing to record any more, and no note either.
    services.matter_decide(actor=user, matter=other, result=rules.PASSED, sitting=plenary)
    offered, _placing = _sitting_page(clerk, plenary)
    assert offered[other.pk] == []
    html = clerk.get(f"/meetings/matters/manage/sittings/{plenary.pk}/").content.decode()
    assert html.count("data-no-steps") == 0


def test_matters_page_says_when_it_was_published_as_the_other_dates_do(world, submit, clerk):
    """Japanese dates on the clerk's matter page are in the era form (令和8年…), the publication's too."""
    bill = submit()
    services.matter_publish(actor=world["clerk_user"], matter=bill)
    bill.refresh_from_db()
    clerk.cookies["django_language"] = "ja"
    html = clerk.get(f"/meetings/matters/manage/{bill.pk}/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    published = html.split("<dt>公開済み</dt>", 1)[1].split("</dd>", 1)[0]
    assert "令和" in published and f"{bill.published_at:%Y-%m-%d}" not in published, published
