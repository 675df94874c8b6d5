"""Accessibility checks shared by the tests (``tests/test_accessibility.py``) and the benchmarks
(``bench.reader_layout`` prints ``axe_serious``): the page types a role can open, axe-core's
serious and critical violations on each, and the tap targets on a tablet.

axe-core is the npm package in ``node_modules`` (pinned in package.json), read from disk and
injected into each page; it is never fetched from a CDN.

The scene is the demo council (``seed_demo``) with its plenary sitting open, a document presented
and a vote open, so the reader, console, chamber display and voting pages show what they show in a
real sitting. ``axe_serious_total()`` builds it on a scratch database with its own daphne; the tests
call ``prepare_scene`` and ``crawl`` on theirs.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
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
TABLET = {"width": 820, "height": 1180}
MIN_TARGET = 44  # CSS px, WCAG 2.5.5 (AAA) and Apple's guideline for touch
LANGUAGES = {"ja": "ja-JP", "en": "en-US"}

# The demo accounts playing each role (see README "Demo accounts"); None is the anonymous public.
ROLE_USERS: dict[str, str | None] = {
    "administrator": "admin",
    "clerk": "jimukyokucho",
    "chair": "giin01",  # 議長: chairs the plenary
    "councillor": "giin05",
    "official": "kacho",
    "public": None,
}

# Routes that answer with something other than an HTML page, or only to a POST, or need a state
# the scene does not have: not scanned. Every other route must have a page type below (the
# coverage test fails otherwise).
NOT_PAGES = {
    "healthz",  # monitoring JSON, not a page
    "logout",
    "set_language",
    "admin:logout",
    "security:second_factor",
    "meetings:sitting_cancel",
    "meetings:agenda_reorder",
    "meetings:agenda_publish",
    "meetings:agenda_unpublish",
    "meetings:agenda_item_delete",
    "meetings:agenda_item_move",
    "meetings:body_calendar",
    "meetings:reader:upload_file",
    "meetings:voting:suggest",
    "council:membership_add",
    "council:body_officer",
    "council:membership_end",
    "council:people_import",
    "meetings:minutes:public_pdf",
    "meetings:minutes:public_json",
    "meetings:minutes:public_votes_json",
    "meetings:minutes:public_votes_csv",
    "meetings:minutes:generate",
    "meetings:minutes:job",
    "meetings:minutes:job_pdf",
    "meetings:minutes:block_save",
    "meetings:minutes:block_move",
    "meetings:minutes:block_delete",
    "meetings:minutes:remark_add",
    "meetings:minutes:transcript",
    "meetings:minutes:signers",
    "meetings:minutes:submit",
    "meetings:minutes:return",
    "meetings:minutes:sign",
    "meetings:minutes:publish",
    "meetings:minutes:correct",
    "meetings:minutes:preview",
    "meetings:minutes:pdf",
    "meetings:minutes:json",
    "meetings:minutes:votes_json",
    "meetings:minutes:votes_csv",
    "documents:annotations:api_version",
    "documents:annotations:api_sync",
    "documents:annotations:api_bookmark",
    "documents:annotations:api_packet",
    "documents:annotations:api_notes_search",
    "documents:annotations:api_device",
    "documents:annotations:review_detail",
    "documents:annotations:review_page_image",
    "documents:annotations:export_start",
    "documents:annotations:export_status",
    "documents:annotations:export_file",
    "documents:annotations:export_page",  # needs an export of the member's; tests/annotations checks it
    "documents:annotations:revoke_own_devices",
    "documents:annotations:service_worker",
    "documents:notices:unread_json",
    "documents:notices:resend",
    "documents:notices:attachment",
    "documents:notices:document_read",
    "documents:search_json",
    "documents:upload_file",
    "documents:replace",
    "documents:release",
    "documents:version_file",
    "documents:opened",
    "documents:thumbnail",
    # A video call page that only exists while a remote member is being checked.
    "meetings:voting:video",
    "meetings:agenda_document_move",
    "meetings:matters:feed",
    "meetings:matters:results_json",
    "meetings:matters:results_csv",
    "meetings:matters:votes_json",
    "meetings:matters:votes_csv",
    "meetings:matters:public_report_pdf",
    "meetings:matters:publish_session",
    "meetings:matters:questions_pdf",
    "meetings:matters:act",
    "meetings:matters:report_pdf",
    "text_size",  # a POST that sets the member's text size (checked in tests/council/test_text_size.py)
}

ALL = tuple(ROLE_USERS)
SIGNED_IN = tuple(r for r in ROLE_USERS if r != "public")
MEMBERS = ("chair", "councillor")
STAFF = ("administrator", "clerk")
SITTING_VIEWERS = ("administrator", "clerk", "chair", "councillor", "official")


@dataclass(frozen=True)
class PageType:
    """A kind of page (one URL route) and who opens it in the scan."""

    key: str  # the route's "namespace:name"
    path: str  # a path to open, with the scene's objects filled in
    roles: tuple[str, ...]
    ready: str = ""  # a JavaScript expression that is true once the page has drawn itself
    optional: bool = False  # a page that exists only in some states (answers 404 otherwise): skipped then


@dataclass
class Finding:
    page: str
    role: str
    language: str
    rule: str
    impact: str
    targets: list[str]
    help: str = ""

    def line(self) -> str:
        return f"{self.page} as {self.role} ({self.language}): {self.rule} [{self.impact}] {self.help} — {', '.join(self.targets[:4])}"


@dataclass
class CrawlResult:
    axe: list[Finding] = field(default_factory=list)
    small_targets: list[Finding] = field(default_factory=list)
    overflowing: list[Finding] = field(default_factory=list)  # pages wider than the screen
    visited: list[tuple[str, str, str]] = field(default_factory=list)  # (page key, role, language)
    seconds: float = 0.0


# --- the scene ------------------------------------------------------------------------------------


def prepare_scene() -> dict:
    """Seed the demo council and put its plenary sitting in session: every councillor present,
    opened, the first agenda document presented at page 2, a vote open. Returns object ids."""
    from django.core.management import call_command
    from django.utils import timezone

    from council.models import Person
    from documents.models import Document
    from documents.notices.models import Notice
    from meetings.attendance.models import Attendance
    from meetings.live import services as live
    from meetings.minutes.models import Minutes
    from meetings.models import AgendaItemDocument, Sitting
    from meetings.voting.services import motions, polls, roll

    with open(os.devnull, "w") as quiet:
        call_command("seed_demo", stdout=quiet)
    # The first plenary sitting still to be held (or in session) with documents on its order of business.
    plenary = (
        Sitting.objects.filter(
            body__kind="plenary",
            agenda_items__document_links__isnull=False,
            status__in=[Sitting.Status.SCHEDULED, Sitting.Status.OPEN],
        )
        .order_by("date", "pk")
        .first()
    )
    clerk = Person.objects.get(user__username=ROLE_USERS["clerk"]).user
    chair = Person.objects.get(user__username=ROLE_USERS["chair"])
    if not plenary.agenda_published_at:
        Sitting.objects.filter(pk=plenary.pk).update(agenda_published_at=timezone.now())
    if plenary.status == Sitting.Status.SCHEDULED:
        roll.roll_prepare(sitting=plenary, by=clerk)
        for attendance in Attendance.objects.filter(sitting=plenary).select_related("person"):
            roll.attendance_mark(
                sitting=plenary, person=attendance.person, status=Attendance.Status.PRESENT_ROOM, by=clerk
            )
        live.sitting_open(sitting=plenary, actor=clerk)
    link = AgendaItemDocument.objects.filter(agenda_item__sitting=plenary).select_related("document").first()
    document = link.document
    live.document_present(
        sitting=plenary, actor=clerk, document_id=document.pk, page=min(2, _pages(document))
    )
    item = link.agenda_item
    if not item.motions.filter(polls__state="open").exists():
        motion = motions.motion_create(agenda_item=item, title=item.display_title, by=chair.user)
        polls.poll_open(motion=motion, method="roll_call", by=chair.user)  # each member votes on the tablet
    committee = Sitting.objects.filter(body__kind="standing", status=Sitting.Status.SCHEDULED).first()
    minutes = Minutes.objects.order_by("pk").first()
    public_minutes = Minutes.objects.filter(state="published").order_by("pk").first()
    notice = Notice.objects.order_by("pk").first()
    members_doc = Document.objects.filter(visibility=Document.Visibility.MEMBERS).first() or document
    from meetings.matters.models import CommitteeReport, Matter

    matter = Matter.objects.order_by("pk").first()
    report = CommitteeReport.objects.order_by("pk").first()
    return {
        "sitting": plenary.pk,
        "committee_sitting": committee.pk if committee else plenary.pk,
        "session": plenary.session_id,
        "body": plenary.body_id,
        "item": item.pk,
        "document": document.pk,
        "members_document": members_doc.pk,
        "minutes": minutes.pk if minutes else None,
        "public_minutes": public_minutes.pk if public_minutes else None,
        "notice": notice.pk if notice else None,
        "person": chair.pk,
        "matter": matter.pk if matter else None,
        "report": report.pk if report else None,
    }


def _pages(document) -> int:
    version = document.versions.order_by("-number").first()
    return version.page_count if version else 1


READER_READY = "() => !!window.councilReader && !!document.querySelector('.page-wrap canvas')"
LIVE_READY = "() => !!window.councilLive && window.councilLive.connected"


def page_types(scene: dict) -> list[PageType]:
    """Every page a person opens, with the scene's objects, and the roles that open it."""
    s = scene
    pages = [
        PageType("login", "/accounts/login/", ("public",)),
        PageType("home", "/", SIGNED_IN),
        PageType("security:password_change", "/security/password/", ("councillor",)),
        PageType("security:totp", "/security/second-factor/", ("clerk",)),
        PageType("admin:index", "/admin/", ("administrator",)),
        PageType("admin:login", "/admin/login/", ("public",)),
        PageType("council:bodies", "/council/bodies/", STAFF),
        PageType("council:body_create", "/council/bodies/new/", ("clerk",)),
        PageType("council:body_detail", f"/council/bodies/{s['body']}/", ("clerk",)),
        PageType("council:people", "/council/people/", ("clerk",)),
        PageType("council:person_create", "/council/people/new/", ("clerk",)),
        PageType("council:person_edit", f"/council/people/{s['person']}/", ("clerk",)),
        PageType("meetings:manage", "/meetings/manage/", STAFF),
        PageType("meetings:session_create", "/meetings/sessions/new/", ("clerk",)),
        PageType("meetings:session_edit", f"/meetings/sessions/{s['session']}/", ("clerk",)),
        PageType("meetings:sitting_create", f"/meetings/sessions/{s['session']}/sittings/new/", ("clerk",)),
        PageType("meetings:sitting_detail", f"/meetings/sittings/{s['sitting']}/", SITTING_VIEWERS),
        PageType("meetings:sitting_edit", f"/meetings/sittings/{s['committee_sitting']}/edit/", ("clerk",)),
        PageType("meetings:agenda_edit", f"/meetings/sittings/{s['committee_sitting']}/agenda/", ("clerk",)),
        PageType("meetings:agenda_item_edit", f"/meetings/items/{s['item']}/edit/", ("clerk",)),
        PageType(
            "meetings:reader:sitting",
            f"/meetings/sittings/{s['sitting']}/reader/",
            SITTING_VIEWERS,
            READER_READY,
        ),
        PageType(
            "meetings:reader:upload", f"/meetings/sittings/{s['sitting']}/documents/upload/", ("clerk",)
        ),
        PageType(
            "meetings:live:console",
            f"/meetings/sittings/{s['sitting']}/console/",
            ("clerk", "chair"),
            LIVE_READY,
        ),
        PageType("meetings:live:public", f"/meetings/sittings/{s['sitting']}/public/", ("public",)),
        PageType("meetings:live:display", f"/meetings/sittings/{s['sitting']}/display/", ("public",)),
        PageType("meetings:voting:console", f"/meetings/voting/sittings/{s['sitting']}/console/", ("chair",)),
        PageType("meetings:voting:member", f"/meetings/voting/sittings/{s['sitting']}/", MEMBERS),
        PageType("meetings:minutes:index", "/meetings/minutes/", STAFF),
        PageType("meetings:minutes:public_list", "/meetings/minutes/public/", ("public", "councillor")),
        PageType(
            "meetings:minutes:sitting", f"/meetings/minutes/sittings/{s['committee_sitting']}/", ("clerk",)
        ),
        PageType("documents:list", "/documents/", ALL),
        PageType("documents:search", "/documents/search/?q=%E6%9D%A1%E4%BE%8B", ("public", "councillor")),
        PageType("documents:upload", "/documents/upload/", ("clerk",)),
        PageType("documents:detail", f"/documents/{s['members_document']}/", SITTING_VIEWERS),
        PageType(
            "documents:read", f"/documents/{s['document']}/read/", ("councillor", "public"), READER_READY
        ),
        PageType("documents:annotations:my_notes", "/documents/annotations/mine/", MEMBERS),
        PageType("documents:annotations:review_list", "/documents/annotations/review/", ("councillor",)),
        PageType("documents:annotations:offline", "/documents/annotations/offline/", ("councillor",)),
        PageType("documents:annotations:manage_devices", "/documents/annotations/devices/", ("clerk",)),
        PageType("documents:notices:inbox", "/documents/notices/", SIGNED_IN),
        PageType("documents:notices:compose", "/documents/notices/new/", ("clerk",)),
        PageType("documents:notices:documents_read", "/documents/notices/read/", ("clerk",)),
    ]
    session = s["session"]
    pages += [
        PageType("meetings:matters:public_index", "/meetings/matters/", ("public", "councillor")),
        PageType("meetings:matters:public_session", f"/meetings/matters/sessions/{session}/", ("public",)),
        PageType(
            "meetings:matters:public_votes", f"/meetings/matters/sessions/{session}/votes/", ("public",)
        ),
        PageType(
            "meetings:matters:public_questions",
            f"/meetings/matters/sessions/{session}/questions/",
            ("public",),
            optional=True,
        ),
        PageType(
            "meetings:matters:my_questions",
            f"/meetings/matters/sessions/{session}/my-questions/",
            ("councillor",),
            optional=True,
        ),
        PageType("meetings:matters:manage_index", "/meetings/matters/manage/", ("clerk",)),
        PageType("meetings:matters:manage_settings", "/meetings/matters/manage/settings/", ("clerk",)),
        PageType(
            "meetings:matters:manage_session", f"/meetings/matters/manage/sessions/{session}/", ("clerk",)
        ),
        PageType(
            "meetings:matters:manage_questions",
            f"/meetings/matters/manage/sessions/{session}/questions/",
            ("clerk",),
        ),
        PageType(
            "meetings:matters:manage_sitting",
            f"/meetings/matters/manage/sittings/{s['sitting']}/",
            ("clerk",),
        ),
    ]
    if s.get("matter"):
        pages.append(
            PageType("meetings:matters:public_matter", f"/meetings/matters/{s['matter']}/", ("public",))
        )
        pages.append(
            PageType("meetings:matters:manage_matter", f"/meetings/matters/manage/{s['matter']}/", ("clerk",))
        )
    if s.get("report"):
        pages.append(
            PageType(
                "meetings:matters:report_edit", f"/meetings/matters/manage/reports/{s['report']}/", ("clerk",)
            )
        )
    if s.get("public_minutes"):
        pages.append(
            PageType(
                "meetings:minutes:public_detail",
                f"/meetings/minutes/public/{s['public_minutes']}/",
                ("public",),
            )
        )
    if s.get("minutes"):
        pages.append(PageType("meetings:minutes:detail", f"/meetings/minutes/{s['minutes']}/", ("clerk",)))
        pages.append(PageType("meetings:minutes:edit", f"/meetings/minutes/{s['minutes']}/edit/", ("clerk",)))
    if s.get("notice"):
        pages.append(PageType("documents:notices:detail", f"/documents/notices/{s['notice']}/", MEMBERS))
    return pages


# --- the browser ------------------------------------------------------------------------------------


def session_cookie(user, base_url: str) -> dict:
    """A signed-in session for a browser context (the sign-in form itself is scanned as a page)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": base_url,
    }


# axe-core reads the colours on the screen: a sheet still rising (its opacity animating, e.g. the
# poll sheet's 0.2 s vote-rise) shows blended colours that fail contrast checks no member ever sees
# once it has settled. Finite animations are let finish first (at most 3 s); endless ones are not
# waited for.
AXE_RUN = """async () => {
  const finite = document.getAnimations().filter((a) => {
    const end = a.effect && a.effect.getComputedTiming().endTime;
    return a.playState === 'running' && Number.isFinite(end);
  });
  await Promise.race([
    Promise.all(finite.map((a) => a.finished.catch(() => null))),
    new Promise((resolve) => setTimeout(resolve, 3000)),
  ]);
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => ({
    rule: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map(n => n.target.join(' ') + (n.failureSummary ? ' (' + n.failureSummary.split('\\n').slice(1, 2).join('').trim() + ')' : '')),
  }));
}"""

# Every visible interactive element smaller than 44×44 CSS px. A link in the running text of a
# sentence is exempt (WCAG 2.5.8's inline exception); links in lists, navigation, tables of
# results and buttons are not. A checkbox or radio button counts with its label (the label is
# what a finger taps).
SMALL_TARGETS = """(min) => {
  const sel = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button], [tabindex]:not([tabindex="-1"])';
  const out = [];
  const blockTags = new Set(['P', 'DD', 'BLOCKQUOTE', 'FIGCAPTION', 'SPAN', 'EM', 'STRONG', 'SMALL']);
  const describe = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    else if (el.classList.length) s += '.' + [...el.classList].slice(0, 2).join('.');
    const text = (el.getAttribute('aria-label') || el.textContent || el.value || el.name || '').trim().replace(/\\s+/g, ' ');
    return s + (text ? ' "' + text.slice(0, 30) + '"' : '');
  };
  const inSentence = (el) => {
    if (el.tagName !== 'A' || getComputedStyle(el).display !== 'inline') return false;
    let block = el.parentElement;
    while (block && getComputedStyle(block).display === 'inline') block = block.parentElement;
    if (!block || !['P', 'DD', 'BLOCKQUOTE', 'FIGCAPTION', 'TD'].includes(block.tagName)) return false;
    const own = el.textContent.trim().length;
    return block.textContent.trim().length - own >= 10;  // real words around the link
  };
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) return false;
    if (r.right <= 0 || r.bottom <= -window.scrollY || r.left >= document.documentElement.scrollWidth) return false;
    const cs = getComputedStyle(el);
    if (cs.visibility === 'hidden' || cs.display === 'none' || Number(cs.opacity) === 0) return false;
    if (el.closest('[hidden], [inert], [aria-hidden=true], .annotationLayer, .textLayer')) return false;
    for (let a = el; a && a !== document.body; a = a.parentElement) {  // visually hidden (clipped away)
      const s = getComputedStyle(a);
      if ((s.clip && s.clip !== 'auto') || (s.clipPath && s.clipPath !== 'none')) return false;
    }
    return el.checkVisibility ? el.checkVisibility() : true;
  };
  for (const el of document.querySelectorAll(sel)) {
    if (!visible(el) || inSentence(el)) continue;
    let r = el.getBoundingClientRect();
    let w = r.width, h = r.height;
    if ((el.type === 'checkbox' || el.type === 'radio') && el.labels && el.labels.length) {
      for (const label of el.labels) {
        const lr = label.getBoundingClientRect();
        const left = Math.min(r.left, lr.left), right = Math.max(r.right, lr.right);
        const top = Math.min(r.top, lr.top), bottom = Math.max(r.bottom, lr.bottom);
        w = Math.max(w, right - left); h = Math.max(h, bottom - top);
      }
    }
    if (w + 0.5 < min || h + 0.5 < min) out.push(describe(el) + ' ' + Math.round(w) + '×' + Math.round(h));
  }
  return out;
}"""


def crawl(
    base_url: str,
    browser,
    scene: dict,
    *,
    languages=tuple(LANGUAGES),
    roles=tuple(ROLE_USERS),
    axe: bool = True,
    tap_targets: bool = True,
    text_size: str | None = None,
) -> CrawlResult:
    """Open every page type as every role that opens it, in each language, on a tablet with touch;
    collect axe-core's serious and critical violations and the tap targets under 44×44."""
    from django.contrib.auth import get_user_model

    User = get_user_model()  # noqa: N806
    started = time.monotonic()
    result = CrawlResult()
    axe_source = AXE_JS.read_text()
    catalogue = page_types(scene)
    for role in roles:
        username = ROLE_USERS[role]
        user = User.objects.get(username=username) if username else None
        if user is not None and text_size is not None:
            _set_text_size(user, text_size)
        for language in languages:
            # bypass_csp: the strict policy would refuse the injected axe-core script (the policy is
            # checked by tests/security/test_csp.py).
            context = browser.new_context(
                locale=LANGUAGES[language], viewport=TABLET, has_touch=True, bypass_csp=True, is_mobile=True
            )
            try:
                if user is not None:
                    context.add_cookies([session_cookie(user, base_url)])
                page = context.new_page()
                for page_type in catalogue:
                    if role not in page_type.roles:
                        continue
                    if not _visit(page, base_url, page_type, role):
                        continue
                    result.visited.append((page_type.key, role, language))
                    if axe:
                        page.add_script_tag(content=axe_source)
                        for v in page.evaluate(AXE_RUN):
                            result.axe.append(
                                Finding(
                                    page_type.key,
                                    role,
                                    language,
                                    v["rule"],
                                    v["impact"],
                                    v["targets"],
                                    v["help"],
                                )
                            )
                    width = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
                    if width[0] > width[1] + 1:
                        result.overflowing.append(
                            Finding(
                                page_type.key,
                                role,
                                language,
                                "overflow",
                                "",
                                [f"{width[0]} px wide on a {width[1]} px screen"],
                            )
                        )
                    if tap_targets and language == languages[0]:
                        small = page.evaluate(SMALL_TARGETS, MIN_TARGET)
                        if small:
                            result.small_targets.append(
                                Finding(page_type.key, role, language, "target-size", "", small)
                            )
            finally:
                context.close()
    result.seconds = time.monotonic() - started
    return result


def _visit(page, base_url: str, page_type: PageType, role: str) -> bool:
    response = page.goto(base_url + page_type.path, wait_until="load")
    if page_type.optional and response is not None and response.status == 404:
        return False
    if response is None or response.status >= 400:
        raise AssertionError(
            f"{page_type.key} as {role}: {response.status if response else 'no answer'} for {page_type.path}"
        )
    if page_type.ready:
        page.wait_for_function(page_type.ready, timeout=20000)
    return True


def _set_text_size(user, size: str) -> None:
    from council.models import Person

    Person.objects.filter(user=user).update(text_size=size)


# --- the benchmark's entry point ----------------------------------------------------------------------


def _free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def axe_serious_total() -> int:
    """Serious plus critical axe-core violations over every page type, role and language, on a fresh
    scratch database (SQLite) with the demo scene, served by its own daphne.

    Runs in a process of its own, so a caller that has already set Django up on another database
    (``bench.reader_layout``) is not disturbed."""
    import json

    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    out = subprocess.run(
        [sys.executable, "-m", "bench.a11y_support"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])["axe_serious"]


def _scan_fresh_database() -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="a11y-"))
    os.environ.update(
        DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
        COUNCIL_VAR_DIR=str(tmp),
        MEDIA_ROOT=str(tmp / "media"),
        COUNCIL_DEMO="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
    )
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "council.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    scene = prepare_scene()
    port = _free_port()
    log = open(tmp / "daphne.log", "wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "council.asgi:application"],
        cwd=ROOT,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for_port(port, server)
        from playwright.sync_api import sync_playwright

        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                result = crawl(f"http://127.0.0.1:{port}", browser, scene)
            finally:
                browser.close()
    finally:
        server.terminate()
        server.wait(10)
    for finding in result.axe + result.small_targets + result.overflowing:
        print(finding.line())
    return {
        "axe_serious": len(result.axe),
        "small_targets": sum(len(f.targets) for f in result.small_targets),
        "overflowing_pages": len(result.overflowing),
        "pages": len(result.visited),
        "seconds": round(result.seconds, 1),
    }


def _wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("daphne exited early")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("daphne did not start in time")


# The share of the screen the reader's document page covers (its drawn canvas, clipped to the
# viewport): the page must still fill the screen with larger text on.
READER_PAGE_AREA = """() => {
  const canvas = document.querySelector('.reader-pane.is-active .page-wrap canvas')
    || document.querySelector('.page-wrap canvas');
  if (!canvas) return 0;
  const r = canvas.getBoundingClientRect();
  const w = Math.max(0, Math.min(r.right, innerWidth) - Math.max(r.left, 0));
  const h = Math.max(0, Math.min(r.bottom, innerHeight) - Math.max(r.top, 0));
  return (w * h) / (innerWidth * innerHeight);
}"""


if __name__ == "__main__":
    import json

    print(json.dumps(_scan_fresh_database()))
