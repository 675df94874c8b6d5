"""Account changes in the Django admin are audited; a TOTP device's secret is never shown there."""

import base64

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from council.models import AuditEntry
from tests import factories

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def admin_client(client, org):
    client.force_login(org["admin"])
    return client


def change_form(user, **overrides) -> dict:
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on" if user.is_active else "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "initial-date_joined_0": "2026-01-01",
        "initial-date_joined_1": "00:00:00",
    }
    if user.is_staff:
        data["is_staff"] = "on"
    if user.is_superuser:
        data["is_superuser"] = "on"
    data.update(overrides)
    return {k: v for k, v in data.items() if v != ""}


def test_setting_a_password_in_the_admin_is_audited(admin_client, org):
    target = org["members"][0].user
    url = reverse("admin:auth_user_password_change", args=[target.pk])
    response = admin_client.post(
        url, {"password1": "a-New-passw0rd-xyz", "password2": "a-New-passw0rd-xyz", "usable_password": "true"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = AuditEntry.objects.get(action="admin.user_password_set")
    assert (entry.actor_id, entry.target_id) == (org["admin"].pk, str(target.pk))
    target.refresh_from_db()
    algorithm, _rest = target.password.split("$", 1)
    assert algorithm not in str(entry.data) and target.password not in str(entry.data)  # no hash in it


def test_granting_superuser_in_the_admin_is_audited(admin_client, org):
    target = org["members"][1].user
    url = reverse("admin:auth_user_change", args=[target.pk])
    response = admin_client.post(url, change_form(target, is_superuser="on"))
    assert response.status_code == 302, response.content.decode()[:3000]
    target.refresh_from_db()
    assert target.is_superuser
    granted = AuditEntry.objects.get(action="admin.superuser_granted")
    assert granted.target_id == str(target.pk) and granted.actor_id == org["admin"].pk
    change = AuditEntry.objects.get(action="admin.user_change")
    assert change.data["fields"]["is_superuser"] is True
    assert "password" not in change.data["fields"]


def test_deleting_a_totp_device_in_the_admin_is_audited(admin_client, org):
    device = TOTPDevice.objects.create(user=org["clerk"].user, name="totp", confirmed=True)
    url = reverse("admin:otp_totp_totpdevice_delete", args=[device.pk])
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    entry = AuditEntry.objects.get(action="admin.totp_device_delete")
    assert entry.target_id == str(device.pk) and entry.data == {"user": org["clerk"].user.pk}


def test_the_admin_never_shows_a_totp_secret(admin_client, org):
    device = TOTPDevice.objects.create(user=org["clerk"].user, name="totp", confirmed=True)
    secrets = [device.key, base64.b32encode(device.bin_key).decode().rstrip("=")]
    pages = [
        admin_client.get(reverse("admin:otp_totp_totpdevice_changelist")),
        admin_client.get(reverse("admin:otp_totp_totpdevice_change", args=[device.pk])),
    ]
    for page in pages:
        assert page.status_code == 200
        body = page.content.decode()
        assert "clerk" in body or org["clerk"].user.username in body
        assert not any(secret in body for secret in secrets)
    # No way to add a device (its key would be shown) and no QR code or config view.
    assert admin_client.get(reverse("admin:otp_totp_totpdevice_add")).status_code == 403
    assert admin_client.get(f"/admin/otp_totp/totpdevice/{device.pk}/config/").status_code in (302, 404)
    assert admin_client.get(f"/admin/otp_totp/totpdevice/{device.pk}/qrcode/").status_code in (302, 404)


def test_plain_admin_user_change_without_power_change_is_audited_without_grant(admin_client, org):
    target = org["members"][2].user
    url = reverse("admin:auth_user_change", args=[target.pk])
    response = admin_client.post(url, change_form(target, email="new@example.org"))
    assert response.status_code == 302
    assert AuditEntry.objects.get(action="admin.user_change").data["fields"] == {"email": "new@example.org"}
    assert not AuditEntry.objects.filter(action="admin.superuser_granted").exists()
    assert factories.PASSWORD  # the factory's password is untouched by a plain change
