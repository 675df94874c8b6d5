import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Factories create a dozen users per test; full-strength hashing would take seconds each time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _hang_watchdog():
    """A test that hangs (seen twice on PostgreSQL + Redis, not yet explained) ends the run with every
    thread's traceback after 10 minutes, instead of holding CI until its own timeout."""
    import faulthandler

    faulthandler.dump_traceback_later(600, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()
