"""Second factor (TOTP) enrolment and removal for secretariat accounts.

Sign-in itself is not a state change of the record; enrolling or removing a factor is,
so those two are audited."""

from __future__ import annotations

import base64

import segno
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from council import permissions
from council.audit import audit_record
from council.errors import DomainError


class SecurityError(DomainError):
    """A refused security action; the message is translated and safe to show."""


def confirmed_device(user) -> TOTPDevice | None:
    """The user's confirmed TOTP device, if the user has enrolled one."""
    if user is None or not getattr(user, "pk", None):
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


def can_enrol(user) -> bool:
    return permissions.is_clerk(user)


def pending_device(*, user) -> TOTPDevice:
    """The unconfirmed device being enrolled (made on first use, reused until confirmed)."""
    if not can_enrol(user):
        raise SecurityError(_("Only secretariat accounts can add a second factor."))
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="totp", confirmed=False)
    return device


def device_secret(device: TOTPDevice) -> str:
    """The base32 secret, for typing into an authenticator app by hand."""
    return base64.b32encode(device.bin_key).decode("ascii").rstrip("=")


def device_qr_data_uri(device: TOTPDevice) -> str:
    """An SVG QR code of the otpauth:// URI, as a data: URI (allowed by the CSP's img-src)."""
    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2)


def _check_token(device: TOTPDevice, token: str) -> None:
    token = (token or "").strip().replace(" ", "")
    allowed, _details = device.verify_is_allowed()
    if not allowed:
        raise SecurityError(_("Too many wrong codes. Wait a little and try again."))
    if not (token.isdigit() and device.verify_token(token)):
        raise SecurityError(_("The code is not correct. Check the time on your phone and try again."))


def totp_confirm(*, user, token: str) -> TOTPDevice:
    """Confirm the pending device with a code from the authenticator app."""
    device = pending_device(user=user)
    _check_token(device, token)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        audit_record(action="security.totp_enrolled", actor=user, target=device)
    return device


def totp_remove(*, user, token: str) -> None:
    """Remove the second factor; a current code proves the person still holds the device."""
    device = confirmed_device(user)
    if device is None:
        raise SecurityError(_("There is no second factor to remove."))
    _check_token(device, token)
    with transaction.atomic():
        audit_record(action="security.totp_removed", actor=user, target=device)
        TOTPDevice.objects.filter(user=user).delete()


def second_factor_verify(*, device: TOTPDevice, token: str) -> None:
    """Check a sign-in code; raises SecurityError with the reason when refused."""
    _check_token(device, token)
