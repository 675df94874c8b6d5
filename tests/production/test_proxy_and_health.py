"""The client address behind the proxy, /healthz, the structured access log (no real nginx here:
tests/production/test_production_stack.py runs the real one)."""

import asyncio
import json
import logging

import pytest
from django.test import AsyncClient
from django.utils import timezone

from council.ops import heartbeat
from council.ops.logging import JsonFormatter
from council.security.proxy import TrustedProxyMiddleware, forwarded_client
from tests import factories


def test_forwarded_client_only_from_a_trusted_peer():
    trusted = {"unix"}
    assert (
        forwarded_client(peer="unix", forwarded_for="203.0.113.9", trusted=trusted, count=1) == "203.0.113.9"
    )
    # A client's own header is ignored when it does not come through the proxy.
    assert (
        forwarded_client(peer="198.51.100.7", forwarded_for="203.0.113.9", trusted=trusted, count=1) is None
    )
    # Behind one proxy, a forged left-hand entry is not believed: the proxy's own entry is the last one.
    assert (
        forwarded_client(peer="unix", forwarded_for="10.0.0.1, 203.0.113.9", trusted=trusted, count=1)
        == "203.0.113.9"
    )
    assert (
        forwarded_client(peer="unix", forwarded_for="10.0.0.1, 203.0.113.9", trusted=trusted, count=2)
        == "10.0.0.1"
    )
    assert forwarded_client(peer="unix", forwarded_for="not-an-address", trusted=trusted, count=1) is None
    assert forwarded_client(peer="unix", forwarded_for="", trusted=trusted, count=1) is None


async def _scope_after(scope, settings_trusted, settings) -> dict:
    settings.COUNCIL_TRUSTED_PROXIES = settings_trusted
    seen = {}

    async def app(scope, receive, send):
        seen.update(scope)

    await TrustedProxyMiddleware(app)(scope, None, None)
    return seen


async def test_the_middleware_sets_the_client_for_http_and_websocket(settings):
    headers = [(b"x-forwarded-for", b"203.0.113.9")]
    for kind in ("http", "websocket"):
        seen = await _scope_after({"type": kind, "client": None, "headers": headers}, ["unix"], settings)
        assert seen["client"] == ("203.0.113.9", 0)
    # Untrusted (the embedded default: no proxy configured): the header is ignored.
    seen = await _scope_after({"type": "http", "client": ("127.0.0.1", 5), "headers": headers}, [], settings)
    assert seen["client"] == ("127.0.0.1", 5)
    seen = await _scope_after(
        {"type": "http", "client": ("127.0.0.1", 5), "headers": headers}, ["unix"], settings
    )
    assert seen["client"] == ("127.0.0.1", 5)


@pytest.mark.django_db(transaction=True)
async def test_sign_in_lockout_is_per_forwarded_address_through_the_asgi_stack(settings):
    """A stand-in for nginx: requests over a 'unix socket' (no peer) with X-Forwarded-For."""
    from asgiref.sync import sync_to_async
    from axes.models import AccessAttempt

    settings.COUNCIL_TRUSTED_PROXIES = ["unix"]
    settings.AXES_FAILURE_LIMIT = 2
    user = await sync_to_async(factories.make_user)("victim")

    async def post(address: str, password: str) -> int:
        from council.asgi import application

        secret = "a" * 32  # a CSRF cookie and the same token in the form
        body = f"username={user.username}&password={password}&csrfmiddlewaretoken={secret}".encode()
        scope = {
            "type": "http",
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/accounts/login/",
            "raw_path": b"/accounts/login/",
            "query_string": b"",
            "root_path": "",
            "client": None,
            "server": None,
            "headers": [
                (b"host", b"localhost"),
                (b"x-forwarded-for", address.encode()),
                (b"content-type", b"application/x-www-form-urlencoded"),
                (b"cookie", f"csrftoken={secret}".encode()),
            ],
        }
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        sent = []

        async def receive():
            if messages:
                return messages.pop(0)
            await asyncio.Event().wait()  # the client stays connected until the answer is sent

        async def send(message):
            sent.append(message)

        await application(scope, receive, send)
        assert any(m["type"] == "http.response.start" for m in sent), sent
        return next(m["status"] for m in sent if m["type"] == "http.response.start")

    assert [await post("203.0.113.9", "wrong") for _ in range(2)] == [200, 429]
    assert await post("203.0.113.9", factories.PASSWORD) == 429  # locked at that address
    assert await post("198.51.100.7", factories.PASSWORD) == 302  # not at another one
    addresses = await sync_to_async(lambda: set(AccessAttempt.objects.values_list("ip_address", flat=True)))()
    assert addresses == {"203.0.113.9"}


@pytest.mark.django_db(transaction=True)
async def test_healthz_names_each_part_and_fails_without_a_worker():
    from asgiref.sync import sync_to_async

    client = AsyncClient()
    response = await client.get("/healthz")
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["checks"]["database"]["ok"] and body["checks"]["channel_layer"]["ok"]
    assert body["checks"]["worker"]["ok"] is False
    await sync_to_async(heartbeat.beat)(worker_id="w1", started_at=timezone.now())
    response = await client.get("/healthz")
    assert response.status_code == 200 and json.loads(response.content)["status"] == "ok"
    # A heartbeat older than 30 s is a dead worker.
    from council.ops.models import WorkerHeartbeat

    await sync_to_async(WorkerHeartbeat.objects.update)(
        seen_at=timezone.now() - timezone.timedelta(minutes=1)
    )
    assert (await client.get("/healthz")).status_code == 503


@pytest.mark.django_db
def test_access_log_names_request_and_user_never_the_body(client, org, caplog):
    member = org["members"][0].user
    client.force_login(member)
    with caplog.at_level(logging.INFO, logger="council.access"):
        response = client.post("/documents/search/?q=secret", {"choice": "yes"}, HTTP_X_REQUEST_ID="abc123")
    record = next(r for r in caplog.records if r.name == "council.access")
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "abc123" == response["X-Request-ID"]
    assert line["user_id"] == member.pk and line["path"] == "/documents/search/"
    assert "yes" not in json.dumps(line) and "secret" not in json.dumps(line)
