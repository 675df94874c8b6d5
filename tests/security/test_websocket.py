"""WebSocket hardening through the real ASGI stack: Origin checks before accept, hostile input,
floods (and the cool-down after one), and sockets closing when the user signs out, changes password or loses the role.

Few, larger tests: each needs a transactional database, whose flush costs seconds on PostgreSQL."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers
from django.test import Client

from council.models import Membership, Person
from meetings.live import access, fanout
from meetings.live.protocol import MAX_MESSAGE_BYTES
from meetings.live.sockets import CLOSE_FLOOD
from meetings.live.transport import FLOOD_HARD, FLOOD_SOFT, flood_cooldowns
from meetings.models import Sitting
from tests import factories
from tests.security.ws import (
    make_document,
    open_socket,
    receive,
    receive_until,
    send,
    session_key_for,
    wait_closed,
)

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fresh_hub_and_layer():
    fanout.reset_hub()
    channel_layers.backends.clear()
    flood_cooldowns.clear()
    yield
    fanout.reset_hub()
    channel_layers.backends.clear()
    flood_cooldowns.clear()


@pytest.fixture
def live(org):
    sitting = org["sitting"]
    sitting.status = Sitting.Status.OPEN
    sitting.is_public = True
    sitting.save()
    committee_sitting = factories.make_sitting(org["session"], org["committee"], status=Sitting.Status.OPEN)
    item = factories.make_agenda_item(sitting)
    doc = make_document(org, agenda_item=item)
    return dict(
        org,
        doc=doc,
        path=f"/ws/sittings/{sitting.pk}/",
        public_path=f"/ws/public/sittings/{sitting.pk}/",
        committee_path=f"/ws/sittings/{committee_sitting.pk}/",
        committee_sitting=committee_sitting,
    )


# --- Origin -------------------------------------------------------------------------------------------

BAD_ORIGINS = [
    "http://evil.example",  # foreign
    None,  # missing
    "http://testserver.evil.example",  # look-alike: our host as a subdomain of theirs
    "http://evil-testserver",  # look-alike: our host as a suffix
    "http://testserver@evil.example",  # look-alike: our host as user info
    "null",  # sandboxed frame or file:// page
    "https://testserver",  # another scheme: the socket is plain ws here
    "http://testserver:8080",  # another port of our host
    "http://testserver/page",  # not an origin at all
]


async def test_foreign_missing_or_look_alike_origin_is_refused_before_accept(live):
    for origin in BAD_ORIGINS:
        comm = await open_socket(live["path"], live["members"][4].user, origin=origin)
        assert comm.accepted is False, origin  # closed in the handshake: the browser sees a failed upgrade
        assert comm.state is None
        public = await open_socket(live["public_path"], origin=origin)
        assert public.accepted is False, origin
    comm = await open_socket(live["path"], live["members"][4].user)  # our own origin is accepted
    assert comm.accepted and comm.state["type"] == "state"
    await comm.disconnect()


def test_the_origin_must_match_scheme_host_and_port(settings):
    """channels' own validator compares the host alone; ours compares the whole origin, behind the
    TLS proxy too (``SECURE_PROXY_SSL_HEADER``), and accepts CSRF_TRUSTED_ORIGINS."""
    from council.wsorigin import origin_allowed

    def scope(origin, host="council.example", **headers):
        sent = [(b"host", host.encode()), (b"origin", origin.encode())]
        sent += [(name.replace("_", "-").encode(), value.encode()) for name, value in headers.items()]
        return {"type": "websocket", "headers": sent}

    settings.ALLOWED_HOSTS = ["council.example"]
    assert origin_allowed(scope("http://council.example"))
    assert origin_allowed(scope("http://council.example:80"))
    assert not origin_allowed(scope("https://council.example"))  # the socket came in plain
    assert not origin_allowed(scope("http://council.example:8000"))
    assert origin_allowed(scope("http://council.example:8000", host="council.example:8000"))
    assert not origin_allowed(scope("http://council.example", host="council.example:8000"))
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert origin_allowed(scope("https://council.example", x_forwarded_proto="https"))
    assert not origin_allowed(scope("http://council.example", x_forwarded_proto="https"))  # an http page
    assert not origin_allowed(scope("https://council.example:8443", x_forwarded_proto="https"))
    settings.CSRF_TRUSTED_ORIGINS = ["https://display.council.example"]
    assert origin_allowed(scope("https://display.council.example", x_forwarded_proto="https"))
    assert not origin_allowed(scope("http://display.council.example", x_forwarded_proto="https"))
    settings.ALLOWED_HOSTS = ["other.example"]
    assert not origin_allowed(scope("https://council.example", x_forwarded_proto="https"))


# --- Hostile input ------------------------------------------------------------------------------------

HOSTILE = [
    ("oversized", "x" * (MAX_MESSAGE_BYTES + 1), "too_large"),
    ("oversized JSON", json.dumps({"type": "ping", "id": "a" * MAX_MESSAGE_BYTES}), "too_large"),
    (
        "multi-byte oversized",
        json.dumps({"type": "ping", "pad": "議" * (MAX_MESSAGE_BYTES // 3)}, ensure_ascii=False),
        "too_large",
    ),
    ("invalid JSON", "{not json", "malformed"),
    ("JSON but not an object", "[1, 2, 3]", "malformed"),
    ("no type", json.dumps({"page": 3}), "malformed"),
    ("type of wrong type", json.dumps({"type": 5}), "malformed"),
    ("unknown type", json.dumps({"type": "vote.rig"}), "unknown_type"),
    ("field of wrong type", json.dumps({"type": "page.turn", "page": "three"}), "invalid"),
    ("out of range", json.dumps({"type": "page.turn", "page": -1}), "invalid"),
    ("huge number", json.dumps({"type": "page.turn", "page": 10**300}), "invalid"),
    ("extra field", json.dumps({"type": "ping", "admin": True}), "invalid"),
    ("missing field", json.dumps({"type": "page.turn"}), "invalid"),
    ("NaN", '{"type": "page.turn", "page": NaN}', "invalid"),
    ("lone surrogate", '{"type": "ping", "id": "\\ud800"}', "malformed"),
    (
        "lone surrogate in a field",
        '{"type": "page.turn", "page": 2, "version_id": 1, "x": "\\udc00"}',
        "malformed",
    ),
]


async def test_hostile_messages_get_errors_and_change_nothing(live):
    comm = await open_socket(live["path"], live["clerk"].user)
    for label, text, code in HOSTILE:
        await send(comm, text)
        reply = await receive(comm)
        assert reply["type"] == "error" and reply["code"] == code, (label, reply)
        assert reply["message"], label  # a translated sentence, not a stack trace
    await comm.send_to(bytes_data=b"\x00\x01binary")
    reply = await receive(comm)
    assert reply["type"] == "error" and reply["code"] == "malformed"
    await send(comm, {"type": "ping", "id": 1})
    assert (await receive_until(comm, "pong"))["re"] == 1  # the socket still works
    seq = await sync_to_async(lambda: Sitting.objects.get(pk=live["sitting"].pk).live.seq)()
    assert seq == 0  # nothing was published
    # The public view accepts none of the participants' messages.
    public = await open_socket(live["public_path"])
    assert public.accepted
    for kind in ("page.turn", "sitting.close", "vote.cast", "presence.list"):
        await send(public, {"type": kind, "page": 2})
        reply = await receive(public)
        assert reply["type"] == "error" and reply["code"] == "unknown_type", (kind, reply)
    await public.disconnect()
    await comm.disconnect()


async def test_deeply_nested_json_errors_or_disconnects_only_the_sender(live):
    """8 KB of brackets is within the size limit but deeper than the JSON parser's recursion."""
    sender = await open_socket(live["path"], live["members"][4].user)
    other = await open_socket(live["path"], live["members"][5].user)
    await send(sender, "[" * 4000 + "]" * 4000)
    output = await sender.receive_output(timeout=3)
    if output["type"] == "websocket.send":
        assert json.loads(output["text"])["type"] == "error"
    else:
        assert output["type"] == "websocket.close"
    await send(other, {"type": "ping", "id": "still"})
    assert (await receive_until(other, "pong"))["re"] == "still"
    await other.disconnect()


async def test_flood_gets_one_error_then_silence_then_disconnect_and_a_cool_down(live):
    flooder = live["members"][4].user
    comm = await open_socket(live["path"], flooder)
    for i in range(FLOOD_HARD + 5):
        await send(comm, {"type": "ping", "id": i})
    replies = []
    while True:
        output = await comm.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            close_code = output.get("code")
            break
        replies.append(json.loads(output["text"]))
    # Answered up to the soft limit, told once, then nothing until the close.
    assert [r["type"] for r in replies] == ["pong"] * FLOOD_SOFT + ["error"]
    assert [r["re"] for r in replies[:-1]] == list(range(FLOOD_SOFT))
    assert replies[-1]["code"] == "flood" and replies[-1]["message"] and replies[-1]["retry_after"] >= 1
    assert close_code == 4429 == CLOSE_FLOOD
    # Its reconnects are refused in the handshake (an HTTP 403), with a fresh session as well, and
    # on the public view too ...
    for path in (live["path"], live["public_path"]):
        again = await open_socket(path, flooder)
        assert again.accepted is False and again.close_code == CLOSE_FLOOD, path
    # ... while everybody else connects and is answered as before.
    other = await open_socket(live["path"], live["members"][5].user)
    assert other.accepted and other.state["type"] == "state"
    await send(other, {"type": "ping", "id": "fine"})
    assert (await receive_until(other, "pong"))["re"] == "fine"
    await other.disconnect()
    public = await open_socket(live["public_path"])
    assert public.accepted
    await public.disconnect()


# --- Sockets close when the right to them ends ----------------------------------------------------------


def _signed_in_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


async def _socket_with_client(live, user, path=None):
    client = await sync_to_async(_signed_in_client)(user)
    key = client.cookies["sessionid"].value
    comm = await open_socket(path or live["path"], session_key=key)
    assert comm.accepted
    return client, comm


async def test_socket_closes_on_sign_out(live):
    client, comm = await _socket_with_client(live, live["members"][4].user)
    await sync_to_async(client.post)("/accounts/logout/")
    assert await wait_closed(comm, timeout=5) == 4401


async def test_socket_of_a_session_ended_unheard_closes_at_the_next_access_check(live):
    """A sign-out announced while Redis was down never reaches the other processes' hubs: their
    access check (every 30 s, and at once after the hub restores its subscriptions) finds the
    session gone and closes its sockets; other sessions stay."""
    from django.contrib.sessions.models import Session

    _client, comm = await _socket_with_client(live, live["members"][4].user)
    other_client, other = await _socket_with_client(live, live["members"][5].user)
    key = _client.cookies["sessionid"].value
    await sync_to_async(lambda: Session.objects.filter(session_key=key).delete())()  # no signal, no message
    await access.recheck(fanout.current_hub().all_sockets())
    assert await wait_closed(comm, timeout=5) == 4401
    await send(other, {"type": "ping", "id": 1})
    assert (await receive_until(other, "pong"))["re"] == 1
    await other.disconnect()


async def test_socket_closes_on_password_change(live):
    user = live["members"][4].user
    client, comm = await _socket_with_client(live, user)
    response = await sync_to_async(client.post)(
        "/security/password/",
        {
            "old_password": factories.PASSWORD,
            "new_password1": "a-new-långer-pw-2026",
            "new_password2": "a-new-långer-pw-2026",
        },
    )
    assert response.status_code == 302
    assert await wait_closed(comm, timeout=5) in (4401, 4403)
    # A session from before the change no longer opens a socket (its password hash is stale) ...
    stale = await open_socket(live["path"], session_key=await sync_to_async(session_key_for)(user))
    assert stale.accepted is False
    # ... while a session made with the new password does.
    fresh_user = await sync_to_async(type(user).objects.get)(pk=user.pk)
    again = await open_socket(live["path"], session_key=await sync_to_async(session_key_for)(fresh_user))
    assert again.accepted
    await again.disconnect()


async def test_password_reset_or_deactivation_by_the_secretariat_closes_sockets(live):
    first, second = live["members"][4].user, live["members"][5].user
    _client, comm = await _socket_with_client(live, first)
    _client2, comm2 = await _socket_with_client(live, second)

    def reset():
        first.set_password("reset-by-the-secretariat-1")
        first.save()

    def deactivate():
        second.is_active = False
        second.save()

    await sync_to_async(reset)()
    assert await wait_closed(comm, timeout=5) in (4401, 4403)
    await sync_to_async(deactivate)()
    assert await wait_closed(comm2, timeout=5) in (4401, 4403)


async def test_socket_closes_when_the_role_is_lost(live):
    member = live["members"][5]  # a committee member
    _client, comm = await _socket_with_client(live, member.user, live["committee_path"])
    _client2, other = await _socket_with_client(live, live["members"][6].user, live["committee_path"])
    leaving = live["members"][4]
    _client3, plenary = await _socket_with_client(live, leaving.user)

    def end_membership():
        Membership.objects.filter(person=member, body=live["committee"]).delete()

    await sync_to_async(end_membership)()
    assert await wait_closed(comm, timeout=5) in (4401, 4403)
    again = await open_socket(live["committee_path"], session_key=_client.cookies["sessionid"].value)
    readmitted = ["committee"] if again.accepted else []  # the tablet's reconnect must be refused
    if again.accepted:
        await again.disconnect()
    await send(other, {"type": "ping", "id": "ok"})  # other members keep their sockets
    assert (await receive_until(other, "pong"))["re"] == "ok"
    await other.disconnect()

    def leave_office():
        person = Person.objects.get(pk=leaving.pk)
        person.active = False
        person.seat_number = None
        person.save()

    await sync_to_async(leave_office)()
    assert await wait_closed(plenary, timeout=5) in (4401, 4403)
    again = await open_socket(live["path"], session_key=_client3.cookies["sessionid"].value)
    if again.accepted:
        readmitted.append("plenary")
        await again.disconnect()
    assert not readmitted, f"a reconnect right after losing the role was accepted ({', '.join(readmitted)})"


async def test_unrelated_change_does_not_close_the_socket(live):
    member = live["members"][4]
    _client, comm = await _socket_with_client(live, member.user)

    def rename():
        person = Person.objects.get(pk=member.pk)
        person.title = "議員"
        person.save()
        user = person.user
        user.first_name = "太郎"
        user.save()

    await sync_to_async(rename)()
    await send(comm, {"type": "ping", "id": "alive"})
    assert (await receive_until(comm, "pong"))["re"] == "alive"
    await comm.disconnect()
