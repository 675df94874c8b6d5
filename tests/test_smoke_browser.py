"""Browser tests in Debian's Chromium against a real daphne: sign-in, the demo agenda in both languages,
reordering the order of business by dragging and by keyboard, touch-target sizes."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.factories import PASSWORD, make_council, make_person


@pytest.mark.browser
def test_sign_in_page_renders_in_chromium(daphne_server, new_context):
    council = make_council()
    person = make_person(council)
    page = new_context().new_page()
    page.goto(daphne_server.url + "/accounts/login/")
    page.fill("#id_username", person.user.username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(daphne_server.url + "/")
    assert page.locator("h1").count() >= 1


def sign_in(page, server, username, password="demo"):
    page.goto(server.url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")
    page.wait_for_url(server.url + "/")


def small_targets(page, selector):
    """Visible interactive elements in ``selector`` smaller than 44px in height or width."""
    return page.eval_on_selector_all(
        selector,
        """els => els.filter(e => e.offsetParent !== null && e.getAttribute('aria-hidden') !== 'true')
                 .map(e => [e.textContent.trim().slice(0, 30), e.getBoundingClientRect()])
                 .filter(([t, r]) => r.height < 44 || r.width < 44)
                 .map(([t, r]) => `${t}: ${Math.round(r.width)}x${Math.round(r.height)}`)""",
    )


@pytest.mark.browser
def test_councillor_sees_demo_agenda_in_japanese_then_english(daphne_server, new_context, settings):
    settings.DEMO = True
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    page = new_context(locale="ja-JP", viewport={"width": 1280, "height": 800}).new_page()
    sign_in(page, daphne_server, "giin04")

    main = page.locator("main")
    assert page.locator("html").get_attribute("lang") == "ja"
    assert "今後の会議" in main.inner_text()
    assert "令和8年第4回定例会 本会議 第1号" in main.inner_text()
    assert "日程第1" in main.inner_text() and "会議録署名議員の指名" in main.inner_text()
    assert "議案第45号" in main.inner_text() and "磐梯町税条例の一部を改正する条例" in main.inner_text()
    assert "令和" in page.locator("main time").first.inner_text()
    assert small_targets(page, "main a.btn, main button, header button, header a") == []

    page.click("header .lang-switch button[value=en]")
    page.wait_for_load_state("load")
    assert page.locator("html").get_attribute("lang") == "en"
    text = page.locator("main").inner_text()
    assert "Upcoming sittings" in text and "Item 1" in text
    assert "Nomination of members to sign the minutes" in text
    assert "Ordinance partially amending the Bandai Town Tax Ordinance" in text
    assert "2026 4th Regular Session Plenary No. 1" in text or "4th Regular Session" in text

    page.locator("main a.btn-primary").first.click()
    page.wait_for_url("**/meetings/sittings/*/")
    assert "Order of business" in page.locator("main h2").first.inner_text()
    assert "Item 5" in page.locator("main").inner_text()


@pytest.mark.browser
def test_clerk_reorders_by_drag_and_by_keyboard(daphne_server, new_context, settings):
    settings.DEMO = True
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    from meetings.models import Sitting

    sitting = Sitting.objects.get(session__number=4, body__kind="plenary")  # the current session
    titles = lambda: list(sitting.agenda_items.order_by("position").values_list("title", flat=True))  # noqa: E731
    before = titles()
    page = new_context(locale="ja-JP").new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "response", lambda r: errors.append(r.url) if r.status >= 400 and "favicon" not in r.url else None
    )
    sign_in(page, daphne_server, "shoki")
    page.goto(f"{daphne_server.url}/meetings/sittings/{sitting.pk}/agenda/")

    rows = page.locator("#agenda-order li[data-item-id]")
    rows.nth(2).drag_to(rows.nth(0))
    expect(page.locator("#order-status")).to_have_text("順番を変更しました。")
    after_drag = titles()
    assert after_drag[0] == before[2] and sorted(after_drag) == sorted(before)
    assert page.locator("#agenda-order li[data-item-id] .agenda-label").first.inner_text() == "日程第1"

    # Keyboard only: focus the second row's "Down" button and press Enter (a plain form post, no script).
    page.locator("#agenda-order li[data-item-id]").nth(1).locator("button[value=down]").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    after_key = titles()
    assert after_key[1] == after_drag[2] and after_key[2] == after_drag[1]
    assert small_targets(page, "#agenda-order button, #agenda-order a, main button[type=submit]") == []
    assert errors == []
