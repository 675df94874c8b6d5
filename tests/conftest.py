"""Shared fixtures. External services are used only when their URL is set, and then always."""

import os

import pytest

from tests import factories, hypothesis_profiles  # noqa: F401 - loads the Hypothesis profile

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    """Install the quicker flush between committing tests (tests/flush.py), then make the demo
    signing keys once, before any test runs: under pytest-xdist (``make test-fast``) two workers
    would otherwise race to write the same key files."""
    from tests import flush

    flush.install()
    if hasattr(config, "workerinput"):
        return  # a worker: the controller made them
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()
    from council import checkpoints, keys

    checkpoints.signing_key()
    keys.signing_files()


HANG_SECONDS = 600


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """A test that hangs (in its body or in any fixture's teardown, e.g. an event loop that cannot
    finish its tasks) ends the run with every thread's traceback after 10 minutes, instead of
    holding CI until its own timeout."""
    import faulthandler

    faulthandler.dump_traceback_later(HANG_SECONDS, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


@pytest.fixture(autouse=True, scope="session")
def _static_files_listed_once():
    """WhiteNoise lists every static file (pdf.js's two hundred cmaps and fonts among them) each
    time Django builds the middleware, which the test client does for every ``Client``: ~16 ms a
    client. A server process lists them once; so do the tests, once for each combination of the
    settings that decide the listing (a test overriding one of them gets a listing of its own)."""
    from django.conf import settings
    from whitenoise.middleware import WhiteNoiseMiddleware

    list_files = WhiteNoiseMiddleware.add_files_from_finders
    listings: dict[str, dict] = {}

    def add_files_from_finders(self):
        key = repr(
            [
                getattr(settings, name, None)
                for name in (
                    "DEBUG",
                    "INSTALLED_APPS",
                    "STATIC_URL",
                    "STATIC_ROOT",
                    "STATICFILES_DIRS",
                    "STATICFILES_FINDERS",
                    "FORCE_SCRIPT_NAME",
                    *sorted(name for name in dir(settings) if name.startswith("WHITENOISE_")),
                )
            ]
        )
        if key not in listings:
            before = dict(self.files)
            list_files(self)
            listings[key] = {url: f for url, f in self.files.items() if before.get(url) is not f}
        self.files.update(listings[key])

    WhiteNoiseMiddleware.add_files_from_finders = add_files_from_finders
    yield
    WhiteNoiseMiddleware.add_files_from_finders = list_files


@pytest.fixture(autouse=True, scope="session")
def _flush_sends_no_post_migrate(django_db_setup, django_db_blocker):
    """The second half of the quicker flush (tests/flush.py): no ``post_migrate`` after a flush."""
    from tests import flush

    with flush.without_post_migrate(django_db_blocker):
        yield


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Every test stores uploads in its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    # ...and keeps its own outside log of signed audit checkpoints (the database is new each test).
    settings.COUNCIL_AUDIT_CHECKPOINT_LOG = tmp_path / "audit-checkpoints.jsonl"


@pytest.fixture(autouse=True)
def _jobs_run_at_once(settings):
    """Queued jobs run where they are queued, unless a test starts a job worker (tests/servers.py)."""
    settings.TASKS = {"default": {"BACKEND": settings.TASK_BACKENDS["immediate"], "QUEUES": ["default"]}}


@pytest.fixture(autouse=True)
def _fast_passwords(request, settings):
    """PBKDF2 costs a third of a second a password, and a small council has a dozen users: tests
    in one process hash with MD5. Tests that start real servers or browsers keep the server's own
    hashers (a server process could not check an MD5 hash), unless their folder says otherwise."""
    if request.node.get_closest_marker("slow") or request.node.get_closest_marker("browser"):
        return
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def org(db):
    return factories.make_small_council()


@pytest.fixture
def daphne_server(transactional_db):
    """A real daphne process on a free port, sharing this test's database."""
    from tests.servers import start_daphne

    server = start_daphne()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def _playwright():
    # Module scope: Playwright's sync API keeps its event loop marked as running in the main
    # thread while started, which breaks asyncio tests that run after it (pytest-asyncio), so
    # it is stopped at the end of each browser test module.
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in the test thread; Django's ORM calls made by the
    # test itself between browser steps are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    pw = sync_playwright().start()
    yield pw
    pw.stop()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture(scope="module")
def browser(_playwright):
    b = _playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield b
    b.close()


@pytest.fixture
def new_context(browser):
    """Make browser contexts (one per person); all are closed after the test."""
    contexts = []

    def make(locale: str = "ja-JP", **kw):
        ctx = browser.new_context(
            locale=locale, viewport=kw.pop("viewport", {"width": 1280, "height": 800}), **kw
        )
        contexts.append(ctx)
        return ctx

    yield make
    for ctx in contexts:
        ctx.close()


def pytest_collection_modifyitems(config, items):
    # Playwright's sync API leaves its event loop installed in the main thread; async tests that run
    # after it cannot start their own loop. So every browser test runs after all the others.
    items.sort(key=lambda item: "browser" in item.keywords)
    skip_redis = pytest.mark.skip(reason="REDIS_URL is not set")
    skip_pg = pytest.mark.skip(reason="DATABASE_URL is not set to PostgreSQL")
    for item in items:
        if "redis" in item.keywords and not os.environ.get("REDIS_URL"):
            item.add_marker(skip_redis)
        if "postgres" in item.keywords and not os.environ.get("DATABASE_URL", "").startswith("postgres"):
            item.add_marker(skip_pg)


# The quick loop (make test-fast) leaves out the tests marked slow. A test that is not marked and takes
# longer than this (setup, body and teardown together) is named at the end of that run, so the loop
# stays quick as tests are added: mark it slow (make test runs it) or make it quicker. Only named,
# never failed: a loaded machine makes any test slower.
UNMARKED_SLOW_SECONDS = 2.0
_durations: dict[str, float] = {}


def pytest_runtest_logreport(report):
    if "slow" not in report.keywords and "browser" not in report.keywords:
        _durations[report.nodeid] = _durations.get(report.nodeid, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if "not slow" not in (config.option.markexpr or ""):
        return
    slow = sorted(((s, n) for n, s in _durations.items() if s > UNMARKED_SLOW_SECONDS), reverse=True)
    if slow:
        terminalreporter.section(f"tests not marked slow that took over {UNMARKED_SLOW_SECONDS:.0f} s")
        for seconds, nodeid in slow:
            terminalreporter.write_line(f"{seconds:5.1f} s  {nodeid}")
