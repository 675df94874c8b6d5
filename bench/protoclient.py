"""A small reference client of the live protocol, written from ``docs/protocol.md`` alone.

It shows (and the tests check) that the document is enough to write a client: it signs in over
HTTP the way the document says, opens the socket, keeps the state with the document's rules for
applying events and replies, notices gaps, asks for the state again, and reconnects.

    python -m bench.protoclient --server http://127.0.0.1:8000 --sitting 1 --username clerk --password …

prints one JSON object per line (``{"kind": "state"|"event"|"gap"|"reply"|"reconnect", ...}``) and,
last, ``{"states": n, "events": n, "gaps": n}``.

``FollowedState`` is the pure part (no I/O): the tests also use it to check that a state plus the
events a client received equals a fresh state (``tests/live/test_event_contract.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import itertools
import json
import random
import re
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from typing import Any

import websockets
from websockets.asyncio.client import connect

PING_S = 15.0
SILENCE_S = 40.0
NO_RECONNECT = {4401, 4403}  # signed out, no access: reconnecting would not help
TRY_AGAIN = 4503  # the server is saturated: retry within the seconds the close reason gives


class FollowedState:
    """One socket's view of a sitting: the last full state and the counter of every stream."""

    def __init__(self, state: dict) -> None:
        self.reset(state)

    def reset(self, state: dict) -> None:
        self.state = copy.deepcopy(state)
        self.state.pop("re", None)  # which request it answered is not part of the state
        self.seqs: dict[str, int] = dict(state.get("seqs") or {state["stream"]: state["seq"]})

    def apply(self, event: dict) -> str:
        """Apply one event; ``"applied"``, ``"old"`` (ignored), ``"gap"`` (ask for the state) or
        ``"other"`` (a stream this socket does not follow)."""
        stream, seq = event["stream"], event["seq"]
        if stream not in self.seqs:
            return "other"
        last = self.seqs[stream]
        if seq <= last:
            return "old"
        if seq > last + 1:
            return "gap"
        self.seqs[stream] = seq
        self.state["seqs"] = dict(self.seqs)
        if stream == self.state["stream"]:
            self.state["seq"] = seq
        kind, payload = event["type"], event.get("payload") or {}
        area, _dot, part = kind.partition(".")
        if kind == "voting.tally":
            poll = (self.state.get("parts", {}).get("poll") or {}).get("poll")
            if poll and poll.get("id") == payload.get("poll"):
                poll["voted"] = payload["voted"]
                if "not_yet" in poll and "voters" in payload:
                    gone = set(payload["voters"])
                    poll["not_yet"] = [p for p in poll["not_yet"] if p["id"] not in gone]
        elif area == "voting":
            self.state.setdefault("parts", {})[part] = payload
        elif kind == "presence.changed":
            pass  # a notice to the console; who is connected is not part of the state
        else:
            for key, value in payload.items():
                if key in self.state:
                    self.state[key] = value
        return "applied"

    def apply_reply(self, reply: dict) -> None:
        """Replies that change what concerns this user alone (``me``)."""
        if reply.get("type") == "vote.receipt" and self.state.get("me") is not None:
            ballots = self.state["me"].setdefault("ballots", {})
            ballots[str(reply["poll"])] = {"receipt": reply["receipt"], "choice": reply.get("choice")}


# --- over the network ------------------------------------------------------------------------


def sign_in(server: str, username: str, password: str) -> str:
    """Sign in as the document says; return the session cookie. The sign-in URL is where the site
    sends a visitor who is not signed in (``Location`` of ``GET /``)."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
    base = server.rstrip("/")
    try:
        opener.open(base + "/", timeout=10)
        raise RuntimeError("the home page did not ask to sign in")
    except urllib.error.HTTPError as exc:
        if exc.code not in (301, 302, 303):
            raise
        location = exc.headers["Location"]
    login = urllib.parse.urljoin(base + "/", location.split("?")[0])
    opener.open(login, timeout=10).read()
    token = next((c.value for c in jar if c.name == "csrftoken"), "")
    form = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token})
    request = urllib.request.Request(login, data=form.encode(), headers={"Referer": login})
    try:
        opener.open(request, timeout=10).read()
    except urllib.error.HTTPError as exc:  # the redirect after a successful sign-in
        if exc.code not in (302, 303):
            raise
    session = next((c.value for c in jar if c.name == "sessionid"), "")
    if not session:
        raise RuntimeError("sign-in failed")
    return session


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class ProtoClient:
    """A socket following one sitting: state, events, requests with replies, gaps and reconnects."""

    def __init__(
        self, server: str, sitting: int, *, session: str | None = None, public: bool = False
    ) -> None:
        base = re.sub(r"^http", "ws", server.rstrip("/"))
        self.url = f"{base}/ws/public/sittings/{sitting}/" if public else f"{base}/ws/sittings/{sitting}/"
        self.origin = server.rstrip("/")
        self.headers = {"Cookie": f"sessionid={session}"} if session else {}
        self.followed: FollowedState | None = None
        self.ws = None
        self.ids = itertools.count(1)
        self.replies: dict[Any, asyncio.Future] = {}
        self.log: list[dict] = []  # what happened: states, events, gaps, replies (tests read it)
        self.states = asyncio.Queue()
        self.events = asyncio.Queue()
        self.closed_with: int | None = None
        self._task: asyncio.Task | None = None
        self._stopped = False
        self._stated = asyncio.Event()
        self._had_state = False  # a state arrived on the current connection

    @property
    def state(self) -> dict | None:
        return self.followed.state if self.followed else None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self._stated.wait(), 20)

    async def stop(self) -> None:
        self._stopped = True
        if self.ws is not None:
            await self.ws.close()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def request(self, message: dict, timeout: float = 10) -> dict:
        """Send a request with an ``id``; return its answer (``ack``, a reply, ``state`` or ``error``)."""
        msg_id = f"p{next(self.ids)}"
        future = asyncio.get_running_loop().create_future()
        self.replies[msg_id] = future
        await self.ws.send(json.dumps({**message, "id": msg_id}))
        return await asyncio.wait_for(future, timeout)

    async def _run(self) -> None:
        attempt = 0
        while not self._stopped:
            hint = None
            try:
                async with connect(
                    self.url,
                    additional_headers=self.headers,
                    origin=self.origin,
                    open_timeout=10,
                    ping_interval=None,
                    proxy=None,
                ) as ws:
                    self.ws = ws
                    await self._read(ws)
            except websockets.exceptions.ConnectionClosed as exc:
                self.closed_with = exc.rcvd.code if exc.rcvd else None
                if self.closed_with == TRY_AGAIN:
                    try:
                        hint = max(0.0, float(exc.rcvd.reason))
                    except ValueError:
                        hint = 5.0
            except (OSError, TimeoutError, websockets.exceptions.WebSocketException) as exc:
                self.closed_with = getattr(getattr(exc, "response", None), "status_code", None)
            self.ws = None
            if self._stopped or self.closed_with in NO_RECONNECT:
                return
            if self._had_state:
                attempt = 0  # it had its state on that connection: start the backoff afresh
            self._had_state = False
            bound = 0.25 * 2**attempt if hint is None else max(hint, 0.25 * 2**attempt)
            delay = random.uniform(0, min(5.0, bound))  # full jitter
            attempt += 1
            self.log.append({"kind": "reconnect", "in_s": round(delay, 3), "code": self.closed_with})
            await asyncio.sleep(delay)

    async def _read(self, ws) -> None:
        pinger = asyncio.create_task(self._ping(ws))
        try:
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), SILENCE_S))
                await self._handle(message)
        finally:
            pinger.cancel()

    async def _ping(self, ws) -> None:
        while True:
            await asyncio.sleep(PING_S)
            await ws.send('{"type":"ping"}')

    async def _handle(self, message: dict) -> None:
        kind = message.get("type")
        future = self.replies.pop(message.get("re"), None) if "re" in message else None
        if kind == "state":
            if self.followed is None:
                self.followed = FollowedState(message)
            else:
                self.followed.reset(message)
            self.log.append({"kind": "state", "seqs": message["seqs"]})
            self._had_state = True
            self._stated.set()
            self.states.put_nowait(message)
            if message.get("incomplete"):
                # Parts the server could not build: ask for the whole state again shortly.
                asyncio.get_running_loop().call_later(
                    random.uniform(0.5, 1.5),
                    lambda ws=self.ws: (
                        ws
                        and asyncio.ensure_future(ws.send('{"type":"state.request","reason":"incomplete"}'))
                    ),
                )
        elif "stream" in message and "seq" in message:
            if self.followed is None:
                return  # the state is on its way and includes it
            outcome = self.followed.apply(message)
            self.log.append(
                {
                    "kind": "event",
                    "type": kind,
                    "stream": message["stream"],
                    "seq": message["seq"],
                    "outcome": outcome,
                }
            )
            if outcome == "gap":
                self.log.append({"kind": "gap", "stream": message["stream"], "seq": message["seq"]})
                await self.ws.send(json.dumps({"type": "state.request", "reason": "gap"}))
            elif outcome == "applied":
                self.events.put_nowait(message)
        else:
            if self.followed is not None:
                self.followed.apply_reply(message)
            self.log.append({"kind": "reply", "message": message})
        if future is not None and not future.done():
            future.set_result(message)


async def _main(args) -> None:
    session = None
    if args.username:
        session = await asyncio.to_thread(sign_in, args.server, args.username, args.password or "")
    client = ProtoClient(args.server, args.sitting, session=session, public=args.public)
    await client.start()
    print(json.dumps({"kind": "state", "state": client.state}, ensure_ascii=False), flush=True)
    try:
        for _ in range(args.count) if args.count else itertools.count():
            event = await client.events.get()
            print(json.dumps({"kind": "event", "event": event}, ensure_ascii=False), flush=True)
    finally:
        await client.stop()
    kinds = [entry["kind"] for entry in client.log]
    print(
        json.dumps(
            {"states": kinds.count("state"), "events": kinds.count("event"), "gaps": kinds.count("gap")}
        )
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--server", default="http://127.0.0.1:8000")
    parser.add_argument("--sitting", type=int, required=True)
    parser.add_argument("--public", action="store_true")
    parser.add_argument("--username")
    parser.add_argument("--password")
    parser.add_argument("--count", type=int, default=0, help="stop after this many events (0: never)")
    asyncio.run(_main(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
