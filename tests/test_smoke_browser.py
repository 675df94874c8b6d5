import pytest

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
