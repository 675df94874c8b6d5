"""/healthz for monitoring: the database, the channel layer and the job worker's heartbeat."""

from __future__ import annotations

import asyncio
import time

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from council.ops import heartbeat

LAYER_TIMEOUT_S = 2.0


def _database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True, "vendor": connection.vendor}


def _worker() -> dict:
    workers = heartbeat.live_workers()
    if not workers:
        return {"ok": False, "error": "no worker heartbeat in the last 30 s"}
    return {"ok": True, "workers": len(workers), "last_seen": workers[0].seen_at.isoformat()}


async def _channel_layer() -> dict:
    layer = get_channel_layer()
    if layer is None:
        return {"ok": False, "error": "no channel layer"}
    name = await layer.new_channel("healthz.")
    token = str(time.monotonic_ns())
    await layer.send(name, {"type": "healthz", "token": token})
    message = await asyncio.wait_for(layer.receive(name), LAYER_TIMEOUT_S)
    return {"ok": message.get("token") == token, "backend": type(layer).__name__}


async def _check(name: str, coro) -> tuple[str, dict]:
    try:
        return name, await asyncio.wait_for(coro, LAYER_TIMEOUT_S + 1)
    except Exception as exc:  # any failure is the answer, not a crash
        return name, {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:200]}


@require_GET
@never_cache
async def healthz(request):
    """200 when every part answers, 503 otherwise; JSON names each part's state."""
    results = dict(
        await asyncio.gather(
            _check("database", sync_to_async(_database, thread_sensitive=False)()),
            _check("channel_layer", _channel_layer()),
            _check("worker", sync_to_async(_worker, thread_sensitive=False)()),
        )
    )
    ok = all(part["ok"] for part in results.values())
    return JsonResponse({"status": "ok" if ok else "failing", "checks": results}, status=200 if ok else 503)
