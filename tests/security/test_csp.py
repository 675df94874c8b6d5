"""Content-Security-Policy: no eval, no inline script, on every page; templates and scripts that
would need either are caught here before a browser silently refuses them.

Every route answered in the permission matrix (tests/test_permission_matrix.py) is also checked
for this header there, for every role."""

import re
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
SKIP_DIRS = {".venv", "node_modules", "staticfiles", ".git", "var"}


def policy_directives(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        bits = part.split()
        if bits:
            out[bits[0].lower()] = [b.lower() for b in bits[1:]]
    return out


def assert_strict_policy(header: str | None, where: str = "") -> None:
    assert header, f"no Content-Security-Policy header {where}"
    directives = policy_directives(header)
    script_sources = directives.get("script-src", directives.get("default-src"))
    assert script_sources is not None, f"no script-src or default-src {where}"
    for bad in ("'unsafe-eval'", "'unsafe-inline'", "'wasm-unsafe-eval'", "*", "data:", "http:", "https:"):
        assert bad not in script_sources, f"script-src allows {bad} {where}"
    assert directives.get("object-src", directives.get("default-src")) == ["'none'"], where
    assert "'unsafe-eval'" not in header.lower(), where


def template_files() -> list[Path]:
    files = []
    for path in ROOT.rglob("*.html"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in SKIP_DIRS or "templates" not in rel.parts:
            continue
        files.append(path)
    return files


def script_files() -> list[Path]:
    return [p for p in (ROOT / "static" / "js").rglob("*") if p.suffix in {".js", ".mjs"}]


SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
TAG = re.compile(r"<[a-zA-Z][^<>]*>", re.DOTALL)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
JS_URL = re.compile(r"""(?:href|src|action|formaction)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)


def test_there_are_templates_to_scan():
    names = {p.name for p in template_files()}
    assert {"base.html", "login.html", "second_factor.html"} <= names


@pytest.mark.parametrize("path", template_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_template_has_no_inline_script_or_handlers(path):
    text = path.read_text(encoding="utf-8")
    for match in SCRIPT_TAG.finditer(text):
        attrs = match.group(1)
        is_data = re.search(r"""type\s*=\s*["']application/(ld\+)?json["']""", attrs, re.IGNORECASE)
        assert "src=" in attrs or is_data, f"inline <script> in {path}: {match.group(0)}"
    for tag in TAG.finditer(text):
        assert not HANDLER.search(tag.group(0)), f"inline event handler in {path}: {tag.group(0)[:120]}"
    assert not JS_URL.search(text), f"javascript: URL in {path}"


@pytest.mark.parametrize("path", script_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_script_uses_no_eval(path):
    text = path.read_text(encoding="utf-8")
    code = re.sub(r"//[^\n]*|/\*.*?\*/", "", text, flags=re.DOTALL)
    assert not re.search(r"(?<![.\w])eval\s*\(", code), f"eval() in {path}"
    assert not re.search(r"\bnew\s+Function\s*\(", code), f"new Function() in {path}"
    assert not re.search(r"\bset(?:Timeout|Interval)\s*\(\s*['\"`]", code), f"string timer in {path}"


def test_default_policy_is_strict():
    from council.middleware import DEFAULT_CSP

    assert_strict_policy(getattr(settings, "CONTENT_SECURITY_POLICY", DEFAULT_CSP))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/", "/accounts/login/", "/security/sign-in/code/", "/admin/", "/no-such-page/"]
)
def test_pages_and_errors_carry_the_policy(client, url):
    response = client.get(url)
    assert_strict_policy(response.get("Content-Security-Policy"), f"on {url} ({response.status_code})")


@pytest.mark.django_db
def test_signed_in_pages_and_lockout_page_carry_the_policy(client, org, settings):
    settings.AXES_FAILURE_LIMIT = 1
    client.force_login(org["clerk"].user)
    for url in ("/", "/security/second-factor/"):
        response = client.get(url)
        assert response.status_code == 200
        assert_strict_policy(response.get("Content-Security-Policy"), f"on {url}")
    client.logout()
    client.post("/accounts/login/", {"username": "nobody", "password": "x"})
    response = client.post("/accounts/login/", {"username": "nobody", "password": "x"})
    assert response.status_code == 429
    assert_strict_policy(response.get("Content-Security-Policy"), "on the lockout page")
