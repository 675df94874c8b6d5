"""Sign-in hardening: throttling (django-axes), session rotation, the TOTP second factor."""

import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from council.models import AuditEntry
from tests import factories

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def sign_in(client, username, password=factories.PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def current_code(device: TOTPDevice, *, offset_steps: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + offset_steps * device.step
    return f"{totp.token():0{device.digits}d}"


@pytest.fixture
def clerk_user(org):
    return org["clerk"].user


def test_password_guessing_locks_the_username_at_that_address(client, org, settings):
    settings.AXES_FAILURE_LIMIT = 3
    user = org["members"][0].user
    for _ in range(2):
        response = sign_in(client, user.username, "wrong-password")
        assert response.status_code == 200
        assert 'class="error" role="alert"' in response.content.decode()
    response = sign_in(client, user.username, "wrong-password", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 429
    # Locked: even the right password is refused now, with the lockout message.
    response = sign_in(client, user.username, factories.PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    body = response.content.decode()
    assert "ログインの試行が多すぎます" in body


def test_lockout_is_per_username_and_address(client, org, settings):
    settings.AXES_FAILURE_LIMIT = 2
    victim, other = org["members"][0].user, org["members"][1].user
    for _ in range(2):
        sign_in(client, victim.username, "wrong", REMOTE_ADDR="203.0.113.9")
    assert sign_in(client, victim.username, REMOTE_ADDR="203.0.113.9").status_code == 429
    # Another user from the same address, and the same user from elsewhere, still sign in.
    assert sign_in(client, other.username, REMOTE_ADDR="203.0.113.9").status_code == 302
    client.logout()
    assert sign_in(client, victim.username, REMOTE_ADDR="198.51.100.7").status_code == 302


def test_lockout_message_is_translated(client, org, settings):
    settings.AXES_FAILURE_LIMIT = 1
    user = org["members"][0].user
    sign_in(client, user.username, "wrong")
    response = sign_in(client, user.username, "wrong")
    assert response.status_code == 429
    body = response.content.decode()
    assert "ログインの試行が多すぎます" in body or "失敗が続いた" in body, body[:2000]


def test_success_resets_the_failure_count(client, org, settings):
    settings.AXES_FAILURE_LIMIT = 3
    user = org["members"][0].user
    sign_in(client, user.username, "wrong")
    sign_in(client, user.username, "wrong")
    assert sign_in(client, user.username).status_code == 302
    client.logout()
    sign_in(client, user.username, "wrong")
    sign_in(client, user.username, "wrong")
    assert sign_in(client, user.username).status_code == 302


def test_session_key_rotates_at_sign_in(client, org):
    session = client.session
    session["planted"] = "by an attacker"
    session.save()
    before = session.session_key
    client.cookies["sessionid"] = before
    assert sign_in(client, org["members"][0].user.username).status_code == 302
    after = client.cookies["sessionid"].value
    assert after and after != before
    assert client.session.get("planted") == "by an attacker"  # data kept, key new


def test_admin_sign_in_goes_through_the_one_sign_in_page(client, org):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_totp_enrolment_shows_qr_and_secret_then_confirms(client, clerk_user):
    client.force_login(clerk_user)
    response = client.get(reverse("security:totp"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'src="data:image/svg+xml' in body
    device = TOTPDevice.objects.get(user=clerk_user, confirmed=False)
    assert device.config_url.startswith("otpauth://totp/")
    response = client.post(
        reverse("security:totp"), {"action": "confirm", "token": "000000"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    device.refresh_from_db()
    assert not device.confirmed
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()
    response = client.post(reverse("security:totp"), {"action": "confirm", "token": current_code(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEntry.objects.filter(action="security.totp_enrolled").count() == 1


def test_wrong_enrolment_code_is_refused_with_reason(client, clerk_user, settings):
    client.force_login(clerk_user)
    client.get(reverse("security:totp"))
    response = client.post(reverse("security:totp"), {"action": "confirm", "token": "123"})
    assert response.status_code == 400
    assert "コードが正しくありません" in response.content.decode()


def test_councillors_cannot_enrol(client, org):
    client.force_login(org["members"][3].user)
    assert client.get(reverse("security:totp")).status_code == 403


def enrolled(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="totp", confirmed=True)


def test_clerk_with_device_must_give_the_code(client, clerk_user):
    device = enrolled(clerk_user)
    response = sign_in(client, clerk_user.username)
    assert response.status_code == 302 and response["Location"] == reverse("security:second_factor")
    assert "_auth_user_id" not in client.session  # not signed in yet
    assert client.get("/").status_code == 302  # the home page still asks for sign-in
    response = client.post(reverse("security:second_factor"), {"token": "000001"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "The code is not correct" in response.content.decode()
    assert "_auth_user_id" not in client.session
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()
    response = client.post(reverse("security:second_factor"), {"token": current_code(device)})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(clerk_user.pk)
    assert client.get("/").status_code == 200


def test_second_factor_rotates_the_session_again(client, clerk_user):
    device = enrolled(clerk_user)
    sign_in(client, clerk_user.username)
    pending_key = client.cookies["sessionid"].value
    client.post(reverse("security:second_factor"), {"token": current_code(device)})
    assert client.cookies["sessionid"].value != pending_key


def test_too_many_wrong_codes_end_the_attempt(client, clerk_user, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # isolate our own attempt limit from django-otp's delay
    device = enrolled(clerk_user)
    sign_in(client, clerk_user.username)
    for _ in range(5):
        response = client.post(reverse("security:second_factor"), {"token": "999999"})
    assert response.status_code == 302 and response["Location"] == reverse("login")
    response = client.post(reverse("security:second_factor"), {"token": current_code(device)})
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session


def test_pending_sign_in_expires(client, clerk_user, settings):
    settings.COUNCIL_SECOND_FACTOR_TIMEOUT_S = -1
    device = enrolled(clerk_user)
    sign_in(client, clerk_user.username)
    response = client.post(reverse("security:second_factor"), {"token": current_code(device)})
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session


def test_second_factor_page_without_password_step_goes_to_sign_in(client):
    response = client.get(reverse("security:second_factor"))
    assert response.status_code == 302 and response["Location"] == reverse("login")


def test_removing_the_second_factor_needs_a_current_code(client, clerk_user):
    device = enrolled(clerk_user)
    client.force_login(clerk_user)
    response = client.post(reverse("security:totp"), {"action": "remove", "token": "111111"})
    assert response.status_code == 400
    assert TOTPDevice.objects.filter(user=clerk_user).exists()
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()
    response = client.post(reverse("security:totp"), {"action": "remove", "token": current_code(device)})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=clerk_user).exists()
    assert AuditEntry.objects.filter(action="security.totp_removed").count() == 1


def test_user_without_device_signs_in_with_password_only(client, clerk_user):
    response = sign_in(client, clerk_user.username)
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert client.session["_auth_user_id"] == str(clerk_user.pk)


@pytest.mark.django_db(transaction=True)
async def test_lockout_page_under_asgi(async_client, settings):
    """daphne runs the middleware chain asynchronously: Axes' async path must also give the page."""
    from asgiref.sync import sync_to_async

    settings.AXES_FAILURE_LIMIT = 1
    user = await sync_to_async(factories.make_user)()
    await async_client.post(LOGIN, {"username": user.username, "password": "wrong"})
    response = await async_client.post(LOGIN, {"username": user.username, "password": factories.PASSWORD})
    assert response.status_code == 429
    assert "ログインの試行が多すぎます" in response.content.decode()


def test_password_change_keeps_this_session_and_ends_the_others(client, org):
    from django.test import Client

    user = org["members"][3].user
    other_device = Client()
    other_device.force_login(user)
    client.force_login(user)
    new = "a-brand-new-pw-2026"
    response = client.post(
        reverse("security:password_change"),
        {"old_password": factories.PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200  # this session continues
    assert other_device.get("/").status_code == 302  # the other device is signed out


def test_password_change_needs_the_current_password(client, org):
    client.force_login(org["members"][3].user)
    response = client.post(
        reverse("security:password_change"),
        {"old_password": "wrong", "new_password1": "x-new-pw-2026", "new_password2": "x-new-pw-2026"},
    )
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
