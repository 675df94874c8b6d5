import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Users are made and signed in many times here; the default hasher is deliberately slow."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _english(settings):
    """Messages are asserted in English (the source language); one test per area checks Japanese."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
