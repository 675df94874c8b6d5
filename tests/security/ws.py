"""Helpers for WebSocket tests through the full ASGI stack (origin check, session auth, routing)."""

from __future__ import annotations

import asyncio
import json

from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings

from bench.support.scenario import make_document, session_key_for  # noqa: F401 (shared with the benchmarks)


async def open_socket(
    path: str, user=None, *, origin: str | None = "http://testserver", session_key: str | None = None
) -> WebsocketCommunicator:
    from council.asgi import application

    headers = [(b"host", b"testserver")]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    if user is not None and session_key is None:
        session_key = await sync_to_async(session_key_for)(user)
    if session_key:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_key}".encode()))
    comm = WebsocketCommunicator(application, path, headers=headers)
    comm.accepted, comm.close_code = await comm.connect(timeout=5)
    comm.state = None
    if comm.accepted:
        comm.state = await receive(comm)
    return comm


async def receive(comm, timeout: float = 3) -> dict:
    return json.loads(await comm.receive_from(timeout=timeout))


async def send(comm, message) -> None:
    await comm.send_to(text_data=message if isinstance(message, str) else json.dumps(message))


async def receive_until(comm, type_: str, timeout: float = 3) -> dict:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        left = deadline - loop.time()
        if left <= 0:
            raise AssertionError(f"no {type_} message within {timeout}s")
        message = await receive(comm, timeout=left)
        if message["type"] == type_:
            return message


async def wait_closed(comm, timeout: float = 5) -> int | None:
    """Read until the server closes the socket; return the close code."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        left = deadline - loop.time()
        if left <= 0:
            raise AssertionError(f"socket still open after {timeout}s")
        output = await comm.receive_output(timeout=left)
        if output["type"] == "websocket.close":
            return output.get("code")
