"""Flow control under daphne: a slow client does not make the server buffer the file."""

import asyncio
import functools
import socket
import time

import pytest

from documents.backpressure import SendBackpressure


def run(coroutine):
    """asyncio.run in a thread of its own: Playwright's sync API may own this thread's loop."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


class FakeTransport:
    def __init__(self):
        self.dataBuffer = b""
        self.offset = 0
        self._tempDataLen = 0
        self.disconnected = False


class FakeRequest:
    def __init__(self):
        self.finished = False
        self.channel = type("Channel", (), {"transport": FakeTransport()})()


def test_waits_while_the_client_is_behind():
    request = FakeRequest()
    sent = []

    def handle_reply(protocol, message):
        sent.append(message)
        if message["type"] == "http.response.body":
            protocol.channel.transport._tempDataLen += len(message["body"])

    async def daphne_send(protocol, message):
        handle_reply(protocol, message)

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for _ in range(3):
            await send({"type": "http.response.body", "body": b"x" * 600_000, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def drain_later():
        await asyncio.sleep(0.05)
        assert len(sent) == 3  # start + two chunks: the second passed the high-water mark, so it waits
        request.channel.transport._tempDataLen = 0

    async def main():
        wrapped = SendBackpressure(app, high_water=1_000_000)
        await asyncio.gather(
            wrapped({"type": "http"}, None, functools.partial(daphne_send, request)), drain_later()
        )

    run(main())
    assert len(sent) == 5


def test_stops_waiting_when_the_client_is_gone():
    request = FakeRequest()

    async def daphne_send(protocol, message):
        protocol.channel.transport._tempDataLen += len(message.get("body", b""))

    async def app(scope, receive, send):
        await send({"type": "http.response.body", "body": b"x" * 2_000_000, "more_body": True})

    async def disconnect():
        await asyncio.sleep(0.02)
        request.finished = True

    async def main():
        await asyncio.gather(
            SendBackpressure(app)({"type": "http"}, None, functools.partial(daphne_send, request)),
            disconnect(),
        )

    run(asyncio.wait_for(main(), 2))


def test_passes_through_other_servers():
    calls = []

    async def app(scope, receive, send):
        await send({"type": "http.response.body", "body": b"x" * 5_000_000, "more_body": True})

    async def send(message):
        calls.append(message)

    run(SendBackpressure(app)({"type": "http"}, None, send))
    assert len(calls) == 1


@pytest.mark.slow
def test_slow_client_against_daphne(daphne_server, pdf_files, settings):
    """A client reading 1 MB/s from a 40 MB file: daphne's memory stays flat."""
    import psutil

    from tests import factories
    from tests.documents.helpers import upload
    from tests.documents.test_reader_browser import login_cookie

    org = factories.make_small_council()
    document = upload(org, pdf_files["base"])
    version = document.current_version
    path = settings.MEDIA_ROOT / version.served_file.name
    with open(path, "ab") as f:  # make the served file big (bytes after %%EOF are ignored by readers)
        f.write(b"\0" * 40 * 1024 * 1024)
    type(version).objects.filter(pk=version.pk).update(size=path.stat().st_size)
    cookie = login_cookie(org["members"][3].user, daphne_server)
    process = psutil.Process(daphne_server.proc.pid)
    sock = socket.create_connection(("127.0.0.1", daphne_server.port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
    sock.sendall(
        f"GET /documents/versions/{version.pk}/file HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Cookie: {cookie['name']}={cookie['value']}\r\n\r\n".encode()
    )
    first = sock.recv(65536)
    assert b"200 OK" in first
    baseline = process.memory_info().rss
    received, started, peak = len(first), time.monotonic(), 0
    while time.monotonic() - started < 3:
        received += len(sock.recv(65536))
        time.sleep(0.05)
        peak = max(peak, process.memory_info().rss)
    sock.close()
    assert received < 10 * 1024 * 1024
    assert (peak - baseline) < 15 * 1024 * 1024, (peak - baseline) / 1024 / 1024
