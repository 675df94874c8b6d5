"""A hostile WebSocket client, run as its own process so it cannot slow the measuring test itself.

    python -m tests.security.flooder WS_URL SESSION_COOKIE SECONDS

Sends malformed, unknown and oversized messages and WebSocket pings as fast as the socket takes
them, reconnects when cut off (and again and again while refused), and prints one JSON line with
what happened."""

from __future__ import annotations

import asyncio
import json
import sys
import time

import websockets
from websockets.asyncio.client import connect

JUNK = [
    "{not json",
    json.dumps({"type": "vote.rig"}),
    json.dumps({"type": "page.turn", "page": "x"}),
    "x" * 9000,
    json.dumps({"type": "ping"}),
    None,
]  # None: a WebSocket (control frame) ping


async def flood(url: str, cookie: str, seconds: float) -> dict:
    stats = {"sent": 0, "errors": 0, "disconnects": 0, "codes": [], "refused": 0, "refused_status": []}
    deadline = time.monotonic() + seconds
    origin = url.split("/ws/")[0].replace("ws", "http", 1)

    async def read(ws):
        async for text in ws:
            if '"error"' in text:
                stats["errors"] += 1

    while time.monotonic() < deadline:
        try:
            async with connect(
                url,
                additional_headers={"Cookie": f"sessionid={cookie}"},
                origin=origin,
                max_size=2**22,
                proxy=None,
                open_timeout=5,
            ) as ws:
                reader = asyncio.create_task(read(ws))
                try:
                    while time.monotonic() < deadline:
                        junk = JUNK[stats["sent"] % len(JUNK)]
                        if junk is None:
                            await ws.ping(str(stats["sent"]))  # the pong is not awaited
                        else:
                            await ws.send(junk)
                        stats["sent"] += 1
                        if stats["sent"] % 20 == 0:
                            await asyncio.sleep(0)
                finally:
                    reader.cancel()
        except websockets.exceptions.ConnectionClosed as exc:
            stats["disconnects"] += 1
            if exc.rcvd is not None:
                stats["codes"].append(exc.rcvd.code)
        except websockets.exceptions.InvalidStatus as exc:
            stats["refused"] += 1
            if exc.response.status_code not in stats["refused_status"]:
                stats["refused_status"].append(exc.response.status_code)
            await asyncio.sleep(0.05)
        except (OSError, TimeoutError):
            await asyncio.sleep(0.05)
    return stats


if __name__ == "__main__":
    print(json.dumps(asyncio.run(flood(sys.argv[1], sys.argv[2], float(sys.argv[3])))), flush=True)
