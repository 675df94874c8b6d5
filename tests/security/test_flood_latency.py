"""A flooding client beside normal followers on a real daphne process: the flooder gets one error,
is disconnected (4429) and its reconnects are refused, and the others' page-turn latency does not
change (measured here)."""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.utils import timezone

from bench.client import Follower
from meetings.models import Sitting
from tests import factories
from tests.security.ws import make_document, session_key_for
from tests.servers import ROOT, start_daphne

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TURNS = 25
GAP_S = 0.08


def _scene():
    org = factories.make_small_council()
    Sitting.objects.filter(pk=org["sitting"].pk).update(status=Sitting.Status.OPEN, opened_at=timezone.now())
    item = factories.make_agenda_item(org["sitting"])
    doc = make_document(org, agenda_item=item, pages=200)
    return dict(
        org,
        doc=doc,
        clerk=session_key_for(org["clerk"].user),
        members=[session_key_for(m.user) for m in org["members"][1:7]],
        flooder=session_key_for(org["members"][8].user),
    )


def start_flooder(url: str, cookie: str, seconds: float) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.security.flooder", url, cookie, str(seconds)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )


async def measure(
    presenter: Follower, followers: list[Follower], received: dict, start_page: int
) -> list[float]:
    sent_at: dict[int, float] = {}
    for n in range(TURNS):
        page = start_page + n
        sent_at[page] = time.monotonic()
        await presenter.send({"type": "page.turn", "page": page})
        await asyncio.sleep(GAP_S)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not all(
        all(p in received[id(f)] for p in sent_at) for f in followers
    ):
        await asyncio.sleep(0.05)
    latencies = []
    for f in followers:
        for page, at in sent_at.items():
            assert page in received[id(f)], f"a follower missed page {page}"
            latencies.append(received[id(f)][page] - at)
    return latencies


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1]


async def test_flooding_client_does_not_slow_the_others_page_turns():
    scene = await sync_to_async(_scene)()
    server = await sync_to_async(start_daphne)()
    url = f"{server.ws_url}/ws/sittings/{scene['sitting'].pk}/"
    received: dict[int, dict[int, float]] = {}
    followers: list[Follower] = []
    tasks = []
    flooder = None

    def recorder(follower_id):
        def on_event(message):
            presentation = (message.get("payload") or {}).get("presentation")
            if presentation:
                received[follower_id].setdefault(presentation["page"], time.monotonic())

        return on_event

    try:
        for cookie in scene["members"]:
            f = Follower([url], headers={"Cookie": f"sessionid={cookie}"})
            received[id(f)] = {}
            f.on_event = recorder(id(f))
            followers.append(f)
            tasks.append(asyncio.create_task(f.run()))
        presenter = Follower([url], headers={"Cookie": f"sessionid={scene['clerk']}"}, reconnect=False)
        tasks.append(asyncio.create_task(presenter.run()))
        await asyncio.wait_for(asyncio.gather(*(f.connected.wait() for f in [*followers, presenter])), 20)
        await presenter.send({"type": "document.present", "document_id": scene["doc"].pk, "page": 1})
        await asyncio.sleep(0.5)

        baseline = await measure(presenter, followers, received, start_page=2)
        flooder = start_flooder(url, scene["flooder"], seconds=1.5 + TURNS * GAP_S + 1.5)
        await asyncio.sleep(1.5)  # the flood is in full swing
        flooded = await measure(presenter, followers, received, start_page=2 + TURNS)
        stats = json.loads(
            (await asyncio.to_thread(flooder.communicate, timeout=60))[0].strip().splitlines()[-1]
        )
    finally:
        if flooder and flooder.poll() is None:
            flooder.kill()
        for f in followers:
            await f.close()
        for t in tasks:
            t.cancel()
        server.stop()
        # The scene was built in asgiref's worker thread: close its connection so PostgreSQL lets the
        # test database be dropped.
        await sync_to_async(connections.close_all)()

    base_p90, flood_p90 = p90(baseline), p90(flooded)
    print(
        f"page-turn latency p90: {base_p90 * 1000:.1f} ms alone, {flood_p90 * 1000:.1f} ms beside a flooder "
        f"({stats['sent']} messages sent, {stats['errors']} errors, {stats['disconnects']} disconnects "
        f"{stats['codes']}, {stats['refused']} reconnects refused {stats['refused_status']})"
    )
    assert stats["errors"] >= 1, "the flooder is told once"
    assert stats["codes"][:1] == [4429], stats
    assert stats["disconnects"] == 1 and stats["refused"] > 0 and stats["refused_status"] == [403], (
        "its reconnects are refused during the cool-down"
    )
    assert flood_p90 <= max(3 * base_p90, base_p90 + 0.1), (
        f"page-turn p90 went from {base_p90 * 1000:.0f} ms to {flood_p90 * 1000:.0f} ms beside a flooder"
    )
