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
    scene = {
        k: 1
        for k in (
            "sitting",
            "committee_sitting",
            "session",
            "body",
            "item",
            "document",
            "members_document",
            "minutes",
            "public_minutes",
            "notice",
            "person",
            "matter",
            "report",
        )
    }
    scanned = {p.key for p in a11y_support.page_types(scene)}
    routes = {r.key for r in walk_routes()}
    missing = sorted(
        k
        for k in routes - scanned - a11y_support.NOT_PAGES
        if not (k.startswith("admin:") or k.startswith("admin/"))
    )
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
    assert not result.axe, (
        f"{len(result.axe)} serious or critical axe-core violations "
        f"({len(result.visited)} pages in {result.seconds:.0f} s):\n"
        + "\n".join(f.line() for f in result.axe)
    )


@pytest.mark.browser
@pytest.mark.slow
def test_accessibility_tap_targets_at_least_44px_on_a_tablet(daphne_server, browser, settings):
    result = crawled(browser, daphne_server)
    assert not result.small_targets, "tap targets under 44×44 CSS px at 820×1180:\n" + "\n".join(
        f.line() for f in result.small_targets
    )
    assert not result.overflowing, "pages wider than the tablet:\n" + "\n".join(
        f.line() for f in result.overflowing
    )


def sign_in(page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.locator("form button[type=submit], form input[type=submit]").last.click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


@pytest.mark.browser
@pytest.mark.slow
def test_accessibility_larger_text_persists_across_sign_in_and_keeps_the_layout(
    daphne_server, browser, settings
):
    """A councillor turns larger text on from the bar, signs out and in again: it is still on, the
    text is larger, the reader's page still fills the screen, and every page keeps its tap targets,
    its axe-core result and its width."""
    from django.contrib.auth import get_user_model

    scene = outside_the_event_loop(a11y_support.prepare_scene)
    username = a11y_support.ROLE_USERS["councillor"]
    user = get_user_model().objects.get(username=username)
    user.set_password("larger-text-1234")
    user.save()
    context = browser.new_context(
        locale="ja-JP", viewport=a11y_support.TABLET, has_touch=True, is_mobile=True
    )
    try:
        page = context.new_page()
        sign_in(page, daphne_server.url, username, "larger-text-1234")
        root_px = "() => parseFloat(getComputedStyle(document.documentElement).fontSize)"
        standard = page.evaluate(root_px)
        toggle = page.locator("header .text-size-toggle")
        assert toggle.get_attribute("aria-pressed") == "false"
        toggle.click()
        page.wait_for_selector("html.text-large")
        assert page.locator("header .text-size-toggle").get_attribute("aria-pressed") == "true"
        page.locator("form.logout button").click()
        page.wait_for_load_state()
        context.clear_cookies()
        sign_in(page, daphne_server.url, username, "larger-text-1234")
        assert page.evaluate("() => document.documentElement.className") == "text-large"
        assert page.evaluate(root_px) >= standard * 1.2
        for viewport in ({"width": 820, "height": 1180}, {"width": 1180, "height": 820}):
            page.set_viewport_size(viewport)
            page.goto(f"{daphne_server.url}/meetings/sittings/{scene['sitting']}/reader/")
            page.wait_for_function(a11y_support.READER_READY, timeout=20000)
            try:  # the page is drawn again at the size that fits the screen: wait for that to settle
                page.wait_for_function(f"() => ({a11y_support.READER_PAGE_AREA})() >= 0.85", timeout=10000)
            except Exception:
                pass
            area = page.evaluate(a11y_support.READER_PAGE_AREA)
            assert area >= 0.85, f"with larger text the page covers {area:.0%} of a {viewport} screen"
        # In the reader (whose bar replaces the site's header) the setting is in the menu.
        page.locator("#reader-bar [data-action=menu]").click()
        toggle = page.locator("#reader-menu .text-size-toggle")
        toggle.wait_for(state="visible")
        assert toggle.get_attribute("aria-pressed") == "true"
    finally:
        context.close()
    result = a11y_support.crawl(daphne_server.url, browser, scene, languages=("ja",), roles=("councillor",))
    problems = result.axe + result.small_targets + result.overflowing
    assert not problems, "with larger text on:\n" + "\n".join(f.line() for f in problems)


@pytest.mark.browser
def test_axe_judges_a_rising_sheet_once_it_has_settled(browser):
    """A sheet rising into view (opacity animating, as the poll sheet's vote-rise) is checked as
    the member sees it once it is up, not in its blended first frames; a sheet that really lacks
    contrast is still found."""
    page = browser.new_page()
    try:
        page.set_content(
            """<html lang="ja"><head><title>t</title><style>
            body { background: #e7e6e1; }
            @keyframes rise { from { opacity: 0; } to { opacity: 1; } }
            .sheet { background: #fff; padding: 8px; animation: rise 1.5s linear; }
            .pale { color: #bbb; background: #fff; }
            </style></head><body><main><div class="sheet"><p>採決します</p></div></main></body></html>"""
        )
        page.add_script_tag(content=a11y_support.AXE_JS.read_text())
        assert page.evaluate("() => document.getAnimations().length") == 1  # still rising
        assert page.evaluate(a11y_support.AXE_RUN) == []
        page.evaluate("() => { document.querySelector('.sheet p').className = 'pale'; }")
        assert [v["rule"] for v in page.evaluate(a11y_support.AXE_RUN)] == ["color-contrast"]
    finally:
        page.close()
