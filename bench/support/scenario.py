"""A sitting ready to run, for the benchmarks and the tests: everyone present, a document to
present, and session keys to connect with (no password hashing, no sign-in round trips)."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.utils import timezone

from bench.support import factories
from documents.models import Document, DocumentVersion
from meetings.attendance.models import Attendance
from meetings.live.models import LiveState
from meetings.models import Sitting
from meetings.voting.services import roll


def session_key_for(user) -> str:
    """A signed-in session of ``user``, as the sign-in page would leave it; its key."""
    engine = import_module(settings.SESSION_ENGINE)
    session = engine.SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return session.session_key


def make_document(
    org, *, pages: int = 12, agenda_item=None, visibility: str = Document.Visibility.MEMBERS
) -> Document:
    """A released document (members' unless ``visibility`` says otherwise) with one version (no
    file: live state only needs the metadata)."""
    doc = Document.objects.create(
        council=org["council"],
        body=org["plenary"],
        title="議案第45号 町税条例の一部改正について",
        visibility=visibility,
        release_state=Document.Release.RELEASED,
        released_at=timezone.now(),
    )
    DocumentVersion.objects.create(
        document=doc,
        number=1,
        served_file=f"documents/served/x{doc.pk}.pdf",
        original_file=f"documents/original/x{doc.pk}.pdf",
        original_name="x.pdf",
        original_sha256="0" * 64,
        served_sha256="0" * 64,
        size=1000,
        page_count=pages,
    )
    if agenda_item is not None:
        from meetings.models import AgendaItemDocument

        AgendaItemDocument.objects.create(agenda_item=agenda_item, document=doc)
    return doc


def open_with_everyone_present(sitting: Sitting, people, clerk_user) -> Sitting:
    Sitting.objects.filter(pk=sitting.pk).update(status=Sitting.Status.OPEN)
    sitting.refresh_from_db()
    for person in people:
        roll.attendance_mark(
            sitting=sitting, person=person, status=Attendance.Status.PRESENT_ROOM, by=clerk_user
        )
    return sitting


def presenting_sitting(*, councillors: int, pages: int = 60) -> dict:
    """The live benchmarks' scene: a small council (``factories.make_small_council``) whose sitting
    is open and presents page 1 of a released public document of ``pages`` pages, so members and the
    public (傍聴) alike can follow it. The council's dict, with ``item``, ``document`` and
    ``version`` added."""
    org = factories.make_small_council(councillors=councillors)
    sitting = org["sitting"]
    Sitting.objects.filter(pk=sitting.pk).update(status=Sitting.Status.OPEN, opened_at=timezone.now())
    item = factories.make_agenda_item(sitting)
    doc = make_document(org, pages=pages, agenda_item=item, visibility=Document.Visibility.PUBLIC)
    version = doc.versions.get()
    LiveState.objects.update_or_create(
        sitting=sitting, defaults=dict(agenda_item=item, document=doc, version=version, page=1)
    )
    return {**org, "item": item, "document": doc, "version": version}
