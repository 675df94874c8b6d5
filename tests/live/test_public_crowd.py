"""The public view (傍聴) for crowds: one shared snapshot per sequence number, and a crowd on real
servers (the reduced ``bench.fanout --public``: every follower gets every page turn)."""

from __future__ import annotations

import asyncio
import os

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from bench.support.crowd import Phase, run_crowd
from documents.models import Document
from meetings.live import public
from meetings.live.models import LiveState
from meetings.models import Sitting
from tests import factories
from tests.live.conftest import _session_cookie, connect, make_document, nothing_more, receive, send

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture
def scene(org):
    Sitting.objects.filter(pk=org["sitting"].pk).update(status=Sitting.Status.OPEN, opened_at=timezone.now())
    item = factories.make_agenda_item(org["sitting"])
    doc = make_document(org, agenda_item=item, pages=60, visibility=Document.Visibility.PUBLIC)
    LiveState.objects.update_or_create(
        sitting=org["sitting"],
        defaults=dict(agenda_item=item, document=doc, version=doc.versions.get(), page=1),
    )
    return dict(org, doc=doc, public_path=f"/ws/public/sittings/{org['sitting'].pk}/")


async def test_a_crowd_shares_one_snapshot_until_the_public_stream_moves(scene):
    clerk = await connect(f"/ws/sittings/{scene['sitting'].pk}/", scene["clerk"].user)
    before = public.snapshots.builds
    crowd = [await connect(scene["public_path"]) for _ in range(20)]
    assert public.snapshots.builds == before + 1  # not one authorization and state per socket
    assert len({c.state["seq"] for c in crowd}) == 1 and crowd[0].state["presentation"]["page"] == 1
    await send(clerk, {"type": "page.turn", "page": 7})
    for c in crowd:
        event = await receive(c)
        assert (event["type"], event["payload"]["presentation"]["page"]) == ("session.page", 7)
    # The stream moved: the next viewer gets a newer state (built once more), and nothing twice.
    late = [await connect(scene["public_path"]) for _ in range(5)]
    assert public.snapshots.builds == before + 2
    assert late[0].state["seq"] == event["seq"] and late[0].state["presentation"]["page"] == 7
    assert await nothing_more(late[0])
    # A state.request is answered with the snapshot and the request's id.
    await send(late[1], {"type": "state.request", "id": "again"})
    again = await receive(late[1])
    assert (again["type"], again["re"], again["seq"]) == ("state", "again", event["seq"])
    for c in [clerk, *crowd, *late]:
        await c.disconnect()


async def test_an_incomplete_public_state_is_never_shared(scene, monkeypatch):
    from meetings.live import state as live_state

    broken = {"on": True}

    def flaky(*, sitting, audience, user):
        if broken["on"]:
            raise ConnectionError("the database went away")
        return {"ok": True}

    monkeypatch.setitem(live_state._parts, "flaky", flaky)
    before = public.snapshots.builds
    first = await connect(scene["public_path"])
    assert first.state["incomplete"] == ["flaky"]
    broken["on"] = False
    second = await connect(scene["public_path"])  # the same seq, yet built again: complete
    assert "incomplete" not in second.state and second.state["parts"]["flaky"] == {"ok": True}
    assert public.snapshots.builds == before + 2
    for c in (first, second):
        await c.disconnect()


async def test_a_snapshot_expires_so_unpublished_refusals_take_effect(scene, monkeypatch):
    monkeypatch.setattr(public, "SNAPSHOT_SECONDS", 0.2)
    first = await connect(scene["public_path"])
    assert first.accepted
    await sync_to_async(Sitting.objects.filter(pk=scene["sitting"].pk).update)(is_public=False)
    await asyncio.sleep(0.3)
    refused = await connect(scene["public_path"], expect_state=False)
    assert refused.accepted is False
    await first.disconnect()


async def test_public_viewers_free_their_admission_slot_once_their_state_is_sent(scene):
    from meetings.live import admission

    before = admission.admission.in_progress
    viewers = [await connect(scene["public_path"]) for _ in range(5)]
    assert all(v.state["type"] == "state" for v in viewers)
    assert admission.admission.in_progress == before  # held only during the handshake
    for v in viewers:
        await v.disconnect()


async def test_a_public_socket_is_a_live_socket_and_small():
    from meetings.live.sockets import LiveSocket

    async def send(message):
        pass

    sock = public.PublicSocket(1, send, "ja")
    assert isinstance(sock, LiveSocket) and sock.user_id is None and sock.public
    assert not hasattr(sock, "__dict__")  # slots only


async def test_a_public_viewer_never_costs_a_session_or_user_lookup(scene, monkeypatch):
    from channels import auth

    looked_up = []
    original = auth.get_user

    async def counting(scope):
        looked_up.append(scope.get("path"))
        return await original(scope)

    monkeypatch.setattr(auth, "get_user", counting)
    viewer = await connect(scene["public_path"], scene["members"][3].user)  # signed in elsewhere
    assert viewer.state["stream"] == "public" and viewer.state["me"] is None
    assert looked_up == []
    await viewer.disconnect()


# --- a crowd on real daphne processes ---------------------------------------------------------


def _crowd_scene(org) -> dict:
    from tests.servers import start_daphne  # noqa: F401  (imported here: needs settings)

    Sitting.objects.filter(pk=org["sitting"].pk).update(status=Sitting.Status.OPEN, opened_at=timezone.now())
    item = factories.make_agenda_item(org["sitting"])
    doc = make_document(org, agenda_item=item, pages=60, visibility=Document.Visibility.PUBLIC)
    LiveState.objects.update_or_create(
        sitting=org["sitting"],
        defaults=dict(agenda_item=item, document=doc, version=doc.versions.get(), page=1),
    )
    return {
        "sitting": org["sitting"].pk,
        "clerk": _session_cookie(org["clerk"].user),
        "members": [_session_cookie(m.user) for m in org["members"][:10]],
    }


async def _run_crowd(org, *, servers: int, redis: bool) -> None:
    from tests.servers import Daphne, free_port, server_env

    data = await sync_to_async(_crowd_scene)(org)
    env = server_env()
    if not redis:
        env.pop("REDIS_URL", None)
    procs = [await asyncio.to_thread(Daphne(port=free_port(), env=dict(env)).start) for _ in range(servers)]
    try:
        members = [f"{p.ws_url}/ws/sittings/{data['sitting']}/" for p in procs]
        publics = [f"{p.ws_url}/ws/public/sittings/{data['sitting']}/" for p in procs]
        phases = [
            Phase("members", [(members[i % servers], data["members"][i]) for i in range(10)], 1),
            Phase("public", [(publics[i % servers], None) for i in range(100)], 2),
        ]
        result = await run_crowd(
            server_pids=[p.proc.pid for p in procs],
            presenter_urls=members[:1],
            presenter_cookie=data["clerk"],
            warm_targets=[],
            phases=phases,
            turns=20,
            warmup=0,
            pause=0.05,
            turn_timeout=30,
        )
    finally:
        for p in procs:
            await asyncio.to_thread(p.stop)
    assert result["phases"]["members"]["connected"] == 10 and result["phases"]["public"]["connected"] == 100
    assert result["deliveries_expected"] == 110 * 20
    assert result["missed"] == 0 and result["turns_late"] == 0


@pytest.mark.slow
async def test_a_crowd_on_one_process_gets_every_page_turn(org, monkeypatch):
    await _run_crowd(org, servers=1, redis=False)


@pytest.mark.slow
@pytest.mark.skipif(
    not (os.environ.get("REDIS_URL") and os.environ.get("DATABASE_URL", "").startswith("postgres")),
    reason="two processes share page turns through Redis and a PostgreSQL database (REDIS_URL, DATABASE_URL)",
)
async def test_a_crowd_on_two_processes_through_redis_gets_every_page_turn(org):
    await _run_crowd(org, servers=2, redis=True)
