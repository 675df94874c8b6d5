"""The reference client (``bench/protoclient.py``, written from docs/protocol.md) against a real
daphne: sign in over HTTP, connect, follow page turns, notice a lost event and fetch the state,
reconnect, and get every answer with its ``re``."""

from __future__ import annotations

import asyncio

import pytest
from django.utils import timezone

from bench.protoclient import ProtoClient, sign_in
from meetings.models import Sitting
from tests import factories
from tests.factories import PASSWORD
from tests.live.conftest import make_document
from tests.servers import start_daphne

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture
def scene(org, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]  # the server's own
    for person in (org["clerk"], org["members"][4]):
        person.user.set_password(PASSWORD)
        person.user.save()
    Sitting.objects.filter(pk=org["sitting"].pk).update(status=Sitting.Status.OPEN, opened_at=timezone.now())
    item = factories.make_agenda_item(org["sitting"])
    doc = make_document(org, agenda_item=item, pages=30)
    server = start_daphne()
    yield dict(org, item=item, doc=doc, server=server)
    server.stop()


async def next_event(client: ProtoClient, type_: str, timeout: float = 10) -> dict:
    while True:
        event = await asyncio.wait_for(client.events.get(), timeout)
        if event["type"] == type_:
            return event


async def test_the_reference_client_follows_a_sitting_on_a_real_server(scene):
    server, sitting = scene["server"], scene["sitting"]
    clerk_session = await asyncio.to_thread(sign_in, server.url, scene["clerk"].user.username, PASSWORD)
    member_session = await asyncio.to_thread(sign_in, server.url, scene["members"][4].user.username, PASSWORD)
    with pytest.raises(RuntimeError):
        await asyncio.to_thread(sign_in, server.url, scene["members"][5].user.username, "wrong")
    clerk = ProtoClient(server.url, sitting.pk, session=clerk_session)
    member = ProtoClient(server.url, sitting.pk, session=member_session)
    await clerk.start()
    await member.start()
    assert member.states.get_nowait()["type"] == "state"  # the state on connect
    try:
        assert member.state["me"]["person"] == scene["members"][4].pk
        assert set(clerk.state["seqs"]) == {"members", "clerks"} and set(member.state["seqs"]) == {"members"}
        # The ids a client needs come over the socket.
        agenda = await clerk.request({"type": "agenda.list"})
        assert agenda["type"] == "agenda" and [i["id"] for i in agenda["items"]] == [scene["item"].pk]
        doc_id = agenda["documents"][0]["id"]
        assert (await clerk.request({"type": "agenda.move", "agenda_item_id": scene["item"].pk}))[
            "type"
        ] == "ack"
        ack = await clerk.request({"type": "document.present", "document_id": doc_id, "page": 2})
        assert ack == {"type": "ack", "for": "document.present", "re": ack["re"]}
        assert (await next_event(member, "session.page"))["payload"]["presentation"]["page"] == 2
        assert member.state["presentation"]["page"] == 2

        # A lost event (as over a flaky link): the next one shows the gap; the client asks for the
        # state and lands on the current page.
        handle = member._handle
        dropped = []

        async def lossy(message):
            if message.get("type") == "session.page" and not dropped:
                dropped.append(message)
                return
            await handle(message)

        member._handle = lossy
        await clerk.request({"type": "page.turn", "page": 3})
        await clerk.request({"type": "page.turn", "page": 4})
        state = await asyncio.wait_for(member.states.get(), 10)
        assert dropped and state["presentation"]["page"] == 4
        assert any(entry["kind"] == "gap" for entry in member.log)
        assert member.state["presentation"]["page"] == 4

        # Every answer echoes the id: a state request, an error.
        answer = await member.request({"type": "state.request", "reason": "check"})
        assert answer["type"] == "state" and answer["re"].startswith("p")
        error = await member.request({"type": "page.turn", "page": 5})
        assert (error["type"], error["code"], error["for"]) == ("error", "forbidden", "page.turn")

        # The connection drops: the client reconnects and gets a fresh state.
        while not member.states.empty():
            member.states.get_nowait()
        await member.ws.close()
        state = await asyncio.wait_for(member.states.get(), 15)
        assert state["presentation"]["page"] == 4
        assert any(entry["kind"] == "reconnect" for entry in member.log)
        turned = await clerk.request({"type": "page.turn", "page": 6})
        assert turned["type"] == "ack", turned
        assert (await next_event(member, "session.page"))["payload"]["presentation"]["page"] == 6
    finally:
        await member.stop()
        await clerk.stop()
