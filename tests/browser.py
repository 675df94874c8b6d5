"""What the browser tests share: a signed-in cookie for a Playwright context, a page that records
its errors, and waiting for a condition outside the browser (the database)."""

from __future__ import annotations

import time

from django.conf import settings
from django.test import Client


def login_cookie(user, server) -> dict:
    """The session cookie of ``user`` signed in, for ``context.add_cookies([...])``."""
    client = Client()
    client.force_login(user)
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": server.url,
    }


def open_page(context, url: str, errors: list):
    """A new page at ``url`` whose script errors and failed responses (4xx/5xx, but a missing
    favicon) are appended to ``errors``; its console lines are kept in ``page.console_log``."""
    page = context.new_page()
    page.console_log = []
    page.on("console", lambda m: page.console_log.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "response",
        lambda r: (
            r.status >= 400 and not r.url.endswith("/favicon.ico") and errors.append(f"{r.status} {r.url}")
        ),
    )
    page.goto(url)
    return page


def wait_for(predicate, timeout: float = 15.0) -> bool:
    """Poll ``predicate`` (e.g. a database query) until it is true or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False
