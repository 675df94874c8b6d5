"""The permission matrix: every URL route and every WebSocket message type, for every role,
checked against one table kept here.

A route (or message type) without a row fails ``test_permission_matrix_covers_every_route``, so a
new page cannot land unnoticed. Each request runs in a savepoint that is rolled back, so one
role's POST cannot change what the next role sees. Every answer is also checked for a strict
Content-Security-Policy and for never being a server error.

Answers, one letter per role in ``ROLES`` order:
  O  200-299            R  redirect elsewhere        L  redirect to sign-in
  D  403 or 404 (the same answer for "missing" and "not yours")
  B  400 (refused input: the role may act, the empty request is not valid)
  M  405 (method not allowed)       *  anything but a server error (used only for the admin site,
                                        whose own permission system Django tests)
  r  a redirect that changed nothing (a refusal shown as a message on the next page)
  Letters may be combined: "OR" means 200-299 or a redirect. Answers D, L, M, B and r must also
  leave the audit log untouched: a refused request changes nothing.

Discovery: ``PERMISSION_MATRIX_DISCOVER=1 pytest tests/test_permission_matrix.py -k covers -s``
prints the observed answers of routes without a row, in this file's format, for review.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from council.models import AuditEntry

ROLES = ["anonymous", "public", "other_member", "member", "chair", "official", "clerk", "admin"]


# --- the walker ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    key: str  # "namespace:name", or the pattern for unnamed routes
    pattern: str
    params: tuple[str, ...]


def walk_routes(resolver: URLResolver | None = None, prefix: str = "", namespaces: tuple[str, ...] = ()):
    """Every URL pattern, recursively through includes, with its full pattern and parameters."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        pattern = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            ns = namespaces + ((entry.namespace,) if entry.namespace else ())
            yield from walk_routes(entry, pattern, ns)
        elif isinstance(entry, URLPattern):
            params = tuple(
                re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", pattern)
                and [a or b for a, b in re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", pattern)]
            )
            key = ":".join(namespaces + (entry.name,)) if entry.name else pattern
            yield Route(key=key, pattern=pattern, params=params)


def route_url(route: Route, values: dict[str, Any]) -> str:
    """Fill the pattern's parameters with values (works for unnamed and regex routes too)."""

    def fill(match):
        name = match.group(1) or match.group(2)
        return str(values[name])

    url = re.sub(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)", fill, route.pattern)
    url = url.lstrip("^").rstrip("$").replace("\\", "")
    return "/" + url


def classify(response) -> str:
    status = response.status_code
    if status >= 500:
        return "E"
    if status in (301, 302, 303, 307, 308):
        location = response.get("Location", "")
        return "L" if "/accounts/login/" in location or "/admin/login/" in location else "R"
    if status in (403, 404, 401):
        return "D"
    if status == 405:
        return "M"
    if status in (400, 409, 422):
        return "B"
    if 200 <= status < 300:
        return "O"
    return str(status)


def matches(expected: str, got: str, audited: bool) -> bool:
    if expected == "-":
        return True
    if got == "E":
        return False
    if expected == "*":
        return True
    refused = set(expected) <= set("DLMBr")
    return got in expected.upper() and not (refused and audited)


# --- the table ------------------------------------------------------------------------------------
# key: (parameter values, GET answers, POST answers). Parameter values name objects of the
# fixture below (see ``values``); answers are one token per role in ROLES order.

# The admin site: Django's own permission system; signed-in non-staff are sent to sign in. Its
# POSTs are not repeated here ("-": not requested), the GETs show who reaches it at all.
ADMIN = ("*", "L L L L L L L *", "- - - - - - - -")

ROUTES: dict[str, tuple[dict[str, str], str, str]] = {
    "admin:logout": ({}, "R R R R R R R M", ADMIN[2]),
    "home": ({}, "L O O O O O O O", "L O O O O O O O"),
    # Open to monitoring; 503 without a job worker, so its GET is proven in tests/production instead.
    "healthz": ({}, "- - - - - - - -", "M M M M M M M M"),
    "login": ({}, "O R R R R R R R", "O R R R R R R R"),
    "logout": ({}, "M M M M M M M M", "L L L L L L L L"),
    "set_language": ({}, "R R R R R R R R", "R R R R R R R R"),
    "text_size": ({}, "L M M M M M M M", "L D B B B B B D"),
    "council:bodies": ({}, "L D D D D D O O", "L D D D D D O O"),
    "council:body_create": ({}, "L D D D D D O O", "L D D D D D O O"),
    "council:body_detail": ({}, "L D D D D D O O", "L D D D D D B B"),
    "council:membership_add": ({}, "L D D D D D M M", "L D D D D D B B"),
    "council:body_officer": ({}, "L D D D D D M M", "L D D D D D B B"),
    "council:membership_end": ({}, "L D D D D D M M", "L D D D D D R R"),
    "council:people": ({}, "L D D D D D O O", "L D D D D D O O"),
    "council:person_create": ({}, "L D D D D D O O", "L D D D D D O O"),
    "council:person_edit": ({}, "L D D D D D O O", "L D D D D D O O"),
    "council:people_import": ({}, "L D D D D D M M", "L D D D D D B B"),
    "security:second_factor": ({}, "L L L L L L L L", "L L L L L L L L"),
    "security:totp": ({}, "L D D D D D O O", "L D D D D D B B"),
    "security:password_change": ({}, "L O O O O O O O", "L O O O O O O O"),
    "meetings:manage": ({}, "L D D D D D O O", "L D D D D D O O"),
    "meetings:session_create": ({}, "L D D D D D O O", "L D D D D D O O"),
    "meetings:session_edit": ({}, "L D D D D D O O", "L D D D D D O O"),
    "meetings:sitting_create": ({}, "L D D D D D O O", "L D D D D D O O"),
    "meetings:sitting_detail": ({}, "L D D O O O O O", "L D D O O O O O"),
    "meetings:sitting_edit": ({}, "L D D D D D O O", "L D D D D D O O"),
    "meetings:sitting_cancel": ({}, "L D D D D D M M", "L D D D D D R R"),
    "meetings:agenda_edit": ({}, "L D D D D D O O", "L D D D D D O O"),
    "meetings:agenda_reorder": ({}, "L D D D D D M M", "L D D D D D R R"),
    "meetings:agenda_publish": ({}, "L D D D D D M M", "L D D D D D R R"),
    "meetings:agenda_unpublish": ({}, "L D D D D D M M", "L D D D D D R R"),
    "meetings:agenda_item_edit": ({}, "L D D D D D O O", "L D D D D D O O"),
    "meetings:agenda_item_delete": ({}, "L D D D D D M M", "L D D D D D R R"),
    "meetings:agenda_item_move": ({}, "L D D D D D M M", "L D D D D D R R"),
    "meetings:agenda_document_move": ({}, "L D D D D D M M", "L D D D D D R R"),
    "meetings:body_calendar": ({}, "O O O O O O O O", "M M M M M M M M"),
    "meetings:reader:sitting": ({}, "L D D O O O O O", "L M M M M M M M"),
    "meetings:reader:upload": ({}, "L D D D D D O O", "L M M M M M M M"),
    "meetings:reader:upload_file": ({}, "L D D D D D D D", "L D D D D D B B"),
    "meetings:live:console": ({}, "L D D D O D O O", "L M M M M M M M"),
    "meetings:live:public": ({}, "O O O O O O O O", "M M M M M M M M"),
    "meetings:live:display": ({}, "O O O O O O O O", "M M M M M M M M"),
    "meetings:voting:console": ({}, "L D D D O D O O", "L D D D O D O O"),
    "meetings:voting:member": ({}, "L D D O O O O O", "L D D O O O O O"),
    "meetings:voting:video": ({}, "L D D D D D D D", "L D D D D D D D"),
    "meetings:voting:suggest": ({}, "L M M M M M M M", "L D D D D D B B"),
    "meetings:minutes:index": ({}, "L R R R R R O O", "L R R R R R O O"),
    "meetings:minutes:public_list": ({}, "O O O O O O O O", "M M M M M M M M"),
    "meetings:minutes:public_detail": ({}, "D D D D D D D D", "M M M M M M M M"),
    "meetings:minutes:public_pdf": ({}, "D D D D D D D D", "M M M M M M M M"),
    "meetings:minutes:public_json": ({}, "D D D D D D D D", "M M M M M M M M"),
    "meetings:minutes:public_votes_json": ({}, "D D D D D D D D", "M M M M M M M M"),
    "meetings:minutes:public_votes_csv": ({}, "D D D D D D D D", "M M M M M M M M"),
    "meetings:minutes:sitting": ({}, "L D D D D D O O", "L D D D D D O O"),
    "meetings:minutes:generate": ({}, "L M M M M M M M", "L D D D D D R R"),
    "meetings:minutes:job": ({}, "L D D D D D O O", "L M M M M M M M"),
    "meetings:minutes:job_pdf": ({}, "L D D D D D D D", "L M M M M M M M"),
    "meetings:minutes:detail": ({}, "L D D D D D O O", "L D D D D D O O"),
    "meetings:minutes:edit": ({}, "L D D D D D O O", "L D D D D D O O"),
    "meetings:minutes:block_save": ({}, "L M M M M M M M", "L D D D D D B B"),
    "meetings:minutes:block_move": ({}, "L M M M M M M M", "L D D D D D R R"),
    "meetings:minutes:block_delete": ({}, "L M M M M M M M", "L D D D D D R R"),
    "meetings:minutes:remark_add": ({}, "L M M M M M M M", "L D D D D D R R"),
    "meetings:minutes:transcript": ({}, "L M M M M M M M", "L D D D D D R R"),
    "meetings:minutes:signers": ({}, "L M M M M M M M", "L D D D D D R R"),
    "meetings:minutes:submit": ({}, "L M M M M M M M", "L D D D D D R R"),
    "meetings:minutes:return": ({}, "L M M M M M M M", "L D D D D D R R"),
    "meetings:minutes:sign": ({}, "L M M M M M M M", "L D D D D D R R"),
    "meetings:minutes:publish": ({}, "L M M M M M M M", "L D D D D D R R"),
    "meetings:minutes:correct": ({}, "L M M M M M M M", "L D D D D D R R"),
    "meetings:minutes:preview": ({}, "L M M M M M M M", "L D D D D D R R"),
    "meetings:minutes:pdf": ({}, "L D D D D D D D", "L D D D D D D D"),
    "meetings:minutes:json": ({}, "L D D D D D O O", "L D D D D D O O"),
    "meetings:minutes:votes_json": ({}, "L D D D D D O O", "L D D D D D O O"),
    "meetings:minutes:votes_csv": ({}, "L D D D D D O O", "L D D D D D O O"),
    "meetings:matters:public_index": ({}, "O O O O O O O O", "M M M M M M M M"),
    "meetings:matters:feed": ({}, "O O O O O O O O", "M M M M M M M M"),
    "meetings:matters:public_session": ({}, "O O O O O O O O", "M M M M M M M M"),
    "meetings:matters:public_votes": ({}, "O O O O O O O O", "M M M M M M M M"),
    # The world's notices are still open: the list is not published, so nobody finds it.
    "meetings:matters:public_questions": ({}, "D D D D D D D D", "M M M M M M M M"),
    "meetings:matters:results_json": ({}, "O O O O O O O O", "M M M M M M M M"),
    "meetings:matters:results_csv": ({}, "O O O O O O O O", "M M M M M M M M"),
    "meetings:matters:votes_json": ({}, "O O O O O O O O", "M M M M M M M M"),
    "meetings:matters:votes_csv": ({}, "O O O O O O O O", "M M M M M M M M"),
    "meetings:matters:public_matter": ({}, "O O O O O O O O", "M M M M M M M M"),
    "meetings:matters:public_report_pdf": ({}, "O O O O O O O O", "M M M M M M M M"),
    "meetings:matters:my_questions": ({}, "L D O O O D D D", "L D O O O D D D"),
    "meetings:matters:manage_index": ({}, "L D D D D D O O", "L D D D D D M M"),
    "meetings:matters:manage_settings": ({}, "L D D D D D O O", "L D D D D D B B"),
    "meetings:matters:manage_session": ({}, "L D D D D D O O", "L D D D D D O O"),
    "meetings:matters:publish_session": ({}, "L D D D D D M M", "L D D D D D r r"),
    "meetings:matters:manage_questions": ({}, "L D D D D D O O", "L D D D D D B B"),
    "meetings:matters:questions_pdf": ({}, "L D D D D D O O", "L D D D D D M M"),
    "meetings:matters:manage_sitting": ({}, "L D D D D D O O", "L D D D D D M M"),
    "meetings:matters:manage_matter": ({}, "L D D D D D O O", "L D D D D D M M"),
    "meetings:matters:act": ({}, "L D D D D D M M", "L D D D D D r r"),
    "meetings:matters:report_edit": ({}, "L D D D D D O O", "L D D D D D O O"),
    "meetings:matters:report_pdf": ({}, "L D D D D D O O", "L D D D D D M M"),
    "documents:annotations:api_version": ({}, "D D D O O O O O", "D M M M M M M M"),
    "documents:annotations:api_sync": ({}, "D M M M M M M M", "D B B B B B B B"),
    "documents:annotations:api_bookmark": ({}, "D M M M M M M M", "D B B B B B B B"),
    "documents:annotations:api_packet": ({}, "D D O O O O O O", "D D B B B B B B"),
    "documents:annotations:api_notes_search": ({}, "D O O O O O O O", "D M M M M M M M"),
    # The device id is the bearer secret: the Service Worker asks without a session.
    "documents:annotations:api_device": ({}, "O O O O O O O O", "O O O O O O O O"),
    "documents:annotations:my_notes": ({}, "L O O O O O O O", "L M M M M M M M"),
    "documents:annotations:review_list": ({}, "L O O O O O O O", "L M M M M M M M"),
    "documents:annotations:review_detail": ({}, "L D D D D D D D", "L D D D D D D D"),
    "documents:annotations:review_page_image": ({}, "L D D D D D D D", "L M M M M M M M"),
    # Starting an export answers at once (the worker makes the file); only its member follows or fetches it.
    "documents:annotations:export_start": ({}, "M M M M M M M M", "D D D R R R R R"),
    "documents:annotations:export_page": ({}, "L D D O D D D D", "L M M M M M M M"),
    "documents:annotations:export_status": ({}, "D D D O D D D D", "M M M M M M M M"),
    "documents:annotations:export_file": ({}, "D D D O D D D D", "M M M M M M M M"),
    "documents:annotations:offline": ({}, "L D O O O O O O", "L M M M M M M M"),
    "documents:annotations:revoke_own_devices": ({}, "L M M M M M M M", "L R R R R R R R"),
    "documents:annotations:manage_devices": ({}, "L D D D D D O O", "L D D D D D D D"),
    "documents:annotations:service_worker": ({}, "O O O O O O O O", "M M M M M M M M"),
    "documents:notices:inbox": ({}, "L O O O O O O O", "L M M M M M M M"),
    "documents:notices:unread_json": ({}, "L O O O O O O O", "L M M M M M M M"),
    "documents:notices:compose": ({}, "L D D D D D O O", "L D D D D D O O"),
    "documents:notices:detail": ({}, "L D D O O D O O", "L M M M M M M M"),
    "documents:notices:resend": ({}, "L M M M M M M M", "L D D r r D R R"),
    "documents:notices:attachment": ({}, "L D D O O D O O", "L M M M M M M M"),
    "documents:notices:documents_read": ({}, "L D D D D D O O", "L M M M M M M M"),
    "documents:notices:document_read": ({}, "L D D D D D O O", "L D D D D D R R"),
    "documents:list": ({}, "O O O O O O O O", "M M M M M M M M"),
    "documents:search": ({}, "O O O O O O O O", "M M M M M M M M"),
    "documents:search_json": ({}, "O O O O O O O O", "M M M M M M M M"),
    "documents:upload": ({}, "L D D D D D O O", "L M M M M M M M"),
    "documents:upload_file": ({}, "L M M M M M M M", "L D D D D D B B"),
    "documents:detail": ({}, "D D D O O O O O", "M M M M M M M M"),
    "documents:read": ({}, "D D D O O O O O", "M M M M M M M M"),
    "documents:replace": ({}, "L M M M M M M M", "L D D D D D B B"),
    "documents:release": ({}, "L M M M M M M M", "L D D D D D D D"),
    "documents:version_file": ({}, "D D D O O O O O", "M M M M M M M M"),
    "documents:opened": ({}, "L M M M M M M M", "L D D O O O O O"),
    "documents:thumbnail": ({}, "D D D O O O O O", "M M M M M M M M"),
}

# Routes matched by a prefix of their key (the admin site: one rule for all its pages).
PREFIX_ROWS: dict[str, tuple[dict[str, str], str, str]] = {
    "admin:": ({}, ADMIN[1], ADMIN[2]),
    "admin/": ({}, ADMIN[1], ADMIN[2]),
}


def row_for(route: Route):
    if route.key in ROUTES:
        return ROUTES[route.key]
    for prefix, row in PREFIX_ROWS.items():
        if route.key.startswith(prefix):
            return row
    return None


# --- the world every role is checked against ---------------------------------------------------


@pytest.fixture
def world(db, settings, tmp_path):
    """A committee sitting with a published agenda, a released members' document on it, a notice
    with an attachment, one member's annotation and offline device, and a user for every role."""
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from bench.support.hostile_pdfs import valid
    from documents.annotations.models import Annotation, AnnotationExport, OfflineDevice
    from documents.models import Document
    from documents.notices.models import NoticeAttachment
    from documents.notices.services import notice_send
    from documents.services import document_create
    from meetings.models import AgendaItemDocument
    from tests import factories

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    org = factories.make_small_council()
    committee = org["committee"]
    sitting = factories.make_sitting(org["session"], committee, agenda_published_at=timezone.now())
    item = factories.make_agenda_item(sitting)
    pdf = tmp_path / "議案.pdf"
    pdf.write_bytes(valid())
    clerk = org["clerk"].user
    document = document_create(
        body=committee,
        title="委員会資料",
        path=pdf,
        original_name=pdf.name,
        actor=clerk,
        visibility=Document.Visibility.MEMBERS,
        release_now=True,
    )
    version = document.versions.get()
    AgendaItemDocument.objects.create(agenda_item=item, document=document)
    member, chair, other = org["members"][5], org["members"][2], org["members"][8]
    notice = notice_send(
        sender=clerk, council=org["council"], title="お知らせ", body="本文", bodies=[committee]
    )
    attachment = NoticeAttachment(notice=notice, original_name="資料.txt", content_type="text/plain", size=3)
    attachment.file.save("a.txt", ContentFile(b"abc"), save=True)
    annotation = Annotation.objects.create(
        member=member.user,
        document=document,
        version=version,
        page=1,
        kind=Annotation.Kind.values[0],
        text="メモ",
    )
    device = OfflineDevice.objects.create(member=member.user, device_id=uuid.uuid4(), label="tablet")
    export = AnnotationExport.objects.create(
        member=member.user, document=document, version=version, state="done", progress=100, size=3
    )
    export.output.save("export.pdf", ContentFile(b"%PD"), save=True)
    membership = committee.memberships.get(person=member)
    from meetings.minutes.models import GenerationJob
    from meetings.minutes.services import draft_generate, remark_add
    from meetings.models import Sitting

    closed = factories.make_sitting(org["session"], committee, status=Sitting.Status.CLOSED)
    minutes = draft_generate(sitting=closed, actor=clerk)
    block = remark_add(minutes=minutes, text="（休憩）", actor=clerk)
    job = GenerationJob.objects.create(
        sitting=closed, minutes=minutes, kind=GenerationJob.Kind.PDF, created_by=clerk
    )
    from django_otp.plugins.otp_totp.models import TOTPDevice

    totp_device = TOTPDevice.objects.create(user=clerk, name="totp", confirmed=False)
    from meetings.matters import questions as matter_questions
    from meetings.matters import services as matter_services

    matter = matter_services.matter_submit(
        actor=clerk, session=org["session"], kind="bill", title="町税条例", submitter_kind="mayor"
    )
    matter_services.matter_place(actor=clerk, matter=matter, sitting=org["sitting"])
    matter_services.matter_refer(actor=clerk, matter=matter, committee=committee, sitting=org["sitting"])
    matter_services.matter_place(actor=clerk, matter=matter, sitting=sitting)
    report = matter_services.matter_examine(
        actor=clerk, matter=matter, decision="should_pass", sitting=sitting
    )
    matter_services.matter_chair_report(actor=clerk, matter=matter, sitting=org["sitting"])
    matter_services.matter_publish(actor=clerk, matter=matter)
    from meetings.matters import pdfs as matter_pdfs

    matter_pdfs.render_task.call(matter_pdfs.REPORT, report.pk)  # as the job worker would have
    matter_questions.call_open(
        actor=clerk, session=org["session"], deadline=timezone.now() + timezone.timedelta(days=1)
    )
    users = {
        "anonymous": None,
        "public": factories.make_user("public-viewer"),
        "other_member": other.user,
        "member": member.user,
        "chair": chair.user,
        "official": org["official"].user,
        "clerk": clerk,
        "admin": org["admin"],
    }
    objects = {
        "sitting": sitting.pk,
        "session": org["session"].pk,
        "body": committee.pk,
        "person": member.pk,
        "membership": membership.pk,
        "item": item.pk,
        "document": document.pk,
        "version": version.pk,
        "page": 1,
        "notice": notice.pk,
        "attachment": attachment.pk,
        "annotation": annotation.client_id,
        "device": device.device_id,
        "export": export.pk,
        "which": "new",
        "object_id": 1,
        "url": "",
        "content_type_id": 1,
        "minutes": minutes.pk,
        "block": block.pk,
        "job": job.pk,
        "closed_sitting": closed.pk,
        "app_label": "council",
        "totp_device": totp_device.pk,
        "matter": matter.pk,
        "report": report.pk,
    }
    return dict(org, users=users, objects=objects, sitting=sitting, document=document)


# Parameter name -> object, for rows that do not say; "pk" depends on the route (see PK_BY_KEY).
DEFAULT_VALUES = {
    "sitting_id": "sitting",
    "version_id": "version",
    "document_id": "document",
    "number": "page",
    "notice_id": "notice",
    "attachment_id": "attachment",
    "client_id": "annotation",
    "which": "which",
    "device_id": "device",
    "object_id": "object_id",
    "url": "url",
    "content_type_id": "content_type_id",
    "session_id": "session",
    "body_id": "body",
    "item_id": "item",
    "person_id": "person",
    "block_id": "block",
    "id": "object_id",
    "app_label": "app_label",
}
PK_BY_KEY = [  # first match wins
    ("admin:otp_totp", "totp_device"),
    ("admin:", "object_id"),
    ("council:membership_end", "membership"),
    ("council:person", "person"),
    ("council:", "body"),
    ("documents:annotations:export", "export"),
    ("meetings:minutes:job", "job"),
    ("meetings:minutes:", "minutes"),
    ("meetings:body_", "body"),
    ("meetings:session", "session"),
    ("meetings:sitting_create", "session"),
    ("meetings:agenda_item", "item"),
    ("meetings:matters:manage_sitting", "sitting"),
    ("meetings:matters:report", "report"),
    ("meetings:matters:public_report", "report"),
    ("meetings:matters:manage_matter", "matter"),
    ("meetings:matters:act", "matter"),
    ("meetings:matters:public_matter", "matter"),
    ("meetings:matters:", "session"),
    ("meetings:", "sitting"),
]


def values(route: Route, spec: dict[str, str], world) -> dict[str, Any]:
    out = {}
    for name in route.params:
        ref = spec.get(name) or DEFAULT_VALUES.get(name)
        if name == "pk" and ref is None:
            ref = next((obj for prefix, obj in PK_BY_KEY if route.key.startswith(prefix)), None)
        if ref is None:
            raise KeyError(f"{route.key}: no value for <{name}>; give it in the route's row")
        out[name] = world["objects"][ref]
    return out


def clients_for(world) -> dict[str, Client]:
    clients = {}
    for role, user in world["users"].items():
        client = Client()
        if user is not None:
            client.force_login(user)
        clients[role] = client
    return clients


def observe(route: Route, spec: dict[str, str], world, clients, methods=("get", "post")) -> dict:
    """{role: (GET answer, POST answer)}, each request in a savepoint that is rolled back."""
    from tests.security.test_csp import assert_strict_policy

    url = route_url(route, values(route, spec, world))
    out = {}
    for role in ROLES:
        client = clients[role]
        saved = dict(client.cookies.items())
        answers = []
        for method in ("get", "post"):
            if method not in methods:
                answers.append(("-", False))
                continue
            with transaction.atomic():
                before = AuditEntry.objects.count()
                response = getattr(client, method)(url, follow=False)
                audited = AuditEntry.objects.count() != before
                transaction.set_rollback(True)
            client.cookies.clear()
            for name, morsel in saved.items():
                client.cookies[name] = morsel.value
            got = classify(response)
            if got != "E" and response.status_code not in (301, 302, 303, 307, 308, 304):
                assert_strict_policy(
                    response.get("Content-Security-Policy"), f"on {method.upper()} {url} as {role}"
                )
            answers.append((got, audited))
        out[role] = tuple(answers)
    return out


def test_permission_matrix_covers_every_route(world):
    routes = list(walk_routes())
    missing = [r for r in routes if row_for(r) is None]
    stale = sorted(set(ROUTES) - {r.key for r in routes})
    if missing and os.environ.get("PERMISSION_MATRIX_DISCOVER"):
        clients = clients_for(world)
        for route in missing:
            seen = observe(route, {}, world, clients)
            get = " ".join(seen[r][0][0] for r in ROLES)
            post = " ".join(seen[r][1][0] for r in ROLES)
            print(f'    "{route.key}": ({{}}, "{get}", "{post}"),')
    assert not missing, "routes without a row in the permission matrix: " + ", ".join(r.key for r in missing)
    assert not stale, "rows for routes that no longer exist: " + ", ".join(stale)


# About 3,400 requests (every route, role and method): a sixth of the fast loop on its own, so it
# runs in `make test`; the coverage test above stays in the fast loop.
@pytest.mark.slow
def test_permission_matrix_http(world):
    clients = clients_for(world)
    failures = []
    for route in walk_routes():
        row = row_for(route)
        if row is None:
            continue  # reported by the coverage test
        spec, get_expected, post_expected = row
        methods = ("get",) if set(post_expected.split()) == {"-"} else ("get", "post")
        seen = observe(route, spec, world, clients, methods)
        for role, want_get, want_post in zip(ROLES, get_expected.split(), post_expected.split(), strict=True):
            (got_get, audited_get), (got_post, audited_post) = seen[role]
            if not matches(want_get, got_get, audited_get):
                failures.append(
                    f"GET  {route.key} as {role}: expected {want_get}, got {got_get}"
                    + (" and it wrote to the audit log" if audited_get else "")
                )
            if not matches(want_post, got_post, audited_post):
                failures.append(
                    f"POST {route.key} as {role}: expected {want_post}, got {got_post}"
                    + (" and it wrote to the audit log" if audited_post else "")
                )
    assert not failures, "permission matrix mismatches:\n" + "\n".join(failures)


# --- WebSocket message types ----------------------------------------------------------------------
# Answers per role on the members' endpoint of the committee sitting, then one for an anonymous
# socket on the public endpoint (傍聴):
#   C  cannot connect (refused before accept)      F  refused as forbidden
#   A  allowed past the permission check (an acknowledgement, a reply, or a refusal on the
#      merits such as "no document is presented")  U  unknown type on this endpoint

WS_TYPES: dict[str, str] = {
    # Answered by the consumer itself for any connected socket (not sent here: "-").
    "ping": "- - - - - - - - -",
    "state.request": "- - - - - - - - -",
    # Refused on the merits for everyone in this scene (no no-objection question is open; the
    # member is not checked in online; not waiting for the floor): the service decides.
    "agenda.list": "C C C A A A A A U",
    "agenda.move": "C C C F A F A A U",
    "attendance.all_present": "C C C F F F A A U",
    "attendance.checkin": "C C C A A F F F U",
    "attendance.checkout": "C C C A A A A A U",
    "attendance.mark": "C C C F F F A A U",
    "attendance.prepare": "C C C F F F A A U",
    "document.present": "C C C F A F A A U",
    "exclusion.add": "C C C F A F A A U",
    "exclusion.remove": "C C C F A F A A U",
    "floor.end": "C C C F A F A A U",
    "floor.give": "C C C F A F A A U",
    "floor.grant": "C C C F A F A A U",
    "floor.request": "C C C A A F F F U",
    "floor.skip": "C C C F A F A A U",
    "floor.withdraw": "C C C A A A A A U",
    "follow": "C C C A A A A A U",
    "motion.create": "C C C F A F A A U",
    "objection.raise": "C C C A A A A A U",
    "page.turn": "C C C F A F A A U",
    "presence.list": "C C C F A F A A U",
    "presenter.handover": "C C C F A F A A U",
    "presenter.reclaim": "C C C F A F A A U",
    "remote.apply": "C C C A A F F F U",
    "remote.check": "C C C F F F A A U",
    "remote.decide": "C C C F A F A A U",
    "remote.disconnect": "C C C F A F A A U",
    "sitting.close": "C C C F A F A A U",
    "sitting.open": "C C C F A F A A U",
    "sitting.recess": "C C C F A F A A U",
    "sitting.resume": "C C C F A F A A U",
    "suggestion.decide": "C C C F F F A A U",
    "vote.cast": "C C C A A F F F U",
    "vote.casting": "C C C F A F A A U",
    "vote.close": "C C C F A F A A U",
    "vote.counts": "C C C F A F A A U",
    "vote.declare": "C C C F A F A A U",
    "vote.open": "C C C F A F A A U",
}

# Values for message fields by name (objects of the world, or plain values); others come from
# the field's schema type.
WS_FIELDS = {
    "page": 2,
    "version_id": "version",
    "document_id": "document",
    "agenda_item_id": "item",
    "user_id": "member_user",
    "person_id": "person",
    "member_id": "person",
    "following": True,
    "reason": "test",
    "choice": "yes",
    "token": "tok-1",
    "method": "standing",
    "title": "動議",
    "status": "present",
    "approve": True,
    "accept": True,
    "passed": True,
    "yes": 1,
    "no": 0,
    "poll_id": "poll",
    "motion_id": "motion",
}
FORBIDDEN_CODES = {"forbidden", "not_member", "not_entitled"}
# Roles that can only be refused go first, so the open vote and the open sitting are still there
# for them; the roles that close things go last.
WS_ROLE_ORDER = ["anonymous", "public", "other_member", "official", "member", "admin", "clerk", "chair"]


def _value_for(name: str, schema: dict, world) -> Any:
    if name in WS_FIELDS:
        value = WS_FIELDS[name]
        return world["objects"].get(value, value) if isinstance(value, str) else value
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) else kind
    return {"integer": 1, "number": 1, "string": "x", "boolean": True, "array": [1, 2], "object": {}}.get(
        kind, 1
    )


def ws_message(entry, world) -> dict:
    schema = entry.validator.schema
    message = {"type": entry.type, "id": "m"}
    for name in schema.get("required", []):
        if name not in message:
            message[name] = _value_for(name, schema.get("properties", {}).get(name, {}), world)
    return message


def ws_answer(reply: dict | None, closed: bool) -> str:
    if closed:
        return "F"  # access revoked mid-socket: the consumer closes
    if reply is None:
        return "A"
    if reply.get("type") == "error":
        code = reply.get("code")
        return "F" if code in FORBIDDEN_CODES else "U" if code == "unknown_type" else "A"
    return "A"


def registered_ws_types() -> list:
    from meetings.live import protocol

    return [protocol.registered(name) for name in sorted(protocol._registry)]


def test_permission_matrix_covers_every_websocket_type():
    types = {entry.type for entry in registered_ws_types()}
    missing = sorted(types - set(WS_TYPES))
    stale = sorted(set(WS_TYPES) - types)
    assert not missing, "WebSocket types without a row in the permission matrix: " + ", ".join(missing)
    assert not stale, "rows for WebSocket types that no longer exist: " + ", ".join(stale)


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow  # a handshake for every role on every socket
async def test_permission_matrix_websocket(transactional_db, world):
    import json

    from asgiref.sync import sync_to_async
    from channels.layers import channel_layers

    from meetings.live import fanout
    from tests.security.ws import open_socket

    fanout.reset_hub()
    channel_layers.backends.clear()
    world["objects"]["member_user"] = world["users"]["member"].pk
    sitting = world["sitting"]

    def open_a_vote():
        """Before each role: the sitting open, everyone present, a roll-call vote open (the
        roles before may have closed the vote or the sitting)."""
        from meetings.models import Sitting
        from meetings.voting.models import Poll
        from tests.security.voting_scenario import open_roll_call, open_with_everyone_present

        Sitting.objects.filter(pk=sitting.pk).update(status=Sitting.Status.OPEN)
        if not world["objects"].get("poll"):
            members = [m.person for m in world["committee"].memberships.select_related("person__user")]
            open_with_everyone_present(sitting, members, world["users"]["clerk"])
        Poll.objects.filter(sitting=sitting, state=Poll.State.OPEN).update(state=Poll.State.CLOSED)
        poll = open_roll_call(
            item=sitting.agenda_items.first(),
            chair_user=world["users"]["chair"],
            title=f"動議 {uuid.uuid4().hex[:6]}",
        )
        world["objects"].update(poll=poll.pk, motion=poll.motion_id)

    path, public_path = f"/ws/sittings/{sitting.pk}/", f"/ws/public/sittings/{sitting.pk}/"
    # Casting first, closing last, so each role meets an open vote and an open sitting.
    last = ("vote.close", "vote.counts", "vote.declare", "vote.casting", "sitting.recess", "sitting.close")
    entries = sorted(
        (e for e in registered_ws_types() if e.type not in ("ping", "state.request")),
        key=lambda e: (e.type != "vote.cast", e.type in last, e.type),
    )
    seen: dict[str, dict[str, str]] = {e.type: {} for e in entries}

    async def answer(comm, message) -> str:
        await comm.send_to(text_data=json.dumps(message))
        while True:
            try:
                output = await comm.receive_output(timeout=5)
            except TimeoutError:
                return ws_answer(None, False)
            if output["type"] == "websocket.close":
                return ws_answer(None, True)
            data = json.loads(output["text"])
            if data.get("re") == "m" or data.get("type") == "error":
                if os.environ.get("PERMISSION_MATRIX_DISCOVER"):
                    print("   ", message["type"], data)
                return ws_answer(data, False)
            # an event broadcast to everyone (e.g. the sitting opened): keep reading

    for role in WS_ROLE_ORDER:
        await sync_to_async(open_a_vote)()
        user = world["users"][role]
        comm = await open_socket(path, user)
        for entry in entries:
            if not comm.accepted:
                seen[entry.type][role] = "C"
                continue
            seen[entry.type][role] = await answer(comm, await sync_to_async(ws_message)(entry, world))
        if comm.accepted:
            await comm.disconnect()
    public = await open_socket(public_path)
    for entry in entries:
        seen[entry.type]["pub"] = (
            await answer(public, await sync_to_async(ws_message)(entry, world)) if public.accepted else "C"
        )
    if public.accepted:
        await public.disconnect()
    fanout.reset_hub()

    if os.environ.get("PERMISSION_MATRIX_DISCOVER"):
        for entry in entries:
            print(f'    "{entry.type}": "{" ".join(seen[entry.type][r] for r in [*ROLES, "pub"])}",')
    failures = []
    for entry in entries:
        expected = WS_TYPES.get(entry.type, "").split()
        got = [seen[entry.type][r] for r in [*ROLES, "pub"]]
        for who, want, have in zip([*ROLES, "pub"], expected, got, strict=True):
            if want != "-" and have not in want:
                failures.append(f"{entry.type} as {who}: expected {want}, got {have}")
    assert not failures, "WebSocket permission matrix mismatches:\n" + "\n".join(failures)


# --- What listings and searches show ----------------------------------------------------------------
# Pages every role may open must still not show what the role may not see: the committee's
# members-only document appears only for those who may read it.

LISTINGS = [
    "/documents/",
    "/documents/search/?q=Council",
    "/documents/search.json?q=Council",  # text of its page
    "/documents/search/?q=委員会",
    "/documents/annotations/api/notes/search/?q=Council",
]
SEES_COMMITTEE_DOCUMENT = {"member", "chair", "official", "clerk", "admin"}


def test_permission_matrix_listings_show_only_what_the_role_may_see(world):
    clients = clients_for(world)
    title = world["document"].title
    failures = []
    found_by_member = []
    for url in LISTINGS:
        for role in ROLES:
            response = clients[role].get(url)
            if response.status_code != 200:
                continue  # refused outright: nothing shown
            shown = title in response.content.decode()
            if shown and role not in SEES_COMMITTEE_DOCUMENT:
                failures.append(f"{url} shows the members-only document to {role}")
            if shown and role == "member":
                found_by_member.append(url)
    assert not failures, "\n".join(failures)
    assert "/documents/search/?q=Council" in found_by_member, "the search does find it for a member"
