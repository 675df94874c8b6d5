"""Crowds of live followers in client processes, and page turns timed through them.

Used by ``bench.fanout`` (thousands of followers, timed) and by its reduced test in ``tests/live``
(a hundred followers, nothing missed). A crowd is connected in phases (say the 60 members first,
then 5,000 public viewers), each by its own client processes, so that the servers' memory and CPU
can be read before and after each phase; then the presenter turns the page and every follower
records when each new page reached it.

How the client side is kept out of the server figures: memory and CPU are read from ``/proc`` of the
server processes only (the clients run in processes of their own); connecting is timed from a "go"
sent to client processes that are already started (their start-up and imports are not counted); the
clients' own CPU time during connecting is reported beside the servers' (``client_cpu_s``). The
delivery times do include the clients' work (reading and parsing the frame): that is why every
figure is compared with a bare broadcast server measured through the same client processes.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import random
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.support.stats import percentile

CLK_TCK = os.sysconf("SC_CLK_TCK")
# A follower retries a refused or dropped handshake with jittered backoff, as the reference client
# does, up to this many tries; the retries and their reasons are reported.
MAX_TRIES = 8


# --- measuring processes ------------------------------------------------------------------------


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def raise_nofile() -> int:
    """Raise this process's open-file limit to its hard limit (each socket is a file); return it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def origin_of(url: str) -> str:
    return "http://" + url.split("//", 1)[1].split("/", 1)[0]


# --- one client process -------------------------------------------------------------------------


def worker(conn, targets: list[tuple[str, str | None]], concurrency: int) -> None:
    """Open a follower for each ``(url, session cookie or None)``; see ``_worker``."""
    raise_nofile()
    asyncio.run(_worker(conn, targets, concurrency))


async def _open(url: str, cookie: str | None, stats: dict):
    """Connect and read the first message (the state); retry refusals with jittered backoff."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, InvalidHandshake

    headers = {"Cookie": f"sessionid={cookie}"} if cookie else {}
    for attempt in range(MAX_TRIES):
        ws = None
        try:
            ws = await connect(
                url,
                additional_headers=headers,
                origin=origin_of(url),
                open_timeout=60,
                ping_interval=None,
                close_timeout=2,
                compression=None,
                proxy=None,
                max_size=2**22,
            )
            text = await asyncio.wait_for(ws.recv(), 60)
            first = json.loads(text)
            if first.get("type") != "state":
                raise RuntimeError(f"first message is {first.get('type')!r}, not a state")
            stats["state_bytes"] = max(stats.get("state_bytes", 0), len(text.encode()))
            return ws
        except (InvalidHandshake, ConnectionClosed, TimeoutError, OSError) as exc:
            # InvalidHandshake: a refusal (HTTP 403/429/503) or a handshake the server dropped
            # (daphne drops one it has not completed within 5 s).
            if ws is not None:
                await ws.close()
            status = getattr(getattr(exc, "response", None), "status_code", None)
            code = getattr(getattr(exc, "rcvd", None), "code", None)
            stats["retries"] += 1
            stats.setdefault("why", {}).setdefault(f"{type(exc).__name__} {status or code or ''}".strip(), 0)
            stats["why"][f"{type(exc).__name__} {status or code or ''}".strip()] += 1
            if attempt == MAX_TRIES - 1:
                raise
            await asyncio.sleep(random.uniform(0, min(5.0, 0.25 * 2**attempt)))
    raise RuntimeError("unreachable")


async def _worker(conn, targets, concurrency) -> None:
    loop = asyncio.get_running_loop()
    commands: asyncio.Queue = asyncio.Queue()

    def on_command() -> None:
        while conn.poll():
            commands.put_nowait(conn.recv())

    loop.add_reader(conn.fileno(), on_command)
    conn.send(("started", os.getpid()))
    assert await commands.get() == "go"

    arrivals: list[list[tuple[int, float]] | None] = [[] for _ in targets]
    got: dict[int, int] = {}
    sizes: list[int] = []
    stats = {"retries": 0}
    state = {"ready": 0, "failed": 0, "counted": 0}
    alive: list = []
    sem = asyncio.Semaphore(concurrency)

    async def follower(i: int) -> None:
        url, cookie = targets[i]
        try:
            async with sem:
                ws = await _open(url, cookie, stats)
        except Exception as exc:  # noqa: BLE001 - reported as a failed connection
            state["failed"] += 1
            arrivals[i] = None  # counted as failed, not as missing every turn
            print(f"crowd: connect failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            return
        alive.append(ws)
        state["ready"] += 1
        mine = arrivals[i]
        try:
            async for text in ws:
                if '"session.page"' not in text:
                    continue
                now = time.monotonic()
                page = json.loads(text)["payload"]["presentation"]["page"]
                if not sizes:
                    sizes.append(len(text.encode()))
                mine.append((page, now))
                got[page] = got.get(page, 0) + 1
                if got[page] == state["counted"]:
                    conn.send(("done", page, now))
                    del got[page]
        except Exception:  # noqa: BLE001 - a closed connection just stops counting
            pass

    cpu0 = time.process_time()
    tasks = [loop.create_task(follower(i)) for i in range(len(targets))]
    while state["ready"] + state["failed"] < len(targets):
        await asyncio.sleep(0.02)
    state["counted"] = state["ready"]
    conn.send(("ready", state["ready"], state["failed"], stats, time.process_time() - cpu0))
    assert await commands.get() == "stop"
    loop.remove_reader(conn.fileno())
    conn.send(("result", arrivals, sizes[0] if sizes else 0))
    await asyncio.gather(*(ws.close() for ws in alive), return_exceptions=True)
    for t in tasks:
        t.cancel()


# --- a run: connect in phases, turn pages, collect --------------------------------------------------


@dataclass
class Phase:
    """Followers connected together: ``targets`` split over ``workers`` client processes."""

    name: str
    targets: list[tuple[str, str | None]]
    workers: int = 1
    result: dict = field(default_factory=dict)


class _Clients:
    """The client processes of every phase and the messages they send back."""

    def __init__(self) -> None:
        self.ctx = multiprocessing.get_context("spawn")
        self.pipes: list = []
        self.procs: list = []
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.loop = asyncio.get_running_loop()

    def spawn(self, targets, concurrency: int) -> int:
        parent, child = self.ctx.Pipe()
        proc = self.ctx.Process(target=worker, args=(child, targets, concurrency), daemon=True)
        proc.start()
        index = len(self.pipes)
        self.pipes.append(parent)
        self.procs.append(proc)

        def reader(pipe=parent, i=index):
            try:
                while pipe.poll():
                    self.inbox.put_nowait((i, pipe.recv()))
            except (EOFError, OSError):
                self.loop.remove_reader(pipe.fileno())
                self.inbox.put_nowait((i, ("gone",)))

        self.loop.add_reader(parent.fileno(), reader)
        return index

    async def expect(self, kind: str, indexes: list[int], timeout: float) -> dict[int, tuple]:
        """The next ``kind`` message of each of ``indexes`` (other kinds met meanwhile are dropped)."""
        wanted, found = set(indexes), {}
        deadline = time.monotonic() + timeout
        while wanted:
            i, msg = await asyncio.wait_for(self.inbox.get(), max(0.01, deadline - time.monotonic()))
            if msg[0] == "gone" and i in wanted:
                raise RuntimeError(f"client process {i} died")
            if msg[0] == kind and i in wanted:
                found[i] = msg
                wanted.discard(i)
        return found

    def close(self) -> None:
        for pipe in self.pipes:
            try:
                self.loop.remove_reader(pipe.fileno())
            except (ValueError, OSError):
                pass
        for proc in self.procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()


async def _presenter(url: str, cookie: str | None):
    from websockets.asyncio.client import connect

    ws = await connect(
        url,
        additional_headers={"Cookie": f"sessionid={cookie}"} if cookie else {},
        origin=origin_of(url),
        ping_interval=None,
        compression=None,
        proxy=None,
        max_size=2**22,
    )
    json.loads(await ws.recv())

    async def drain():
        try:
            async for _ in ws:
                pass
        except Exception:  # noqa: BLE001
            pass

    return ws, asyncio.create_task(drain())


async def run_crowd(
    *,
    server_pids: list[int],
    presenter_urls: list[str],
    presenter_cookie: str | None,
    warm_targets: list[tuple[str, str | None]],
    phases: list[Phase],
    turns: int,
    warmup: int = 3,
    concurrency: int = 16,
    turn_timeout: float = 15.0,
    connect_timeout: float = 600.0,
    pause: float = 0.1,
) -> dict:
    """Connect ``phases`` one after the other, then send ``warmup + turns`` page turns (one per
    presenter socket: several only for bare broadcast servers, which share nothing) and measure.

    ``warm_targets`` are connected first from here (one per server), so code loaded on first use is
    not counted per follower. Returns the figures; ``phases[i].result`` holds each phase's own.
    """
    presenters = [await _presenter(url, presenter_cookie) for url in presenter_urls]
    warm = [await _presenter(url, cookie) for url, cookie in warm_targets]
    await asyncio.sleep(1.0)
    clients = _Clients()
    all_workers: list[int] = []
    try:
        for phase in phases:
            per = [
                phase.targets[k :: phase.workers]
                for k in range(phase.workers)
                if phase.targets[k :: phase.workers]
            ]
            indexes = [clients.spawn(targets, concurrency) for targets in per]
            started = await clients.expect("started", indexes, 120)
            client_pids = [started[i][1] for i in indexes]
            await asyncio.sleep(0.5)
            rss0 = sum(rss_kb(p) for p in server_pids)
            scpu0 = sum(cpu_s(p) for p in server_pids)
            t0 = time.monotonic()
            for i in indexes:
                clients.pipes[i].send("go")
            ready = await clients.expect("ready", indexes, connect_timeout)
            connect_s = time.monotonic() - t0
            scpu1 = sum(cpu_s(p) for p in server_pids)
            ccpu = sum(msg[4] for msg in ready.values())
            await asyncio.sleep(1.5)
            rss1 = sum(rss_kb(p) for p in server_pids)
            connected = sum(msg[1] for msg in ready.values())
            retries, why, state_bytes = 0, {}, 0
            for msg in ready.values():
                retries += msg[3]["retries"]
                state_bytes = max(state_bytes, msg[3].get("state_bytes", 0))
                for k, v in msg[3].get("why", {}).items():
                    why[k] = why.get(k, 0) + v
            phase.result = {
                "followers": len(phase.targets),
                "connected": connected,
                "failed": sum(msg[2] for msg in ready.values()),
                "retries": retries,
                "retry_reasons": why,
                "state_bytes": state_bytes,
                "connect_seconds": round(connect_s, 2),
                "rss_growth_kb": rss1 - rss0,
                "kb_per_follower": round((rss1 - rss0) / max(1, connected), 1),
                "server_cpu_s": round(scpu1 - scpu0, 2),
                "client_cpu_s": round(ccpu, 2),
                "client_processes": len(indexes),
                "client_pids": client_pids,
            }
            all_workers += indexes

        schedule: list[tuple[int, float]] = []  # (page, sent at) of every turn
        last_ms: list[float] = []
        turns_late = 0
        page = 1
        cpu0 = None
        for t in range(warmup + turns):
            if t == warmup:
                cpu0 = sum(cpu_s(p) for p in server_pids)
            page = 2 + (t % 50) if page != 2 + (t % 50) else 3 + (t % 50)
            sent = time.monotonic()
            schedule.append((page, sent))
            for ws, _ in presenters:
                await ws.send(json.dumps({"type": "page.turn", "page": page}))
            done: dict[int, float] = {}
            deadline = sent + turn_timeout
            while len(done) < len(all_workers):
                try:
                    i, msg = await asyncio.wait_for(
                        clients.inbox.get(), max(0.01, deadline - time.monotonic())
                    )
                except TimeoutError:
                    turns_late += 1
                    break
                if msg[0] == "done" and msg[1] == page:
                    done[i] = msg[2]
                elif msg[0] == "gone":
                    raise RuntimeError(f"client process {i} died")
            if t >= warmup and len(done) == len(all_workers):
                last_ms.append((max(done.values()) - sent) * 1000)
            await asyncio.sleep(pause)
        cpu1 = sum(cpu_s(p) for p in server_pids)
        await asyncio.sleep(0.5)  # stragglers of the last turn

        for i in all_workers:
            clients.pipes[i].send("stop")
        results = await clients.expect("result", all_workers, 120)
    finally:
        clients.close()
        for ws, drainer in presenters + warm:
            drainer.cancel()
            await ws.close()

    # Match each follower's arrivals to the turns, in order (consecutive pages always differ).
    latencies: list[float] = []
    missed = 0
    followers = 0
    for i in all_workers:
        _, arrivals, size = results[i]
        for mine in arrivals:
            if mine is None:  # never connected: reported as failed
                continue
            followers += 1
            j = 0
            for k, (page, sent) in enumerate(schedule):
                if j < len(mine) and mine[j][0] == page:
                    if k >= warmup:
                        latencies.append((mine[j][1] - sent) * 1000)
                    j += 1
                else:
                    missed += 1
    offset = 0
    for phase in phases:
        n = phase.result["client_processes"]
        phase.result["frame_bytes"] = max(results[i][2] for i in all_workers[offset : offset + n])
        offset += n
    return {
        "followers": followers,
        "turns": turns,
        "deliveries_expected": followers * len(schedule),
        "missed": missed,
        "turns_late": turns_late,
        "p50_ms": round(percentile(latencies, 0.5), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "max_ms": round(max(latencies), 2) if latencies else None,
        "last_p50_ms": round(percentile(last_ms, 0.5), 2),
        "last_p99_ms": round(percentile(last_ms, 0.99), 2),
        "server_cpu_ms_per_turn": round((cpu1 - cpu0) * 1000 / max(1, turns), 2),
        "phases": {phase.name: phase.result for phase in phases},
    }
