"""Accessible to everyone: axe-core finds no serious or critical violation on any page type, for
any role, in Japanese or English; every tap target on a tablet is at least 44×44 CSS px.

One crawl (``bench.a11y_support.crawl``) of the demo scene serves both checks: each page is
opened once per role and language in one Chromium, at 820×1180 with touch.
"""

from __future__ import annotations

import pytest

from bench import a11y_support
from tests.test_permission_matrix import walk_routes

_CRAWL: dict[str, a11y_support.CrawlResult] = {}


def test_accessibility_page_types_cover_every_route():
    """A new page cannot escape the scan: each route is a page type or listed as not a page."""
    scene = {k: 1 for k in ("sitting", "committee_sitting", "session", "body", "item", "document",
                            "members_document", "minutes", "public_minutes", "notice", "person")}
    scanned = {p.key for p in a11y_support.page_types(scene)}
    routes = {r.key for r in walk_routes()}
    missing = sorted(k for k in routes - scanned - a11y_support.NOT_PAGES
                     if not (k.startswith("admin:") or k.startswith("admin/")))
    assert not missing, "routes neither scanned nor listed in NOT_PAGES: " + ", ".join(missing)
    assert not (scanned - routes), f"page types for routes that do not exist: {sorted(scanned - routes)}"
    roles = {role for p in a11y_support.page_types(scene) for role in p.roles}
    assert roles == set(a11y_support.ROLE_USERS)


def outside_the_event_loop(fn, *args, **kw):
    """Run Django code that sends live events (async_to_sync) away from Playwright's event loop."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    def call():
        try:
            return fn(*args, **kw)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(call).result()


def crawled(browser, server) -> a11y_support.CrawlResult:
    if "result" not in _CRAWL:
        scene = outside_the_event_loop(a11y_support.prepare_scene)
        _CRAWL["result"] = a11y_support.crawl(server.url, browser, scene)
    return _CRAWL["result"]


@pytest.mark.browser
@pytest.mark.slow
def test_accessibility_axe_no_serious_or_critical_violations(daphne_server, browser, settings):
    result = crawled(browser, daphne_server)
    visited = {(key, role) for key, role, _ in result.visited}
    assert {lang for _, _, lang in result.visited} == {"ja", "en"}
    assert {role for _, role in visited} == set(a11y_support.ROLE_USERS)
    assert len({key for key, _ in visited}) >= 40
    assert not result.axe, (f"{len(result.axe)} serious or critical axe-core violations "
                            f"({len(result.visited)} pages in {result.seconds:.0f} s):\n"
                            + "\n".join(f.line() for f in result.axe))


@pytest.mark.browser
@pytest.mark.slow
def test_accessibility_tap_targets_at_least_44px_on_a_tablet(daphne_server, browser, settings):
    result = crawled(browser, daphne_server)
    assert not result.small_targets, ("tap targets under 44×44 CSS px at 820×1180:\n"
                                      + "\n".join(f.line() for f in result.small_targets))
