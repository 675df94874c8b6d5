"""Follow a sitting from the command line, printing each state and event it receives.

    python -m bench.client --server http://127.0.0.1:8000 --sitting 1 --public
    python -m bench.client --server http://127.0.0.1:8000 --sitting 1 --username clerk --password ...
    python -m bench.client --url ws://127.0.0.1:8000/ws/sittings/1/ --session <sessionid cookie>

It speaks the protocol of docs/protocol.md the way a tablet does: it tracks the sequence number of
every stream it receives, asks for the full state again on a gap or a lower number, sends a
heartbeat ping, and reconnects with exponential backoff and jitter (to any of several ``--server``
URLs, so it moves to another process when one dies). Each line printed is one JSON object:
``{"at": <unix time>, "kind": "state"|"event"|"resync"|"reconnect"|..., ...}``.

The benchmarks use ``Follower`` too (``bench.fanout``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from http.cookiejar import CookieJar

import websockets
from websockets.asyncio.client import connect

PING_INTERVAL_S = 15.0
SILENCE_LIMIT_S = 40.0  # no message at all for this long: the connection is dead, reconnect


TRY_AGAIN = 4503  # the server is saturated: retry later, within the seconds its close reason says


def backoff_delay(attempt: int, *, base: float = 0.25, cap: float = 5.0, hint: float | None = None) -> float:
    """Full jitter: a random delay up to base·2^attempt, capped (spreads a thundering herd); after
    a "try again later" (4503) up to the server's hint when that is longer."""
    bound = base * (2**attempt)
    if hint is not None:
        bound = max(bound, hint)
    return random.uniform(0, min(cap, bound))


def retry_hint(close) -> float | None:
    """The seconds within which to retry, from a 4503 close frame (its reason), else None."""
    if close is None or close.code != TRY_AGAIN:
        return None
    try:
        return max(0.0, float(close.reason))
    except ValueError:
        return 5.0


class Follower:
    """One socket following one sitting, with resync and reconnect.

    ``on_state(state)`` and ``on_event(message)`` are called for each accepted message; state
    holds the merged current state (events' payloads are partial states).
    """

    def __init__(
        self,
        urls: list[str],
        *,
        headers: dict[str, str] | None = None,
        on_state: Callable[[dict], None] | None = None,
        on_event: Callable[[dict], None] | None = None,
        on_note: Callable[[str, dict], None] | None = None,
        reconnect: bool = True,
    ):
        self.urls = urls
        self.headers = headers or {}
        self.on_state = on_state or (lambda s: None)
        self.on_event = on_event or (lambda m: None)
        self.on_note = on_note or (lambda kind, data: None)
        self.reconnect = reconnect
        self.seqs: dict[str, int] = {}
        self.state: dict | None = None
        self.ws = None
        self.url_index = random.randrange(len(urls))
        self.stopped = False
        self.connected = asyncio.Event()

    async def run(self) -> None:
        attempt = 0
        while not self.stopped:
            url = self.urls[self.url_index % len(self.urls)]
            hint = None
            try:
                origin = re.sub(r"^ws", "http", url.split("/ws/")[0])
                async with connect(
                    url,
                    additional_headers=self.headers,
                    origin=origin,
                    open_timeout=10,
                    ping_interval=None,
                    max_size=2**22,
                    compression=None,
                    proxy=None,
                ) as ws:
                    self.ws = ws
                    await self._session(ws)
            except websockets.exceptions.ConnectionClosed as exc:
                hint = retry_hint(exc.rcvd)
                self.on_note("disconnected", {"url": url, "code": exc.rcvd.code if exc.rcvd else None})
            except (TimeoutError, OSError, websockets.exceptions.WebSocketException) as exc:
                self.on_note(
                    "disconnected", {"url": url, "error": type(exc).__name__, "detail": str(exc)[:120]}
                )
            self.ws = None
            if self.connected.is_set():  # it had its state: start the backoff afresh
                attempt = 0
            self.connected.clear()
            if self.stopped or not self.reconnect:
                return
            if hint is None:
                # Try another server next time (a killed process does not come back quickly); a
                # server that said "try again later" is alive, so it is tried again.
                self.url_index += 1
            delay = backoff_delay(attempt, hint=hint)
            attempt += 1
            self.on_note("reconnect", {"in_s": round(delay, 3), "attempt": attempt})
            await asyncio.sleep(delay)

    async def _session(self, ws) -> None:
        pinger = asyncio.create_task(self._pinger(ws))
        try:
            while True:
                text = await asyncio.wait_for(ws.recv(), timeout=SILENCE_LIMIT_S)
                self.handle(json.loads(text))
        finally:
            pinger.cancel()

    async def _pinger(self, ws) -> None:
        while True:
            await asyncio.sleep(PING_INTERVAL_S)
            await ws.send('{"type":"ping"}')

    def handle(self, message: dict) -> None:
        kind = message.get("type")
        if kind == "state":
            self.seqs = dict(message.get("seqs") or {message.get("stream", "members"): message.get("seq", 0)})
            self.state = message
            self.connected.set()
            self.on_state(message)
            return
        stream, seq = message.get("stream"), message.get("seq")
        if stream is None or seq is None:  # replies, errors, pongs: not part of a stream
            self.on_event(message)
            return
        if self.state is None:
            return  # the state is on its way and already includes this
        last = self.seqs.get(stream, 0)
        if seq != last + 1:
            self.on_note("resync", {"stream": stream, "expected": last + 1, "got": seq})
            self.request_state("gap" if seq > last else "lower")
            return
        self.seqs[stream] = seq
        for key, value in (message.get("payload") or {}).items():
            if key in self.state:
                self.state[key] = value
        self.on_event(message)

    def request_state(self, reason: str) -> None:
        if self.ws is not None:
            asyncio.ensure_future(self.ws.send(json.dumps({"type": "state.request", "reason": reason})))

    async def send(self, message: dict) -> None:
        await self.connected.wait()
        await self.ws.send(json.dumps(message))

    async def close(self) -> None:
        self.stopped = True
        if self.ws is not None:
            await self.ws.close()


def sign_in(server: str, username: str, password: str) -> str:
    """Sign in through the login form; return the session cookie's value."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login = server.rstrip("/") + "/accounts/login/"
    opener.open(login, timeout=10).read()
    token = next((c.value for c in jar if c.name == "csrftoken"), "")
    data = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": token}
    ).encode()
    request = urllib.request.Request(login, data=data, headers={"Referer": login})
    opener.open(request, timeout=10).read()
    session = next((c.value for c in jar if c.name == "sessionid"), "")
    if not session:
        raise SystemExit("sign-in failed: check the user name and password")
    return session


def ws_urls(servers: list[str], sitting: int, *, public: bool) -> list[str]:
    path = f"/ws/public/sittings/{sitting}/" if public else f"/ws/sittings/{sitting}/"
    return [re.sub(r"^http", "ws", s.rstrip("/")) + path for s in servers]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--server", action="append", default=[], help="http://host:port (repeat for failover)"
    )
    parser.add_argument("--sitting", type=int)
    parser.add_argument("--public", action="store_true", help="follow the public view (no sign-in)")
    parser.add_argument(
        "--url", action="append", default=[], help="a WebSocket URL instead of --server/--sitting"
    )
    parser.add_argument("--session", help="session cookie value")
    parser.add_argument("--username")
    parser.add_argument("--password")
    parser.add_argument("--count", type=int, default=0, help="stop after this many events (0: never)")
    parser.add_argument("--once", action="store_true", help="print the first full state and stop")
    args = parser.parse_args(argv)

    urls = args.url or ws_urls(
        args.server or ["http://127.0.0.1:8000"], args.sitting or 0, public=args.public
    )
    if not args.url and not args.sitting:
        parser.error("--sitting is required with --server")
    session = args.session
    if not session and args.username and not args.public:
        session = sign_in((args.server or ["http://127.0.0.1:8000"])[0], args.username, args.password or "")
    headers = {"Cookie": f"sessionid={session}"} if session else {}
    seen = 0

    def out(kind: str, data: dict) -> None:
        print(json.dumps({"at": round(time.time(), 3), "kind": kind, **data}, ensure_ascii=False), flush=True)

    follower: Follower

    def on_event(message: dict) -> None:
        nonlocal seen
        out("event", {"message": message})
        seen += 1
        if args.count and seen >= args.count:
            follower.stopped = True
            asyncio.ensure_future(follower.close())

    def on_state(state: dict) -> None:
        out("state", {"state": state})
        if args.once:
            follower.stopped = True
            asyncio.ensure_future(follower.close())

    follower = Follower(
        urls, headers=headers, on_state=on_state, on_event=on_event, on_note=out, reconnect=not args.once
    )
    try:
        asyncio.run(follower.run())
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
