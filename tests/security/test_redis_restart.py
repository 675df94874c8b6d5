"""Redis restarted during a sitting (a private redis-server, so other test runs are not touched):
live updates resume and every client converges to the current page; votes cast while Redis is
down keep their integrity, because the database decides, not Redis."""

from __future__ import annotations

import asyncio
import shutil
import time

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from bench.client import Follower
from meetings.models import Sitting
from meetings.voting.models import Ballot, Poll
from meetings.voting.verify import recount
from tests import factories
from tests.security.voting_scenario import open_roll_call, open_with_everyone_present
from tests.security.ws import make_document, session_key_for
from tests.servers import PrivateRedis, start_daphne

pytestmark = [
    pytest.mark.slow,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs the redis-server program"),
]


@pytest.fixture(autouse=True)
def _close_worker_connections():
    """The test's ORM calls run in asgiref's worker thread; close its connection so the test
    database can be dropped (PostgreSQL refuses while a session is open)."""
    yield
    from asgiref.sync import SyncToAsync
    from django.db import connections

    SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=10)


class Tablet:
    def __init__(self, urls, cookie, prefer):
        self.page = None
        self.receipt = None
        self.follower = Follower(
            urls, headers={"Cookie": f"sessionid={cookie}"}, on_state=self.on_state, on_event=self.on_event
        )
        self.follower.url_index = prefer
        self.task = asyncio.create_task(self.follower.run())

    def on_state(self, state):
        self.page = (state.get("presentation") or {}).get("page")

    def on_event(self, message):
        presentation = (message.get("payload") or {}).get("presentation")
        if presentation:
            self.page = presentation["page"]
        if message.get("type") == "vote.receipt":
            self.receipt = message

    async def close(self):
        await self.follower.close()
        self.task.cancel()


async def wait_for(predicate, timeout: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _scene():
    org = factories.make_small_council()
    sitting = org["sitting"]
    open_with_everyone_present(sitting, org["members"], org["clerk"].user)
    Sitting.objects.filter(pk=sitting.pk).update(opened_at=timezone.now())
    item = factories.make_agenda_item(sitting)
    doc = make_document(org, agenda_item=item, pages=50)
    poll = open_roll_call(item=item, chair_user=org["members"][0].user)
    return dict(
        org=org,
        sitting=sitting,
        doc=doc,
        poll=poll,
        clerk=session_key_for(org["clerk"].user),
        members=[(m, session_key_for(m.user)) for m in org["members"][1:7]],
    )


async def test_redis_restart_live_updates_resume_and_votes_keep_integrity():
    scene = await sync_to_async(_scene)()
    redis = PrivateRedis().start()
    servers = [await sync_to_async(start_daphne)(REDIS_URL=redis.url) for _ in range(2)]
    tablets: list[Tablet] = []
    try:
        urls = [f"{s.ws_url}/ws/sittings/{scene['sitting'].pk}/" for s in servers]
        tablets = [Tablet(urls, cookie, i % 2) for i, (_m, cookie) in enumerate(scene["members"])]
        presenter = Follower(urls[1:], headers={"Cookie": f"sessionid={scene['clerk']}"}, reconnect=True)
        presenter_task = asyncio.create_task(presenter.run())
        await asyncio.wait_for(
            asyncio.gather(*(t.follower.connected.wait() for t in tablets), presenter.connected.wait()), 20
        )
        await presenter.send({"type": "document.present", "document_id": scene["doc"].pk, "page": 2})
        await wait_for(
            lambda: all(t.page == 2 for t in tablets), 10, "page 2 on both processes through Redis"
        )

        redis.stop()
        # While Redis is down: a page turn (stored, not fanned out across processes) and ballots.
        await presenter.send({"type": "page.turn", "page": 3})
        for n, tablet in enumerate(tablets):
            await tablet.follower.send(
                {
                    "type": "vote.cast",
                    "poll_id": scene["poll"].pk,
                    "choice": "yes",
                    "token": f"outage-{n}",
                    "id": f"outage-{n}",
                }
            )
        await wait_for(lambda: all(t.receipt for t in tablets), 15, "receipts while Redis is down")

        redis.start()
        restarted = time.monotonic()
        await asyncio.sleep(0.5)
        # Published right after the restart, possibly before a hub has joined its groups again: the
        # hubs then bring every socket to the current state (page 4), on both processes.
        await presenter.send({"type": "page.turn", "page": 4})
        await wait_for(
            lambda: all(t.page == 4 for t in tablets), 30, "every tablet on page 4 after the restart"
        )
        print(f"converged {time.monotonic() - restarted:.1f}s after the Redis restart")
        # And live updates flow through Redis again, across both processes.
        await presenter.send({"type": "page.turn", "page": 5})
        await wait_for(
            lambda: all(t.page == 5 for t in tablets), 10, "page 5 on both processes through Redis"
        )
        await presenter.close()
        presenter_task.cancel()
    finally:
        for t in tablets:
            await t.close()
        for s in servers:
            s.stop()
        redis.stop()

    def check():
        from meetings.voting.services import polls

        acknowledged = {t.receipt["poll"] for t in tablets}
        assert acknowledged == {scene["poll"].pk}
        assert Ballot.objects.filter(poll_id=scene["poll"].pk).count() == len(tablets)
        closed = polls.poll_close(
            poll=Poll.objects.get(pk=scene["poll"].pk), by=scene["org"]["members"][0].user
        )
        assert closed.yes_count == len(tablets)
        assert recount(closed).ok

    await sync_to_async(check)()
