"""Deployment checks (``manage.py check --deploy``) for the key files the platform signs with."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def signing_keys(app_configs, **kwargs):
    if not settings.PRODUCTION:
        return []
    errors = []
    media = Path(settings.MEDIA_ROOT).resolve()
    for name, hint in (
        ("COUNCIL_AUDIT_KEY_FILE", "the audit chain cannot be anchored; run manage.py make_keys"),
        (
            "COUNCIL_SIGNING_KEY_FILE",
            "signed minutes cannot get their PDF signature; run manage.py make_keys",
        ),
        (
            "COUNCIL_SIGNING_CERT_FILE",
            "signed minutes cannot get their PDF signature; run manage.py make_keys",
        ),
    ):
        path = Path(getattr(settings, name))
        if not path.exists():
            errors.append(checks.Error(f"{name} ({path}) does not exist", hint=hint, id="council.E001"))
            continue
        if media in path.resolve().parents:
            errors.append(
                checks.Error(
                    f"{name} is inside MEDIA_ROOT, which uploads and backups cover", id="council.E002"
                )
            )
        if name != "COUNCIL_SIGNING_CERT_FILE" and path.stat().st_mode & 0o077:
            errors.append(
                checks.Warning(f"{name} ({path}) is readable by other users; chmod 600", id="council.W001")
            )
    return errors
