"""The production profile passes Django's deployment checks and sets secure cookie flags."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Each test starts Django in new Python processes in the production profile.
pytestmark = pytest.mark.slow


def production_env(tmp_path, **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COUNCIL_", "DJANGO_", "SECURE_"))}
    env.update(
        COUNCIL_PROFILE="production",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="gikai.example.jp",
        CSRF_TRUSTED_ORIGINS="https://gikai.example.jp",
        COUNCIL_VAR_DIR=str(tmp_path),
        DEBUG="0",
    )
    env.pop("DEBUG_PROPAGATE_EXCEPTIONS", None)
    env.update(extra)
    return env


def run(args, env):
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_in_production(tmp_path):
    env = production_env(tmp_path)
    made = run(["manage.py", "make_keys"], env)
    assert made.returncode == 0, made.stdout + made.stderr
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_refuses_production_without_the_signing_keys(tmp_path):
    """The audit chain's and the minutes' signing keys are never made silently in production."""
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env(tmp_path))
    assert result.returncode != 0
    assert "COUNCIL_AUDIT_KEY_FILE" in result.stdout + result.stderr


def test_check_deploy_fails_without_the_production_profile(tmp_path):
    """The check above has teeth: the demo profile (no secure cookies, no HSTS) fails it."""
    env = production_env(tmp_path, COUNCIL_PROFILE="demo")
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode != 0
    assert "SESSION_COOKIE_SECURE" in result.stderr + result.stdout


def test_production_cookie_and_transport_flags(tmp_path):
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({k: getattr(s, k) for k in ['SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', "
        "'SESSION_COOKIE_HTTPONLY', 'SESSION_COOKIE_SAMESITE', 'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', "
        "'SECURE_PROXY_SSL_HEADER', 'SECURE_CONTENT_TYPE_NOSNIFF', 'X_FRAME_OPTIONS', 'DEBUG']}))"
    )
    result = run(["-c", code], production_env(tmp_path, DJANGO_SETTINGS_MODULE="council.settings"))
    assert result.returncode == 0, result.stderr
    flags = json.loads(result.stdout.strip().splitlines()[-1])
    assert flags["SESSION_COOKIE_SECURE"] and flags["CSRF_COOKIE_SECURE"] and flags["SESSION_COOKIE_HTTPONLY"]
    assert flags["SESSION_COOKIE_SAMESITE"] in ("Lax", "Strict")
    assert flags["SECURE_SSL_REDIRECT"] and flags["SECURE_HSTS_SECONDS"] >= 31536000
    assert flags["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert flags["SECURE_CONTENT_TYPE_NOSNIFF"] and flags["X_FRAME_OPTIONS"] == "DENY"
    assert flags["DEBUG"] is False


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = production_env(tmp_path)
    env.pop("SECRET_KEY")
    result = run(["manage.py", "check"], env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
