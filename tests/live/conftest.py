"""Live-session test helpers: sockets through the real ASGI stack, documents without files."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.utils import timezone

from documents.models import Document, DocumentVersion
from meetings.live import fanout
from meetings.models import Sitting
from tests import factories


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Hashing a dozen demo passwords dominates these tests otherwise."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_hub_and_layer():
    """Each test runs on its own event loop: give it a fresh hub and in-memory layer."""
    from meetings.live.state import clear_state_cache

    fanout.reset_hub()
    channel_layers.backends.clear()
    clear_state_cache()
    yield
    fanout.reset_hub()
    channel_layers.backends.clear()
    # Consumers query from asgiref's single worker thread; close its connection so the test
    # database can be flushed and dropped (PostgreSQL refuses while a session is open).
    from asgiref.sync import SyncToAsync
    from django.db import connections

    SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=10)
    from meetings.live import handshake

    handshake.close_connections()  # and the handshake threads' (meetings.live.handshake)


def make_document(
    org,
    *,
    title="議案第45号 町税条例の一部改正について",
    pages=12,
    visibility=Document.Visibility.MEMBERS,
    body=None,
    released=True,
    agenda_item=None,
) -> Document:
    doc = Document.objects.create(
        council=org["council"],
        body=body or org["plenary"],
        title=title,
        visibility=visibility,
        release_state=Document.Release.RELEASED if released else Document.Release.DRAFT,
        released_at=timezone.now() if released else None,
    )
    add_version(doc, pages=pages)
    if agenda_item is not None:
        from meetings.models import AgendaItemDocument

        AgendaItemDocument.objects.create(agenda_item=agenda_item, document=doc)
    return doc


def add_version(doc: Document, *, pages: int) -> DocumentVersion:
    number = doc.versions.count() + 1
    return DocumentVersion.objects.create(
        document=doc,
        number=number,
        served_file=f"documents/served/x{doc.pk}-{number}.pdf",
        original_file=f"documents/original/x{doc.pk}-{number}.pdf",
        original_name="x.pdf",
        original_sha256="0" * 64,
        served_sha256="0" * 64,
        size=1000,
        page_count=pages,
    )


@pytest.fixture
def scene(org):
    """An open public sitting whose one agenda item has a 200-page members' document (``doc``), and
    the paths of its members' and public sockets (``path``, ``public_path``). A module with a scene
    of its own overrides this one."""
    sitting = org["sitting"]
    sitting.status = Sitting.Status.OPEN
    sitting.is_public = True
    sitting.save()
    item = factories.make_agenda_item(sitting)
    org.update(
        doc=make_document(org, agenda_item=item, pages=200),
        path=f"/ws/sittings/{sitting.pk}/",
        public_path=f"/ws/public/sittings/{sitting.pk}/",
    )
    return org


def _session_cookie(user) -> str:
    from importlib import import_module

    engine = import_module(settings.SESSION_ENGINE)
    session = engine.SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return session.session_key


async def connect(
    path: str, user=None, *, lang: str = "ja", origin: str = "http://testserver", expect_state: bool = True
):
    """Open a socket through the full ASGI stack (origin check, session auth, routing)."""
    from council.asgi import application

    headers = [(b"origin", origin.encode()), (b"host", b"testserver")]
    cookies = [f"{settings.LANGUAGE_COOKIE_NAME}={lang}"]
    if user is not None:
        key = await sync_to_async(_session_cookie)(user)
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={key}")
    headers.append((b"cookie", "; ".join(cookies).encode()))
    comm = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await comm.connect(timeout=5)
    comm.accepted, comm.close_code = connected, code
    comm.state = None
    if connected and expect_state:
        comm.state = await receive(comm)
        assert comm.state["type"] == "state"
    return comm


async def receive(comm, timeout: float = 3) -> dict:
    return json.loads(await comm.receive_from(timeout=timeout))


async def send(comm, message: dict) -> None:
    await comm.send_to(text_data=json.dumps(message))


async def receive_until(comm, type_: str, timeout: float = 3) -> dict:
    """Skip other messages until one of ``type_`` arrives."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            raise AssertionError(f"no {type_} message within {timeout}s")
        message = await receive(comm, timeout=left)
        if message["type"] == type_:
            return message


async def nothing_more(comm, timeout: float = 0.3) -> bool:
    return await comm.receive_nothing(timeout=timeout)
