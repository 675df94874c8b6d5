import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Tests here create many users; a fast hasher keeps them quick (no real server checks these)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
