"""Page-turn fan-out: from the presenter's send to the followers receiving the page.

    python -m bench.fanout --clients 1000
    python -m bench.fanout --clients 2000 --layer redis --servers 2
    python -m bench.fanout --public 5000 --members 60 --servers 2 --layer redis

Starts the real server (daphne, one or more processes; ``--layer redis`` shares them through
channels_redis and needs ``REDIS_URL`` and ``DATABASE_URL``, a scratch database being made next to
the latter), connects followers to one sitting from several client processes (the ``websockets``
library, ``bench.support.crowd``), turns the page 50 times and measures when each follower has the
new page. In the same run it measures the lower bound: a bare ``websockets`` broadcast server (as
many processes as ``--servers``) with the same number of clients, the same client processes and the
same frame size.

``--clients N``: N signed-in members (the original mode). ``p50_ms``/``p99_ms`` are over the turns,
of the time until the LAST follower has the page; ``kb_per_connection`` is the servers' RSS growth
per follower.

``--public N --members M`` (傍聴: a crowd of anonymous public viewers): the M members connect first,
then the N public viewers (``/ws/public/sittings/<id>/``); both spread over every server.
``p99_ms`` is over every delivery (each follower, each turn); ``last_p99_ms`` is the time until the
last follower; ``kb_per_public_follower`` is the servers' RSS growth while the public viewers
connected, divided by them; ``connect_seconds`` is the time to connect all of them (each has its
full state), from a "go" to client processes already started; ``missed`` counts (follower, turn)
pairs that never arrived.

Last line: one JSON object (``ratio`` = p99 / baseline p99).
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

from bench.support import crowd
from bench.support.crowd import Phase

ROOT = Path(__file__).resolve().parent.parent

# --- the database and the real server -----------------------------------------------------------


def setup_database(database_url: str, *, members: int = 9) -> dict:
    """Migrate, create a council with an open sitting presenting a public 60-page document, and a
    session for the clerk and for each of ``members`` members."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "council.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from bench.support.scenario import presenting_sitting, session_key_for

    call_command("migrate", verbosity=0, interactive=False)
    org = presenting_sitting(councillors=max(10, members + 1))
    return {
        "sitting": org["sitting"].pk,
        "presenter": session_key_for(org["clerk"].user),
        "followers": [session_key_for(m.user) for m in org["members"][1 : members + 1]],
    }


def start_daphne(port: int, env: dict) -> subprocess.Popen:
    import socket

    proc = subprocess.Popen(
        # The endpoint's backlog: Twisted's default (50) drops handshakes of a crowd arriving at once.
        [sys.executable, "-m", "daphne", "-e", f"tcp:port={port}:interface=127.0.0.1:backlog=1024"]
        + ["council.asgi:application"],
        cwd=ROOT,
        preexec_fn=crowd.raise_nofile,  # one file per socket: thousands of followers per process
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


def wait_for_port(port: int, timeout: float = 60) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the lower bound: a plain websockets broadcast server ---------------------------------------


def baseline_server(port: int, size: int, state_size: int = 0) -> None:
    """Every connection gets a state (padded to ``state_size`` bytes); a page.turn from anyone is
    broadcast (padded to ``size`` bytes) to every connection."""
    crowd.raise_nofile()
    import websockets
    from websockets.asyncio.server import serve

    clients: set = set()
    seq = 0

    async def handler(ws):
        nonlocal seq
        state = {"type": "state", "stream": "members", "seq": seq, "seqs": {"members": seq}, "pad": ""}
        state["pad"] = "x" * max(0, state_size - len(json.dumps(state)))
        await ws.send(json.dumps(state))
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
        async with serve(
            handler, "127.0.0.1", port, compression=None, ping_interval=20, max_size=2**20, backlog=4096
        ):
            await asyncio.Future()

    asyncio.run(main())


# --- running the cases ---------------------------------------------------------------------------


def run_case(*, server_pids, presenter_urls, presenter_cookie, warm_targets, phases, args) -> dict:
    return asyncio.run(
        crowd.run_crowd(
            server_pids=server_pids,
            presenter_urls=presenter_urls,
            presenter_cookie=presenter_cookie,
            warm_targets=warm_targets,
            phases=phases,
            turns=args.turns,
            warmup=args.warmup,
            concurrency=args.concurrency,
        )
    )


def spread(urls: list[str], count: int, cookies: list[str] | None) -> list[tuple[str, str | None]]:
    """``count`` followers over every server in turn (and over the members' sessions)."""
    return [(urls[i % len(urls)], cookies[i % len(cookies)] if cookies else None) for i in range(count)]


def live_phases(args, member_urls, public_urls, cookies) -> list[Phase]:
    if args.public is None:
        return [Phase("members", spread(member_urls, args.clients, cookies), args.workers)]
    phases = []
    if args.members:
        phases.append(Phase("members", spread(member_urls, args.members, cookies), 1))
    phases.append(Phase("public", spread(public_urls, args.public, None), args.workers))
    return phases


def old_summary(case: dict) -> dict:
    """The original mode's figures (``--clients``): to the last follower, as documented."""
    phase = case["phases"]["members"]
    return {
        "p50_ms": case["last_p50_ms"],
        "p99_ms": case["last_p99_ms"],
        "delivery_p99_ms": case["p99_ms"],
        "kb_per_connection": phase["kb_per_follower"],
        "server_cpu_ms_per_turn": case["server_cpu_ms_per_turn"],
        "connected": phase["connected"],
        "failed": phase["failed"],
        "connect_seconds": phase["connect_seconds"],
        "message_bytes": phase["frame_bytes"],
        "turns_missing": case["turns_late"],
        "missed": case["missed"],
    }


def crowd_summary(case: dict) -> dict:
    public = case["phases"]["public"]
    members = case["phases"].get("members", {})
    return {
        "p50_ms": case["p50_ms"],
        "p99_ms": case["p99_ms"],
        "max_ms": case["max_ms"],
        "last_p99_ms": case["last_p99_ms"],
        "missed": case["missed"],
        "deliveries_expected": case["deliveries_expected"],
        "kb_per_public_follower": public["kb_per_follower"],
        "kb_per_member_follower": members.get("kb_per_follower"),
        "connect_seconds": public["connect_seconds"],
        "connected": public["connected"] + members.get("connected", 0),
        "failed": public["failed"] + members.get("failed", 0),
        "connect_retries": public["retries"] + members.get("retries", 0),
        "server_cpu_s_connect": public["server_cpu_s"],
        "client_cpu_s_connect": public["client_cpu_s"],
        "server_cpu_ms_per_turn": case["server_cpu_ms_per_turn"],
        "public_frame_bytes": public["frame_bytes"],
        "member_frame_bytes": members.get("frame_bytes"),
        "public_state_bytes": public["state_bytes"],
    }


def need_urls(parser, args) -> tuple[str, str]:
    """``--layer redis`` shares Redis and a database between processes: both must be named."""
    database_url = args.database_url or os.environ.get("DATABASE_URL", "")
    redis_url = args.redis_url or os.environ.get("REDIS_URL", "")
    if args.layer == "redis":
        missing = [
            name
            for name, value in (
                ("REDIS_URL (or --redis-url)", redis_url),
                ("DATABASE_URL (or --database-url)", database_url),
            )
            if not value
        ]
        if missing:
            parser.error(
                "--layer redis runs several daphne processes sharing Redis and a database; set "
                + " and ".join(missing)
                + ", e.g. REDIS_URL=redis://127.0.0.1:6379/3 DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_crowd"
                " (the benchmark flushes that Redis database and works in a scratch database next to that one)"
            )
    return database_url if args.layer == "redis" or args.database_url else "", redis_url


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=1000, help="signed-in followers (original mode)")
    parser.add_argument("--public", type=int, default=None, help="anonymous public viewers (crowd mode)")
    parser.add_argument("--members", type=int, default=60, help="signed-in members beside --public")
    parser.add_argument("--turns", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument(
        "--workers",
        type=int,
        default=4,
        help="client processes (for the public: besides one for the members)",
    )
    parser.add_argument("--concurrency", type=int, default=16, help="handshakes in flight per client process")
    parser.add_argument("--layer", choices=["memory", "redis"], default="memory")
    parser.add_argument(
        "--servers", type=int, default=1, help="daphne processes (more than one needs --layer redis)"
    )
    parser.add_argument("--redis-url", default="", help="default: REDIS_URL (flushed!)")
    parser.add_argument(
        "--database-url",
        default="",
        help="default: DATABASE_URL with --layer redis, else a fresh SQLite file in a temporary folder; a "
        "postgres:// URL: a scratch database is created next to it and dropped at the end",
    )
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args(argv)
    if args.servers > 1 and args.layer != "redis":
        parser.error("several servers share page turns only through --layer redis")
    crowd.raise_nofile()
    given_database, redis_url = need_urls(parser, args)

    tmp = Path(tempfile.mkdtemp(prefix="bench-fanout-"))
    scratch = None
    if given_database.startswith("postgres"):
        import uuid

        import psycopg

        scratch = f"bench_fanout_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(given_database, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{scratch}"')
        database_url = given_database.rsplit("/", 1)[0] + "/" + scratch
    else:
        database_url = given_database or f"sqlite:///{tmp / 'bench.sqlite3'}"
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
        env["REDIS_URL"] = redis_url
        os.environ["REDIS_URL"] = redis_url
        import redis

        redis.Redis.from_url(redis_url).flushdb()
    os.environ["COUNCIL_VAR_DIR"] = str(tmp)
    os.environ["MEDIA_ROOT"] = str(tmp / "media")
    members = args.members if args.public is not None else 9
    data = setup_database(database_url, members=max(1, members))

    ports = [free_port() for _ in range(args.servers)]
    servers = [start_daphne(port, env) for port in ports]
    sitting = data["sitting"]
    member_urls = [f"ws://127.0.0.1:{p}/ws/sittings/{sitting}/" for p in ports]
    public_urls = [f"ws://127.0.0.1:{p}/ws/public/sittings/{sitting}/" for p in ports]
    cookies = data["followers"]
    result: dict = {
        "benchmark": "fanout",
        "mode": "clients" if args.public is None else "public",
        "servers": args.servers,
        "layer": args.layer,
        "database": "postgresql" if scratch else "sqlite",
        "workers": args.workers,
        "turns": args.turns,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    if args.public is None:
        result["clients"] = args.clients
    else:
        result.update(public=args.public, members=args.members)
    warm = [(url, cookies[0]) for url in member_urls]
    if args.public is not None:
        warm += [(url, None) for url in public_urls]
    try:
        live = run_case(
            server_pids=[s.pid for s in servers],
            presenter_urls=member_urls[:1],
            presenter_cookie=data["presenter"],
            warm_targets=warm,
            phases=live_phases(args, member_urls, public_urls, cookies),
            args=args,
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

        with psycopg.connect(given_database, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
    print(json.dumps({"live": live}), flush=True)
    summary = old_summary if args.public is None else crowd_summary
    result.update(summary(live))
    if not args.no_baseline:
        main_phase = live["phases"]["members" if args.public is None else "public"]
        count = 1 if args.public is None else args.servers  # the original mode: one bare process
        ctx = multiprocessing.get_context("spawn")
        ports = [free_port() for _ in range(count)]
        bases = [
            ctx.Process(
                target=baseline_server,
                args=(port, main_phase["frame_bytes"], main_phase["state_bytes"]),
                daemon=True,
            )
            for port in ports
        ]
        for base in bases:
            base.start()
        for port in ports:
            wait_for_port(port)
        urls = [f"ws://127.0.0.1:{port}/" for port in ports]
        phases = [
            Phase(phase.name, [(urls[i % len(urls)], None) for i in range(len(phase.targets))], phase.workers)
            for phase in live_phases(args, member_urls, public_urls, cookies)
        ]
        try:
            baseline = run_case(
                server_pids=[b.pid for b in bases],
                presenter_urls=urls,  # bare servers share nothing: the presenter turns on each
                presenter_cookie=None,
                warm_targets=[(url, None) for url in urls],
                phases=phases,
                args=args,
            )
        finally:
            for base in bases:
                base.kill()
                base.join(5)
        print(json.dumps({"baseline": baseline}), flush=True)
        base_summary = summary(baseline)
        result.update(
            {
                f"baseline_{k}": v
                for k, v in base_summary.items()
                if k
                in (
                    "p50_ms",
                    "p99_ms",
                    "last_p99_ms",
                    "kb_per_connection",
                    "kb_per_public_follower",
                    "connect_seconds",
                    "server_cpu_ms_per_turn",
                    "missed",
                )
            }
        )
        result["ratio"] = (
            round(result["p99_ms"] / result["baseline_p99_ms"], 2) if result["baseline_p99_ms"] else None
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
