"""Page-turn fan-out: from the presenter's send to the last follower receiving the page.

    python -m bench.fanout --clients 1000
    python -m bench.fanout --clients 2000 --layer redis --servers 2

Starts the real server (daphne, one or more processes; ``--layer redis`` shares them through
channels_redis), connects N followers to one sitting from several client processes (the
``websockets`` library), turns the page 50 times and measures, for each turn, the time from the
presenter's send to the moment the LAST follower has the new page. In the same run it measures the
lower bound: a plain ``websockets`` broadcast server with the same N clients, the same client
processes and the same message size. Also reported: server CPU per turn and server memory per
connected follower (RSS growth / N).

Last line: one JSON object with ``clients``, ``p50_ms``, ``p99_ms``, ``baseline_p50_ms``,
``baseline_p99_ms``, ``ratio`` (p99 / baseline p99), ``kb_per_connection`` and more.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- measuring processes ------------------------------------------------------------------------


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


# --- the database and the real server -----------------------------------------------------------


def setup_database(database_url: str) -> dict:
    """Migrate, create a council with an open sitting presenting a 60-page document, and sessions."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "council.settings")
    import django

    django.setup()
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.core.management import call_command
    from django.utils import timezone

    from bench.support import factories
    from documents.models import Document, DocumentVersion
    from meetings.live.models import LiveState
    from meetings.models import AgendaItemDocument, Sitting

    call_command("migrate", verbosity=0, interactive=False)
    org = factories.make_small_council()
    sitting = org["sitting"]
    Sitting.objects.filter(pk=sitting.pk).update(status=Sitting.Status.OPEN, opened_at=timezone.now())
    item = factories.make_agenda_item(sitting)
    doc = Document.objects.create(
        council=org["council"],
        body=org["plenary"],
        title="議案第45号 町税条例の一部改正について",
        visibility=Document.Visibility.PUBLIC,
        release_state=Document.Release.RELEASED,
        released_at=timezone.now(),
    )
    version = DocumentVersion.objects.create(
        document=doc,
        number=1,
        served_file="documents/served/bench.pdf",
        original_file="documents/original/bench.pdf",
        original_name="bench.pdf",
        original_sha256="0" * 64,
        served_sha256="0" * 64,
        size=1,
        page_count=60,
    )
    AgendaItemDocument.objects.create(agenda_item=item, document=doc)
    LiveState.objects.update_or_create(
        sitting=sitting, defaults=dict(agenda_item=item, document=doc, version=version, page=1)
    )
    engine = import_module(settings.SESSION_ENGINE)

    def session_for(user) -> str:
        store = engine.SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.save()
        return store.session_key

    return {
        "sitting": sitting.pk,
        "presenter": session_for(org["clerk"].user),
        "followers": [session_for(m.user) for m in org["members"][1:]],
    }


def start_daphne(port: int, env: dict) -> subprocess.Popen:
    import socket

    proc = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "council.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(Path(env["COUNCIL_VAR_DIR"]) / f"daphne-{port}.log", "wb"),
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"daphne exited early; see {env['COUNCIL_VAR_DIR']}/daphne-{port}.log")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("daphne did not start")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the lower bound: a plain websockets broadcast server ---------------------------------------


def baseline_server(port: int, size: int) -> None:
    """Every connection gets a small state; a page.turn from anyone is broadcast to all others."""
    import websockets
    from websockets.asyncio.server import serve

    clients: set = set()
    seq = 0

    async def handler(ws):
        nonlocal seq
        await ws.send(
            json.dumps({"type": "state", "stream": "members", "seq": seq, "seqs": {"members": seq}})
        )
        clients.add(ws)
        try:
            async for text in ws:
                message = json.loads(text)
                if message.get("type") == "page.turn":
                    seq += 1
                    event = {
                        "type": "session.page",
                        "stream": "members",
                        "seq": seq,
                        "sitting": 1,
                        "payload": {
                            "presentation": {
                                "document_id": 1,
                                "version_id": 1,
                                "version_number": 1,
                                "title": "",
                                "page": message["page"],
                                "page_count": 60,
                            }
                        },
                    }
                    text_out = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
                    pad = max(0, size - len(text_out.encode()))
                    event["payload"]["presentation"]["title"] = "x" * pad
                    websockets.broadcast(
                        clients, json.dumps(event, ensure_ascii=False, separators=(",", ":"))
                    )
        finally:
            clients.discard(ws)

    async def main():
        async with serve(handler, "127.0.0.1", port, compression=None, ping_interval=20, max_size=2**20):
            await asyncio.Future()

    asyncio.run(main())


# --- client processes ---------------------------------------------------------------------------


def worker(conn, urls: list[str], cookies: list[str], count: int, origin_by_url: dict) -> None:
    """Open ``count`` followers; report when every one of them has each new page."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(_worker(conn, urls, cookies, count, origin_by_url))


async def _worker(conn, urls, cookies, count, origin_by_url) -> None:
    from websockets.asyncio.client import connect

    loop = asyncio.get_running_loop()
    got: dict[int, int] = {}
    last: dict[int, float] = {}
    sizes: list[int] = []
    ready = 0
    failed = 0
    alive: list = []
    sem = asyncio.Semaphore(12)
    stop = asyncio.Event()
    n_ok = 0

    async def follower(i: int) -> None:
        nonlocal ready, failed
        url = urls[i % len(urls)]
        headers = {"Cookie": f"sessionid={cookies[i % len(cookies)]}"} if cookies else {}
        try:
            async with sem:
                ws = await connect(
                    url,
                    additional_headers=headers,
                    origin=origin_by_url[url],
                    open_timeout=60,
                    ping_interval=None,
                    compression=None,
                    proxy=None,
                    max_size=2**22,
                )
                first = json.loads(await asyncio.wait_for(ws.recv(), 60))
                assert first["type"] == "state", first
        except Exception as exc:  # noqa: BLE001 - reported as a failed connection
            failed += 1
            print(f"worker: connect failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            return
        alive.append(ws)
        ready += 1
        try:
            async for text in ws:
                now = time.monotonic()
                if '"session.page"' not in text:
                    continue
                message = json.loads(text)
                page = message["payload"]["presentation"]["page"]
                if not sizes:
                    sizes.append(len(text.encode()))
                got[page] = got.get(page, 0) + 1
                last[page] = now
                if got[page] == n_ok:
                    conn.send(("done", page, now))
                    got.pop(page, None)
        except Exception:  # noqa: BLE001 - a closed connection just stops counting
            pass

    tasks = [loop.create_task(follower(i)) for i in range(count)]
    while ready + failed < count:
        await asyncio.sleep(0.05)
    n_ok = ready
    conn.send(("ready", ready, failed))

    def on_command() -> None:
        if conn.poll():
            command = conn.recv()
            if command == "stop":
                stop.set()

    loop.add_reader(conn.fileno(), on_command)
    await stop.wait()
    loop.remove_reader(conn.fileno())
    conn.send(("stats", sizes[0] if sizes else 0))
    for ws in alive:
        await ws.close()
    for t in tasks:
        t.cancel()


# --- one run: connect, turn 50 pages, measure ----------------------------------------------------


async def run_case(
    *,
    name: str,
    server_pids: list[int],
    urls: list[str],
    presenter_url: str,
    presenter_cookie: str,
    follower_cookies: list[str],
    clients: int,
    workers: int,
    turns: int,
    warmup: int,
) -> dict:
    from websockets.asyncio.client import connect

    ctx = multiprocessing.get_context("spawn")
    origin_by_url = {u: "http://" + u.split("//", 1)[1].split("/", 1)[0] for u in urls + [presenter_url]}
    headers = {"Cookie": f"sessionid={presenter_cookie}"} if presenter_cookie else {}
    presenter = await connect(
        presenter_url,
        additional_headers=headers,
        origin=origin_by_url[presenter_url],
        ping_interval=None,
        compression=None,
        proxy=None,
        max_size=2**22,
    )
    json.loads(await presenter.recv())

    async def drain():
        try:
            async for _ in presenter:
                pass
        except Exception:  # noqa: BLE001
            pass

    drainer = asyncio.create_task(drain())
    # One follower per server first, so code loaded on first use is not counted per connection.
    warm = []
    for url in urls:
        ws = await connect(
            url,
            additional_headers={"Cookie": f"sessionid={follower_cookies[0]}"} if follower_cookies else {},
            origin=origin_by_url[url],
            ping_interval=None,
            compression=None,
            proxy=None,
        )
        json.loads(await ws.recv())
        warm.append(ws)
    await asyncio.sleep(1.0)
    rss0 = sum(rss_kb(p) for p in server_pids)

    pipes, procs = [], []
    per = [clients // workers + (1 if i < clients % workers else 0) for i in range(workers)]
    started = time.monotonic()
    for i in range(workers):
        parent, child = ctx.Pipe()
        # Each worker spreads its followers over every server.
        proc = ctx.Process(
            target=worker, args=(child, urls, follower_cookies, per[i], origin_by_url), daemon=True
        )
        proc.start()
        pipes.append(parent)
        procs.append(proc)
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue = asyncio.Queue()
    for i, pipe in enumerate(pipes):

        def reader(pipe=pipe, i=i):
            while pipe.poll():
                inbox.put_nowait((i, pipe.recv()))

        loop.add_reader(pipe.fileno(), reader)
    ready = failed = 0
    for _ in range(workers):
        while True:
            i, msg = await asyncio.wait_for(inbox.get(), 600)
            if msg[0] == "ready":
                ready += msg[1]
                failed += msg[2]
                break
    connect_s = time.monotonic() - started
    await asyncio.sleep(1.5)
    rss1 = sum(rss_kb(p) for p in server_pids)

    latencies: list[float] = []
    missing = 0
    page = 1
    cpu0 = None
    for t in range(warmup + turns):
        if t == warmup:
            cpu0 = sum(cpu_s(p) for p in server_pids)
        page = 2 + (t % 50) if page != 2 + (t % 50) else 3 + (t % 50)
        done: dict[int, float] = {}
        t0 = time.monotonic()
        await presenter.send(json.dumps({"type": "page.turn", "page": page}))
        deadline = t0 + 15
        while len(done) < workers:
            try:
                i, msg = await asyncio.wait_for(inbox.get(), max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                missing += 1
                break
            if msg[0] == "done" and msg[1] == page:
                done[i] = msg[2]
        if t >= warmup and len(done) == workers:
            latencies.append((max(done.values()) - t0) * 1000)
        await asyncio.sleep(0.1)
    cpu1 = sum(cpu_s(p) for p in server_pids)
    size = 0
    for pipe in pipes:
        pipe.send("stop")
    for _ in range(workers):
        while True:
            i, msg = await asyncio.wait_for(inbox.get(), 60)
            if msg[0] == "stats":
                size = max(size, msg[1])
                break
    for pipe in pipes:
        loop.remove_reader(pipe.fileno())
    for proc in procs:
        proc.join(10)
        if proc.is_alive():
            proc.kill()
    drainer.cancel()
    await presenter.close()
    for ws in warm:
        await ws.close()
    return {
        "name": name,
        "connected": ready,
        "failed": failed,
        "connect_s": round(connect_s, 2),
        "p50_ms": round(percentile(latencies, 0.5), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "max_ms": round(max(latencies), 2) if latencies else None,
        "turns_measured": len(latencies),
        "turns_missing": missing,
        "message_bytes": size,
        "rss_growth_kb": rss1 - rss0,
        "kb_per_connection": round((rss1 - rss0) / max(1, ready), 1),
        "server_cpu_ms_per_turn": round((cpu1 - cpu0) * 1000 / max(1, turns), 2),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--turns", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--workers", type=int, default=4, help="client processes")
    parser.add_argument("--layer", choices=["memory", "redis"], default="memory")
    parser.add_argument(
        "--servers", type=int, default=1, help="daphne processes (more than one needs --layer redis)"
    )
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/14")
    parser.add_argument(
        "--database-url",
        default="",
        help="default: a fresh SQLite file in a temporary folder; a postgres:// URL: a scratch "
        "database is created next to it and dropped at the end",
    )
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args(argv)
    if args.servers > 1 and args.layer != "redis":
        parser.error("several servers share page turns only through --layer redis")

    tmp = Path(tempfile.mkdtemp(prefix="bench-fanout-"))
    scratch = None
    if args.database_url.startswith("postgres"):
        import uuid

        import psycopg

        scratch = f"bench_fanout_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{scratch}"')
        database_url = args.database_url.rsplit("/", 1)[0] + "/" + scratch
    else:
        database_url = args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
    env = os.environ.copy()
    env.update(
        COUNCIL_VAR_DIR=str(tmp),
        DATABASE_URL=database_url,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        COUNCIL_DEMO="0",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        MEDIA_ROOT=str(tmp / "media"),
    )
    env.pop("REDIS_URL", None)
    os.environ.pop("REDIS_URL", None)
    if args.layer == "redis":
        env["REDIS_URL"] = args.redis_url
        os.environ["REDIS_URL"] = args.redis_url
        import redis

        redis.Redis.from_url(args.redis_url).flushdb()
    os.environ["COUNCIL_VAR_DIR"] = str(tmp)
    os.environ["MEDIA_ROOT"] = str(tmp / "media")
    data = setup_database(database_url)

    ports = [free_port() for _ in range(args.servers)]
    servers = [start_daphne(port, env) for port in ports]
    sitting = data["sitting"]
    urls = [f"ws://127.0.0.1:{p}/ws/sittings/{sitting}/" for p in ports]
    result: dict = {
        "benchmark": "fanout",
        "clients": args.clients,
        "servers": args.servers,
        "layer": args.layer,
        "database": "postgresql" if scratch else "sqlite",
        "workers": args.workers,
        "turns": args.turns,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    try:
        live = asyncio.run(
            run_case(
                name="live",
                server_pids=[s.pid for s in servers],
                urls=urls,
                presenter_url=urls[0],
                presenter_cookie=data["presenter"],
                follower_cookies=data["followers"],
                clients=args.clients,
                workers=args.workers,
                turns=args.turns,
                warmup=args.warmup,
            )
        )
    finally:
        for s in servers:
            s.terminate()
        for s in servers:
            try:
                s.wait(5)
            except subprocess.TimeoutExpired:
                s.kill()
                s.wait(5)
    if scratch:
        from django.db import connections

        connections.close_all()
        import psycopg

        with psycopg.connect(args.database_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
    print(json.dumps({"live": live}), flush=True)
    result.update(
        {
            k: live[k]
            for k in (
                "p50_ms",
                "p99_ms",
                "kb_per_connection",
                "server_cpu_ms_per_turn",
                "connected",
                "failed",
                "message_bytes",
                "turns_missing",
            )
        }
    )
    if not args.no_baseline:
        port = free_port()
        base = multiprocessing.get_context("spawn").Process(
            target=baseline_server, args=(port, live["message_bytes"]), daemon=True
        )
        base.start()
        time.sleep(1.0)
        url = f"ws://127.0.0.1:{port}/"
        try:
            baseline = asyncio.run(
                run_case(
                    name="baseline",
                    server_pids=[base.pid],
                    urls=[url],
                    presenter_url=url,
                    presenter_cookie="",
                    follower_cookies=[],
                    clients=args.clients,
                    workers=args.workers,
                    turns=args.turns,
                    warmup=args.warmup,
                )
            )
        finally:
            base.kill()
            base.join(5)
        print(json.dumps({"baseline": baseline}), flush=True)
        result.update(
            baseline_p50_ms=baseline["p50_ms"],
            baseline_p99_ms=baseline["p99_ms"],
            baseline_kb_per_connection=baseline["kb_per_connection"],
            baseline_server_cpu_ms_per_turn=baseline["server_cpu_ms_per_turn"],
            ratio=round(live["p99_ms"] / baseline["p99_ms"], 2) if baseline["p99_ms"] else None,
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
