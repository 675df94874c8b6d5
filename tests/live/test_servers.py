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
from tests.servers import start_daphne

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture
def scene(org):
    Sitting.objects.filter(pk=org["sitting"].pk).update(status=Sitting.Status.OPEN, opened_at=timezone.now())
    item = factories.make_agenda_item(org["sitting"])
    doc = make_document(org, agenda_item=item, pages=30)
    return dict(org, item=item, doc=doc, clerk_cookie=_session_cookie(org["clerk"].user),
                member_cookies=[_session_cookie(m.user) for m in org["members"][1:5]])


def urls(servers, sitting_id):
    return [f"{s.ws_url}/ws/sittings/{sitting_id}/" for s in servers]


class Watch:
    """A follower that records the presented page it currently shows."""

    def __init__(self, urls_, cookie):
        self.page = None
        self.states = 0
        self.follower = Follower(urls_, headers={"Cookie": f"sessionid={cookie}"}, on_state=self.on_state,
                                 on_event=self.on_event)
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
    p = Follower(urls(servers, scene["sitting"].pk)[index:index + 1],
                 headers={"Cookie": f"sessionid={scene['clerk_cookie']}"}, reconnect=False)
    p.task = asyncio.create_task(p.run())
    await asyncio.wait_for(p.connected.wait(), 10)
    return p


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
        await wait_for(lambda: p.state and (p.state.get("presentation") or {}).get("page") == 12, 5, "page 12")
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
