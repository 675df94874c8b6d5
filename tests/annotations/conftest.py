import pytest


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Users are made and signed in many times here; the default hasher is deliberately slow."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
