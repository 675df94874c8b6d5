import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Factories create a dozen users per test; full-strength hashing would take seconds each time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
