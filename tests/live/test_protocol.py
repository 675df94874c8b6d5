"""The protocol's answer rules (docs/protocol.md, "Requests" and "Errors"), through the ASGI stack:
every answer to a message with an ``id`` echoes it as ``re``; every error to a message with a
``type`` names it as ``for``; ``invalid`` names the offending field; text that is not valid
Unicode is ``malformed`` and the socket stays up."""

from __future__ import annotations

import json

import pytest

from meetings.live import protocol
from meetings.live.protocol import MAX_MESSAGE_BYTES
from tests.live.conftest import connect, receive, receive_until, send

pytestmark = pytest.mark.django_db(transaction=True)  # async tests: asyncio_mode = "auto"


# (message text, code, "for", field)
ERRORS = [
    (json.dumps({"type": "teleport", "id": 1}), "unknown_type", "teleport", None),
    (json.dumps({"type": "page.turn", "id": 2, "page": "five"}), "invalid", "page.turn", "page"),
    (json.dumps({"type": "page.turn", "id": 3}), "invalid", "page.turn", "page"),
    (json.dumps({"type": "page.turn", "id": 4, "page": 2, "admin": True}), "invalid", "page.turn", "admin"),
    (
        json.dumps({"type": "vote.cast", "id": 5, "poll_id": 1, "choice": "yes"}),
        "invalid",
        "vote.cast",
        "token",
    ),
    (json.dumps({"type": "ping", "id": 6, "pad": "x" * MAX_MESSAGE_BYTES}), "too_large", "ping", None),
    (json.dumps({"type": "ping", "id": 7, "note": "\ud800"}), "malformed", None, None),
    (json.dumps({"type": "sitting.open", "id": 8}), "status", "sitting.open", None),
]


async def test_every_error_names_its_request_echoes_its_id_and_names_the_field(scene):
    clerk = await connect(scene["path"], scene["clerk"].user, lang="en")
    for text, code, for_type, field in ERRORS:
        await clerk.send_to(text_data=text)
        error = await receive_until(clerk, "error")
        msg_id = json.loads(text).get("id")
        assert error["code"] == code, (text[:60], error)
        assert error.get("for") == for_type, (text[:60], error)
        assert error.get("field") == field, (text[:60], error)
        if code != "malformed":  # a malformed message's id cannot be trusted
            assert error["re"] == msg_id, (text[:60], error)
        if field:
            assert f"({field})" in error["message"]
    await send(clerk, {"type": "ping", "id": "alive"})
    assert (await receive_until(clerk, "pong"))["re"] == "alive"
    await clerk.disconnect()


async def test_the_state_answer_to_a_request_echoes_its_id(scene):
    member = await connect(scene["path"], scene["members"][4].user)
    assert "re" not in member.state  # the state sent on connect answers nothing
    await send(member, {"type": "state.request", "reason": "gap", "id": "s1"})
    state = await receive_until(member, "state")
    assert state["re"] == "s1"
    await send(member, {"type": "state.request"})
    assert "re" not in await receive_until(member, "state")  # no id, no re (and the cached state is clean)
    await member.disconnect()


@pytest.mark.parametrize("where", ["path", "public_path"])
async def test_a_lone_surrogate_is_malformed_and_the_socket_stays_up(scene, where):
    user = scene["members"][4].user if where == "path" else None
    comm = await connect(scene[where], user, lang="en")
    for text in (
        '{"type": "ping", "id": "\\ud800"}',
        '{"type": "state.request", "reason": "\\udfff"}',
        '{"type": "ping", "\\ud800": 1}',
        '{"type": "\\ud800"}',
    ):
        await comm.send_to(text_data=text)
        error = await receive(comm)
        assert error["type"] == "error" and error["code"] == "malformed", (text, error)
        assert "re" not in error
    await comm.send_to(text_data='{"type": "ping", "id": "x\ud800"}')  # raw, as an in-process client could
    assert (await receive(comm))["code"] == "malformed"
    await send(comm, {"type": "ping", "id": 9})
    assert await receive(comm) == {"type": "pong", "re": 9}
    await comm.disconnect()


def test_parse_names_the_field_of_nested_and_missing_values():
    with pytest.raises(protocol.Invalid) as missing:
        protocol.parse(json.dumps({"type": "document.present"}))
    assert missing.value.field == "document_id" and missing.value.for_type == "document.present"
    with pytest.raises(protocol.Invalid) as nested:
        protocol.parse(
            json.dumps({"type": "motion.create", "agenda_item_id": 1, "title": "t", "approval": [2, "x"]})
        )
    assert nested.value.field == "approval/1"
