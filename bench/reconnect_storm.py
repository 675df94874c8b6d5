"""A restart under a full chamber: kill -9 the server under N followers; how soon is everyone current?

    python -m bench.reconnect_storm                       # 1000 followers, one daphne, SQLite
    python -m bench.reconnect_storm --followers 2000 --servers 2 --layer redis \\
        --database postgres://postgres@127.0.0.1:5432/h_storm --redis redis://127.0.0.1:6379/2

Starts the real server (daphne; with ``--servers 2 --layer redis`` two processes sharing Redis and
the database), connects N followers (``bench.client.Follower``: resync, reconnect with full-jitter
backoff capped at 5 s, honouring 4503 "try again later") from several client processes, waits until
all have the state, then ``kill -9`` one server. While it is down the page is turned (so "current"
means: holds a state or event with the new sequence number). With one server it is restarted at
once; with two, its followers move to the other. Measured: the seconds from the moment the server
accepts connections again (one server) or from the kill (two) until every follower is current.

In the same run, the lower bound: a bare ``websockets`` server that sends each (re)connecting client
a state of the same size, killed and restarted the same way after the same downtime, with the same
clients. ``queries_per_connection`` counts every query the surviving or restarted server ran during
the recovery (a counting wrapper on its database connections) per handshake it completed.

Last line: one JSON object with ``seconds_all_current``, ``baseline_seconds``, ``ratio``,
``not_recovered``, ``queries_per_connection`` and more. Goal: ratio <= 2, not_recovered 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "reconnect_storm"


def raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen | None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"server on port {port} exited early (see {OUT})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise SystemExit(f"server on port {port} did not start")


# --- the database -------------------------------------------------------------------------------


def setup_database(database_url: str, redis_url: str | None) -> dict:
    """Migrate; a council with an open sitting presenting a 60-page document; members' sessions."""
    os.environ["DATABASE_URL"] = database_url
    if redis_url:
        os.environ["REDIS_URL"] = redis_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "council.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from bench.support.scenario import presenting_sitting, session_key_for

    call_command("migrate", verbosity=0, interactive=False)
    if not database_url.startswith("sqlite"):
        call_command("flush", verbosity=0, interactive=False)
    org = presenting_sitting(councillors=40)
    return {
        "sitting": org["sitting"].pk,
        "clerk": org["clerk"].user.pk,
        "followers": [session_key_for(m.user) for m in org["members"]],
    }


def turn_page(sitting_id: int, clerk_id: int, page: int) -> int:
    """Turn the page (as the clerk would) while the server is down; return the members' seq."""
    from django.contrib.auth import get_user_model

    from meetings.live.services import page_turn

    page_turn(sitting=sitting_id, actor=get_user_model().objects.get(pk=clerk_id), page=page)
    return current_seq(sitting_id)


def current_seq(sitting_id: int) -> int:
    from meetings.live.models import LiveState

    return LiveState.objects.get(sitting_id=sitting_id).seq


# --- servers ------------------------------------------------------------------------------------


def start_daphne(port: int, env: dict, stats_file: Path) -> subprocess.Popen:
    server_env = {**env, "COUNCIL_BENCH_STATS": str(stats_file)}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "bench.support.counting_asgi:application",
        ],
        cwd=ROOT,
        env=server_env,
        stdout=subprocess.DEVNULL,
        stderr=open(OUT / f"daphne-{port}.log", "ab"),
        preexec_fn=raise_nofile,
    )


def start_baseline(port: int, size: int, seq: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.reconnect_storm", "--baseline-server", str(port), str(size), str(seq)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=open(OUT / f"baseline-{port}.log", "ab"),
        preexec_fn=raise_nofile,
    )


def baseline_server(port: int, size: int, seq: int) -> None:
    """Every (re)connecting client gets a state of ``size`` bytes with ``seq``; nothing else."""
    from websockets.asyncio.server import broadcast, serve

    raise_nofile()
    state = {"type": "state", "stream": "members", "seq": seq, "seqs": {"members": seq}, "pad": ""}
    text = json.dumps(state, separators=(",", ":"))
    state["pad"] = "x" * max(0, size - len(text))
    text = json.dumps(state, separators=(",", ":"))

    clients: set = set()

    async def handler(ws):
        await ws.send(text)
        clients.add(ws)
        try:
            async for _message in ws:
                pass
        finally:
            clients.discard(ws)

    def turn() -> None:  # SIGUSR1: the page turns (as Redis brings it to a surviving process)
        nonlocal seq, text
        seq += 1
        state["seq"], state["seqs"] = seq, {"members": seq}
        text = json.dumps(state, separators=(",", ":"))
        event = json.dumps({"type": "session.page", "stream": "members", "seq": seq, "payload": {}})
        broadcast(clients, event)

    async def main():
        asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, turn)
        async with serve(handler, "127.0.0.1", port, compression=None, ping_interval=20, backlog=4096):
            await asyncio.Future()

    asyncio.run(main())


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def read_stats(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


# --- client processes ---------------------------------------------------------------------------


def worker(conn) -> None:
    raise_nofile()
    asyncio.run(_worker(conn))


async def _worker(conn) -> None:
    from bench.client import Follower

    loop = asyncio.get_running_loop()
    followers: list[Follower] = []
    tasks: list[asyncio.Task] = []
    seqs: list[int] = []
    became: list[float] = []
    target = 0
    state_size = 0
    reported = -1
    commands: asyncio.Queue = asyncio.Queue()
    loop.add_reader(conn.fileno(), lambda: commands.put_nowait(conn.recv()))

    def make(i: int, urls: list[str]) -> Follower:
        def on_state(state: dict) -> None:
            nonlocal state_size
            seqs[i] = max(seqs[i], int(state.get("seq", 0)))
            if not state_size:
                state_size = len(json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode())
            if target and seqs[i] >= target and not became[i]:
                became[i] = time.monotonic()

        def on_event(message: dict) -> None:
            if message.get("stream") == "members" and isinstance(message.get("seq"), int):
                seqs[i] = max(seqs[i], message["seq"])
                if target and seqs[i] >= target and not became[i]:
                    became[i] = time.monotonic()

        return Follower(urls, on_state=on_state, on_event=on_event)

    async def report_loop() -> None:
        nonlocal reported
        while True:
            await asyncio.sleep(0.05)
            if not target:
                continue
            done = sum(1 for t in became if t)
            if done != reported:
                reported = done
                conn.send(("progress", done, max(became) if done == len(became) else 0.0))

    reporter = loop.create_task(report_loop())
    while True:
        command = await commands.get()
        if command[0] == "connect":
            _, urls, cookies, count = command
            target, state_size, reported = 0, 0, -1
            followers = []
            seqs[:] = [0] * count
            became[:] = [0.0] * count
            for i in range(count):
                f = make(i, urls)
                f.url_index = i % len(urls)
                f.headers = {"Cookie": f"sessionid={cookies[i % len(cookies)]}"} if cookies else {}
                followers.append(f)
            sem = asyncio.Semaphore(20)

            async def start(f: Follower, sem: asyncio.Semaphore = sem) -> None:
                async with sem:
                    tasks.append(loop.create_task(f.run()))
                    await asyncio.wait_for(f.connected.wait(), 120)

            await asyncio.gather(*(start(f) for f in followers), return_exceptions=True)
            conn.send(("connected", sum(1 for f in followers if f.connected.is_set()), state_size))
        elif command[0] == "target":
            target = command[1]
            for i in range(len(followers)):
                if seqs[i] >= target and not became[i]:
                    became[i] = time.monotonic()
            reported = -1
        elif command[0] == "stop":
            for f in followers:
                f.stopped = True
            await asyncio.gather(*(f.close() for f in followers), return_exceptions=True)
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            tasks.clear()
            target = 0
            conn.send(("stopped",))
        elif command[0] == "exit":
            reporter.cancel()
            return


class Clients:
    def __init__(self, processes: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.pipes = []
        self.procs = []
        for _ in range(processes):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=worker, args=(child,), daemon=True)
            proc.start()
            self.pipes.append(parent)
            self.procs.append(proc)

    def connect(self, urls: list[str], cookies: list[str], total: int) -> tuple[int, int]:
        share = [
            total // len(self.pipes) + (1 if i < total % len(self.pipes) else 0)
            for i in range(len(self.pipes))
        ]
        for pipe, count in zip(self.pipes, share, strict=True):
            pipe.send(("connect", urls, cookies, count))
        connected, size = 0, 0
        for pipe in self.pipes:
            _kind, n, s = pipe.recv()
            connected += n
            size = max(size, s)
        return connected, size

    def wait_current(self, target: int, timeout: float) -> tuple[int, float]:
        """(followers current, the moment the last became current or 0) within ``timeout``."""
        for pipe in self.pipes:
            pipe.send(("target", target))
        done = [0] * len(self.pipes)
        last = [0.0] * len(self.pipes)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not all(last):
            for i, pipe in enumerate(self.pipes):
                while pipe.poll():
                    _kind, n, t = pipe.recv()
                    done[i], last[i] = n, t
            time.sleep(0.02)
        return sum(done), (max(last) if all(last) else 0.0)

    def stop(self) -> None:
        for pipe in self.pipes:
            pipe.send(("stop",))
        for pipe in self.pipes:
            while pipe.recv()[0] != "stopped":
                pass

    def close(self) -> None:
        for pipe in self.pipes:
            pipe.send(("exit",))
        for proc in self.procs:
            proc.join(timeout=5)


# --- one run ------------------------------------------------------------------------------------


def run(args) -> dict:
    global OUT
    raise_nofile()
    if args.out:
        OUT = Path(args.out)
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*"):
        if old.is_file():
            old.unlink()
    redis_url = args.redis if args.layer == "redis" else None
    database_url = args.database or f"sqlite:///{OUT / 'db.sqlite3'}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "COUNCIL_VAR_DIR": str(OUT),
        "COUNCIL_DEMO": "0",
        "DJANGO_SETTINGS_MODULE": "council.settings",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PYTHONUNBUFFERED": "1",
        "COUNCIL_REQUIRE_SECOND_FACTOR": "0",
    }
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    if args.layer == "redis" and redis_url:
        import redis

        redis.Redis.from_url(redis_url).flushdb()
    scene = setup_database(database_url, redis_url)
    clients = Clients(args.processes)
    ports = [free_port() for _ in range(args.servers)]
    stats_files = [OUT / f"stats-{p}.json" for p in ports]
    servers = [start_daphne(p, env, f) for p, f in zip(ports, stats_files, strict=True)]
    for p, proc in zip(ports, servers, strict=True):
        wait_port(p, proc)
    urls = [f"ws://127.0.0.1:{p}/ws/sittings/{scene['sitting']}/" for p in ports]
    result: dict = {"followers": args.followers, "servers": args.servers, "layer": args.layer}
    try:
        connected, state_size = clients.connect(urls, scene["followers"], args.followers)
        result["connected_before"] = connected
        result["state_bytes"] = state_size
        # Kill one server; turn the page while it is down; restart it at once (one server) or let
        # its followers move to the other (two).
        victim = servers[0]
        before = read_stats(stats_files[-1]) if args.servers > 1 else {}
        killed = time.monotonic()
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait()
        target = turn_page(scene["sitting"], scene["clerk"], page=2)
        if args.servers == 1:
            profiled = {**env, "COUNCIL_BENCH_PROFILE": str(OUT / "restarted.prof")} if args.profile else env
            servers[0] = start_daphne(ports[0], profiled, stats_files[0])
            wait_port(ports[0], servers[0])
            ready = time.monotonic()
        else:
            ready = killed
        downtime = ready - killed
        serving = servers[0] if args.servers == 1 else servers[-1]
        cpu_before = cpu_s(serving.pid)
        current, last = clients.wait_current(target, args.timeout)
        result["server_cpu_s"] = round(cpu_s(serving.pid) - cpu_before, 2)
        result["seconds_all_current"] = round(last - ready, 3) if last else None
        result["seconds_from_kill"] = round(last - killed, 3) if last else None
        result["downtime_s"] = round(downtime, 3)
        result["not_recovered"] = args.followers - current
        time.sleep(1.2)  # the servers write their counts every half second
        after = read_stats(stats_files[0] if args.servers == 1 else stats_files[-1])
        queries = after.get("queries", 0) - before.get("queries", 0)
        handshakes = after.get("served", 0) - before.get("served", 0)
        result["server"] = {
            k: after.get(k, 0) - before.get(k, 0) for k in ("admitted", "served", "refused", "abandoned")
        }
        result["queries"] = queries
        result["queries_per_connection"] = round(queries / handshakes, 3) if handshakes else None
        clients.stop()
        for proc in servers:
            proc.kill()
            proc.wait()

        if args.no_baseline:
            return result
        # The bare websockets bound: the same clients, the same kill, the same downtime.
        bports = [free_port() for _ in range(args.servers)]
        seq0 = target - 1
        baselines = [start_baseline(p, state_size, seq0) for p in bports]
        for p, proc in zip(bports, baselines, strict=True):
            wait_port(p, proc)
        burls = [f"ws://127.0.0.1:{p}/ws/sittings/{scene['sitting']}/" for p in bports]
        clients.connect(burls, [], args.followers)
        killed = time.monotonic()
        os.kill(baselines[0].pid, signal.SIGKILL)
        baselines[0].wait()
        if args.servers == 1:
            time.sleep(max(0.0, downtime - (time.monotonic() - killed)))
            baselines[0] = start_baseline(bports[0], state_size, target)
            wait_port(bports[0], baselines[0])
            ready = time.monotonic()
        else:
            os.kill(baselines[1].pid, signal.SIGUSR1)  # the page turns on the survivor
            ready = killed
        bserving = baselines[0] if args.servers == 1 else baselines[-1]
        cpu_before = cpu_s(bserving.pid)
        bcurrent, blast = clients.wait_current(target, args.timeout)
        result["baseline_cpu_s"] = round(cpu_s(bserving.pid) - cpu_before, 2)
        result["baseline_seconds"] = round(blast - ready, 3) if blast else None
        result["baseline_not_recovered"] = args.followers - bcurrent
        clients.stop()
        for proc in baselines:
            proc.kill()
            proc.wait()
    finally:
        clients.close()
        for proc in servers:
            if proc.poll() is None:
                proc.kill()
    a, b = result.get("seconds_all_current"), result.get("baseline_seconds")
    result["ratio"] = round(a / b, 2) if a and b else None
    result["load_average"] = [round(x, 2) for x in os.getloadavg()]
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--followers", type=int, default=1000)
    parser.add_argument("--servers", type=int, choices=(1, 2), default=1)
    parser.add_argument("--layer", choices=("memory", "redis"), default="memory")
    parser.add_argument("--database", help="DATABASE_URL (default: a scratch SQLite file)")
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/2"))
    parser.add_argument("--processes", type=int, default=4, help="client processes")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for recovery")
    parser.add_argument("--profile", action="store_true", help="cProfile the restarted server's loop (30 s)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the bare websockets bound")
    parser.add_argument("--out", help="scratch folder (default bench/out/reconnect_storm)")
    parser.add_argument("--baseline-server", nargs=3, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.baseline_server:
        baseline_server(*args.baseline_server)
        return
    if args.servers > 1 and args.layer != "redis":
        parser.error("two servers share their events through Redis: add --layer redis")
    print(json.dumps(run(args)), flush=True)


if __name__ == "__main__":
    main()
