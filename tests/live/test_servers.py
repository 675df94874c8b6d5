"""Real daphne processes: failover after kill -9, state across restarts, scale-out through Redis.

Followers are ``bench.client.Follower`` (the command-line client), which reconnects with backoff
and jitter to the next server in its list and resyncs from the full state.
"""

from __future__ import annotations

import asyncio
import os
import time

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from bench.client import Follower
from meetings.live.models import LiveState
from meetings.models import Sitting
from tests import factories
from tests.live.conftest import _session_cookie, make_document
from tests.servers import ROOT, start_daphne

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture
def scene(org):
    Sitting.objects.filter(pk=org["sitting"].pk).update(status=Sitting.Status.OPEN, opened_at=timezone.now())
    item = factories.make_agenda_item(org["sitting"])
    doc = make_document(org, agenda_item=item, pages=30)
    return dict(
        org,
        item=item,
        doc=doc,
        clerk_cookie=_session_cookie(org["clerk"].user),
        chair_cookie=_session_cookie(org["members"][0].user),
        member_cookies=[_session_cookie(m.user) for m in org["members"][1:5]],
    )


def urls(servers, sitting_id):
    return [f"{s.ws_url}/ws/sittings/{sitting_id}/" for s in servers]


class Watch:
    """A follower that records the presented page it currently shows."""

    def __init__(self, urls_, cookie):
        self.page = None
        self.states = 0
        self.follower = Follower(
            urls_, headers={"Cookie": f"sessionid={cookie}"}, on_state=self.on_state, on_event=self.on_event
        )
        self.follower.url_index = 0
        self.task = asyncio.create_task(self.follower.run())

    def on_state(self, state):
        self.states += 1
        self.page = (state.get("presentation") or {}).get("page")

    def on_event(self, message):
        presentation = (message.get("payload") or {}).get("presentation")
        if presentation:
            self.page = presentation["page"]

    async def close(self):
        await self.follower.close()
        self.task.cancel()


async def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return time.monotonic()
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


async def presenter(servers, scene, index=0) -> Follower:
    p = Follower(
        urls(servers, scene["sitting"].pk)[index : index + 1],
        headers={"Cookie": f"sessionid={scene['clerk_cookie']}"},
        reconnect=False,
    )
    p.task = asyncio.create_task(p.run())
    await asyncio.wait_for(p.connected.wait(), 10)
    return p


@pytest.mark.skipif(
    bool(os.environ.get("REDIS_URL")), reason="the Redis pass runs the Redis variant of this test"
)
async def test_kill_9_followers_reconnect_elsewhere_and_land_on_the_current_page(scene):
    servers = [await sync_to_async(start_daphne)() for _ in range(2)]
    try:
        sid = scene["sitting"].pk
        # Followers prefer server 0 and fall back to server 1.
        watchers = [Watch(urls(servers, sid), cookie) for cookie in scene["member_cookies"]]
        await wait_for(lambda: all(w.states for w in watchers), 15, "followers connected")
        p = await presenter(servers, scene, index=1)
        await p.send({"type": "document.present", "document_id": scene["doc"].pk, "page": 7})
        # Without Redis the processes do not share events: page 7 reaches server 0's followers
        # only through the database after they move. That is exactly the failover path.
        servers[0].kill()
        killed_at = time.monotonic()
        await wait_for(lambda: all(w.page == 7 for w in watchers), 10, "followers on page 7 after kill -9")
        assert time.monotonic() - killed_at < 5.0
        # Now on server 1 they follow live again.
        await p.send({"type": "page.turn", "page": 8})
        await wait_for(lambda: all(w.page == 8 for w in watchers), 5, "page 8 on the surviving server")
        for w in watchers:
            await w.close()
        await p.close()
    finally:
        for s in servers:
            s.stop()


async def test_state_survives_a_restart_of_every_process(scene):
    server = await sync_to_async(start_daphne)()
    try:
        p = await presenter([server], scene)
        await p.send({"type": "document.present", "document_id": scene["doc"].pk, "page": 12})
        await wait_for(
            lambda: p.state and (p.state.get("presentation") or {}).get("page") == 12, 5, "page 12"
        )
        await p.close()
    finally:
        server.stop()
    live = await sync_to_async(LiveState.objects.get)(sitting=scene["sitting"])
    again = await sync_to_async(start_daphne)()
    try:
        w = Watch(urls([again], scene["sitting"].pk), scene["member_cookies"][0])
        await wait_for(lambda: w.states, 15, "state after restart")
        assert w.page == 12
        assert w.follower.seqs["members"] == live.seq  # the counters survive too
        await w.close()
        # The command-line follower (python -m bench.client) sees the same through the public endpoint.
        import json
        import subprocess
        import sys

        out = await sync_to_async(subprocess.run)(
            [
                sys.executable,
                "-m",
                "bench.client",
                "--server",
                again.url,
                "--sitting",
                str(scene["sitting"].pk),
                "--public",
                "--once",
            ],
            capture_output=True,
            text=True,
            timeout=30,
            cwd=str(ROOT),
        )
        first = json.loads(out.stdout.splitlines()[0])
        assert first["kind"] == "state" and first["state"]["status"] == "open"
        assert first["state"]["stream"] == "public" and first["state"]["seq"] == live.public_seq
    finally:
        again.stop()


@pytest.mark.redis
async def test_two_daphne_processes_share_page_turns_through_redis_even_after_idling(scene):
    assert os.environ.get("REDIS_URL")
    servers = [await sync_to_async(start_daphne)() for _ in range(2)]
    try:
        sid = scene["sitting"].pk
        on_a = Watch(urls(servers, sid)[:1], scene["member_cookies"][0])
        on_b = [Watch(urls(servers, sid)[1:], cookie) for cookie in scene["member_cookies"][1:]]
        await wait_for(lambda: on_a.states and all(w.states for w in on_b), 15, "followers connected")
        p = await presenter(servers, scene, index=0)
        await p.send({"type": "document.present", "document_id": scene["doc"].pk, "page": 3})
        await wait_for(lambda: all(w.page == 3 for w in [on_a, *on_b]), 5, "page 3 on both processes")
        # Longer than redis-py's default 5 s socket timeout: idle receivers must survive it.
        await asyncio.sleep(7)
        sent = time.monotonic()
        await p.send({"type": "page.turn", "page": 4})
        await wait_for(lambda: all(w.page == 4 for w in [on_a, *on_b]), 5, "page 4 after idling")
        assert time.monotonic() - sent < 2
        # No follower had to resync: each stream stayed gap-free across processes.
        assert all(w.states == 1 for w in [on_a, *on_b])
        for w in [on_a, *on_b]:
            await w.close()
        await p.close()
        logs = "".join(s.log.read_text(errors="replace") for s in servers)
        assert "Traceback" not in logs, logs[-3000:]
    finally:
        for s in servers:
            s.stop()


@pytest.mark.redis
async def test_kill_9_with_redis_followers_move_and_keep_following_live(scene):
    servers = [await sync_to_async(start_daphne)() for _ in range(2)]
    try:
        sid = scene["sitting"].pk
        watchers = [Watch(urls(servers, sid), cookie) for cookie in scene["member_cookies"]]
        await wait_for(lambda: all(w.states for w in watchers), 15, "followers connected")
        p = await presenter(servers, scene, index=1)
        await p.send({"type": "document.present", "document_id": scene["doc"].pk, "page": 5})
        await wait_for(lambda: all(w.page == 5 for w in watchers), 5, "page 5 through Redis")
        servers[0].kill()
        await p.send({"type": "page.turn", "page": 6})  # while they are reconnecting
        killed_at = time.monotonic()
        await wait_for(lambda: all(w.page == 6 for w in watchers), 5, "page 6 after kill -9")
        assert time.monotonic() - killed_at < 5.0
        for w in watchers:
            await w.close()
        await p.close()
    finally:
        for s in servers:
            s.stop()


async def test_a_reader_that_stops_reading_is_closed_without_slowing_the_others(scene):
    import base64
    import socket

    server = await sync_to_async(start_daphne)(COUNCIL_LIVE_MAX_BUFFER="8192", COUNCIL_LIVE_SNDBUF="16384")
    long_title = "町税条例の一部を改正する条例について(説明資料)" * 12  # about 1 KB per event
    doc = await sync_to_async(make_document)(
        scene, title=long_title[:300], agenda_item=scene["item"], pages=60
    )
    try:
        sid = scene["sitting"].pk
        # A tablet that stops reading: tiny receive buffer, handshake done, then never reads.
        stalled = socket.socket()
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
        stalled.connect(("127.0.0.1", server.port))
        key = base64.b64encode(os.urandom(16)).decode()
        stalled.sendall(
            (
                f"GET /ws/sittings/{sid}/ HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                f"Origin: http://127.0.0.1:{server.port}\r\nCookie: sessionid={scene['member_cookies'][1]}\r\n\r\n"
            ).encode()
        )
        assert b"101" in stalled.recv(200)
        # It asks for the full state again and again (a few KB each) and never reads the answers,
        # filling the kernel's buffers; the page turns below then find it stalled.
        for _ in range(40):
            stalled.sendall(masked_text_frame('{"type":"state.request"}'))
        healthy = Watch(urls([server], sid), scene["member_cookies"][0])
        await wait_for(lambda: healthy.states, 10, "healthy follower connected")
        lags = []
        # Several presenter sockets, so the page turns stay under each socket's flood limit.
        presenters = [await presenter([server], scene) for _ in range(6)]
        await presenters[0].send({"type": "document.present", "document_id": doc.pk, "page": 1})
        await wait_for(lambda: healthy.page == 1, 5, "presented")
        page = 1
        for turn in range(80):
            page = 2 + turn % 50 if page != 2 + turn % 50 else 3 + turn % 50
            sent = time.monotonic()
            await presenters[turn % len(presenters)].send({"type": "page.turn", "page": page})
            await wait_for(lambda p=page: healthy.page == p, 5, f"page {page} on the healthy tablet")
            lags.append(time.monotonic() - sent)
        # The stalled socket was dropped by the server (reading now finds the end of the stream).
        stalled.settimeout(5)
        received = 0
        while True:
            try:
                chunk = stalled.recv(65536)
            except ConnectionResetError:  # aborted by the server: what we want
                break
            except TimeoutError:
                raise AssertionError(f"still open after {received} bytes") from None
            if not chunk:
                break
            received += len(chunk)
        assert received < 100 * 1024  # far less than the ~200 KB it was sent
        assert max(lags) < 1.0, max(lags)
        await healthy.close()
        for p in presenters:
            await p.close()
    finally:
        server.stop()


def masked_text_frame(text: str) -> bytes:
    """A client-to-server WebSocket text frame (clients must mask, RFC 6455 §5.3)."""
    payload = text.encode()
    mask = os.urandom(4)
    assert len(payload) < 126
    return bytes([0x81, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
