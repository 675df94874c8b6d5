"""Production profile: secretariat and administrator accounts must use the second factor."""

import pytest
from channels.testing import WebsocketCommunicator
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def required(settings):
    settings.COUNCIL_REQUIRE_SECOND_FACTOR = True


def code(device):
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def sign_in(client, user):
    return client.post("/accounts/login/", {"username": user.username, "password": factories.PASSWORD})


def test_clerk_without_a_device_is_sent_to_enrol_until_confirmed(client, org, required):
    clerk = org["clerk"].user
    assert sign_in(client, clerk).status_code == 302
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"] == reverse("security:totp")
    assert client.get("/admin/").status_code == 302
    page = client.get(reverse("security:totp"))
    assert page.status_code == 200  # the enrolment page itself is open
    device = TOTPDevice.objects.get(user=clerk, confirmed=False)
    client.post(reverse("security:totp"), {"action": "confirm", "token": code(device)})
    assert client.get(reverse("home")).status_code == 200


def test_administrator_is_held_too_but_a_councillor_is_not(client, org, required):
    sign_in(client, org["admin"])
    assert client.get(reverse("home"))["Location"] == reverse("security:totp")
    client.logout()
    sign_in(client, org["members"][0].user)
    assert client.get(reverse("home")).status_code == 200


def test_not_required_outside_production(client, org, settings):
    settings.COUNCIL_REQUIRE_SECOND_FACTOR = False
    sign_in(client, org["clerk"].user)
    assert client.get(reverse("home")).status_code == 200


@pytest.mark.slow  # starts Django in a new Python process in the production profile
def test_production_profile_requires_it_by_default():
    import os
    import subprocess
    import sys

    from tests.security.test_deploy import ROOT

    env = {k: v for k, v in os.environ.items() if not k.startswith(("COUNCIL_", "SECURE_"))}
    env.update(
        COUNCIL_PROFILE="production",
        SECRET_KEY="x" * 60,
        ALLOWED_HOSTS="gikai.example.jp",
        DJANGO_SETTINGS_MODULE="council.settings",
    )
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.COUNCIL_REQUIRE_SECOND_FACTOR)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.stdout.strip().splitlines()[-1] == "True", out.stderr


async def test_unverified_clerk_socket_is_refused(org, required, settings):
    from asgiref.sync import sync_to_async
    from django.test import Client

    from council.asgi import application

    client = Client()
    await sync_to_async(client.force_login)(org["clerk"].user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    sitting = org["sitting"]
    communicator = WebsocketCommunicator(
        application,
        f"/ws/sittings/{sitting.pk}/",
        headers=[(b"cookie", cookie.encode()), (b"host", b"localhost"), (b"origin", b"http://localhost")],
    )
    connected, close_code = await communicator.connect()
    assert not connected and close_code == 4403
    await communicator.disconnect()
