"""The start page leads with what is happening now: from sign-in to the presented page in two taps."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from meetings.live import services as live_services
from meetings.models import AgendaItemDocument, Sitting
from tests import factories


@pytest.fixture(autouse=True)
def _japanese(settings):
    settings.LANGUAGE_CODE = "ja"


def open_sitting(org, *, status=Sitting.Status.OPEN):
    sitting = org["sitting"]
    Sitting.objects.filter(pk=sitting.pk).update(
        status=status, opened_at=timezone.now(), agenda_published_at=timezone.now(), date=timezone.localdate()
    )
    sitting.refresh_from_db()
    return sitting


def home(user):
    client = Client()
    client.force_login(user)
    return client.get("/").content.decode()


def test_sitting_in_session_is_the_first_card_with_one_button_into_the_reader(db):
    org = factories.make_small_council()
    sitting = open_sitting(org)
    item = factories.make_agenda_item(sitting, title="町税条例の一部改正について")
    live_services.agenda_move(sitting=sitting, actor=org["clerk"].user, agenda_item=item)
    later = factories.make_sitting(org["session"], org["committee"], date=timezone.localdate())
    html = home(org["members"][4].user)
    reader = f'href="/meetings/sittings/{sitting.pk}/reader/"'
    assert reader in html and "ただいま開会中" in html and "説明中の資料を開く" in html
    assert "審議中: " in html and "町税条例の一部改正について" in html
    # First: now; then today's sittings; then notices; then later ones.
    order = [html.index(reader), html.index('id="today-heading"'), html.index('id="upcoming-heading"')]
    assert order == sorted(order)
    assert html.index('id="now-heading"') < html.index("<h3")
    # The member lands on the button after signing in.
    button = html[html.index('data-testid="now-open"') :]
    assert "autofocus" in button[: button.index(">")]
    # The sitting in session is not listed a second time; today's other sitting is under today.
    assert html.count(f'href="/meetings/sittings/{sitting.pk}/"') == 0
    today_part = html[html.index('id="today-heading"') : html.index('id="upcoming-heading"')]
    assert f"/meetings/sittings/{later.pk}/" in today_part


def test_no_card_when_nothing_is_in_session_or_for_another_body(db):
    org = factories.make_small_council()
    html = home(org["members"][4].user)
    assert 'data-testid="now-open"' not in html and "autofocus" not in html
    committee_sitting = factories.make_sitting(org["session"], org["committee"])
    Sitting.objects.filter(pk=committee_sitting.pk).update(status=Sitting.Status.OPEN)
    outsider = next(p for p in org["members"] if not p.memberships.filter(body=org["committee"]).exists())
    assert 'data-testid="now-open"' not in home(outsider.user)


def test_recess_is_said(db):
    org = factories.make_small_council()
    open_sitting(org, status=Sitting.Status.RECESS)
    html = home(org["members"][4].user)
    assert "休憩中" in html and 'data-testid="now-open"' in html


@pytest.mark.browser
@pytest.mark.slow
def test_sign_in_during_a_sitting_then_one_tap_to_the_presented_page(
    daphne_server, new_context, tmp_path, settings
):
    from tests.documents import pdfs
    from tests.documents.helpers import upload

    org = factories.make_small_council()
    sitting = open_sitting(org)
    item = factories.make_agenda_item(sitting, title="町税条例の一部改正について", bill_number="議案第45号")
    path = tmp_path / "議案.pdf"
    path.write_bytes(pdfs.japanese_pdf([f"第{n}頁 本文" for n in range(1, 6)], title="議案第45号"))
    document = upload(org, path, title="議案第45号")
    AgendaItemDocument.objects.create(agenda_item=item, document=document)
    live_services.agenda_move(sitting=sitting, actor=org["clerk"].user, agenda_item=item)
    live_services.document_present(sitting=sitting, actor=org["clerk"].user, document_id=document.pk, page=3)
    member = org["members"][4]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]  # the server's own
    member.user.set_password(factories.PASSWORD)
    member.user.save()

    page = new_context(
        viewport={"width": 820, "height": 1180}, device_scale_factor=2, has_touch=True, is_mobile=True
    ).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{daphne_server.url}/accounts/login/")
    page.fill("#id_username", member.user.username)
    page.fill("#id_password", factories.PASSWORD)
    page.locator("form button[type=submit]").last.tap()  # tap 1: sign in
    page.wait_for_url(f"{daphne_server.url}/")
    page.wait_for_function(
        "() => document.activeElement && document.activeElement.dataset.testid === 'now-open'"
    )
    button = page.locator("[data-testid=now-open]")
    box = button.bounding_box()
    assert box["y"] + box["height"] <= 1180 and box["height"] >= 64
    page.screenshot(path=str(tmp_path / "start.png"))
    button.tap()  # tap 2: the presented page, following the presenter
    page.wait_for_function(
        """([doc]) => { const r = window.councilReader; const w = document.querySelector('.reader-pane.is-active .page-wrap');
            return r && r.current.documentId === doc && r.current.page === 3 && w && w.dataset.page === '3'; }""",
        arg=[document.pk],
        timeout=30000,
    )
    assert page.locator("#live-bar").get_attribute("data-following") == "true"
    assert errors == []
