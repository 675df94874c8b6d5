"""WebSocket protocol of live sessions through the real ASGI stack."""

from __future__ import annotations

import pytest

from meetings.models import Sitting
from tests.live.conftest import connect, make_document, receive, receive_until, send

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture
def live_org(org):
    sitting = org["sitting"]
    sitting.status = Sitting.Status.OPEN
    sitting.save()
    from tests.factories import make_agenda_item

    item = make_agenda_item(sitting)
    doc = make_document(org, agenda_item=item)
    org.update(item=item, doc=doc, version=doc.versions.get())
    return org


def path_for(org) -> str:
    return f"/ws/sittings/{org['sitting'].pk}/"


async def test_state_on_connect_has_the_core_fields(live_org):
    comm = await connect(path_for(live_org), live_org["members"][4].user)
    state = comm.state
    assert state["seq"] == 0 and state["stream"] == "members" and state["seqs"] == {"members": 0}
    assert state["status"] == "open"
    assert state["agenda_item"] is None and state["presentation"] is None
    assert state["presenter"]["default"] is True
    await comm.disconnect()


async def test_page_turn_reaches_every_follower_with_growing_seq(live_org):
    clerk = await connect(path_for(live_org), live_org["clerk"].user)
    assert clerk.state["seqs"] == {"members": 0, "clerks": 0}
    followers = [await connect(path_for(live_org), m.user) for m in live_org["members"][3:6]]
    await send(clerk, {"type": "document.present", "document_id": live_org["doc"].pk, "id": "p1"})
    ack = await receive_until(clerk, "ack")
    assert ack["re"] == "p1"
    for f in followers:
        event = await receive(f)
        assert event["type"] == "session.page" and event["seq"] == 1 and event["stream"] == "members"
        assert event["payload"]["presentation"]["page"] == 1
        assert event["payload"]["presentation"]["page_count"] == 12
    await send(clerk, {"type": "page.turn", "page": 5})
    for f in followers:
        event = await receive(f)
        assert event["seq"] == 2 and event["payload"]["presentation"]["page"] == 5
    # A late joiner lands on the presented page.
    late = await connect(path_for(live_org), live_org["members"][7].user)
    assert late.state["seq"] == 2 and late.state["presentation"]["page"] == 5
    for c in [clerk, late, *followers]:
        await c.disconnect()
