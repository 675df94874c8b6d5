"""Serving benchmark: 30 tablets fetch a 150 MB packet at once with range requests; server memory stays flat.

``python -m bench.serve [--clients 30] [--file-mb 150] [--window-mb 40] [--range-kb 1024] [--full]``

Sets up a scratch database and media folder under bench/out/serve/, stores a 150 MB file as the
served copy of a released document, signs a councillor in, and starts a real daphne. Then each
client (a thread with its own keep-alive connection) reads a random ``window-mb`` stretch of the
file as consecutive ``range-kb`` range requests, checking every 206 answer; with ``--full`` each
client then also downloads the whole file at once. A sampler reads daphne's resident memory
every 20 ms. ``rss_growth_mb`` is the peak during the run minus the baseline after a warm-up
request. Target: < 50 MB.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


# --- shared with bench.reader_bytes -----------------------------------------------------------


def prepare_django(folder: Path) -> dict[str, str]:
    """A scratch SQLite database and media folder; Django set up on them, migrated."""
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "media").mkdir(parents=True)
    env = {
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "MEDIA_ROOT": str(folder / "media"),
        "COUNCIL_VAR_DIR": str(folder),
        "COUNCIL_DEMO": "0",
        "DJANGO_SETTINGS_MODULE": "council.settings",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PYTHONUNBUFFERED": "1",
    }
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return env


def make_member_and_document(*, served_path: Path, title: str, page_count: int = 1):
    """A council with a councillor, and a released members-only document served from ``served_path``."""
    import datetime

    from django.contrib.auth import get_user_model
    from django.core.files.storage import default_storage
    from django.utils import timezone

    from council.models import Body, Council, Person
    from documents.models import Document, DocumentVersion

    council = Council.objects.create(
        name="ベンチ町議会",
        municipality="ベンチ町",
        seats=10,
        term_start=datetime.date(2023, 5, 1),
        term_end=datetime.date(2027, 4, 30),
    )
    plenary = Body.objects.create(council=council, name="本会議", kind=Body.Kind.PLENARY)
    user = get_user_model().objects.create_user(username=f"member{random.randrange(10**6)}", password=None)
    Person.objects.create(
        council=council,
        user=user,
        kind=Person.Kind.COUNCILLOR,
        family_name="議員",
        given_name="一",
        seat_number=1,
    )
    name = "documents/served/bench.pdf"
    target = Path(default_storage.path(name))
    target.parent.mkdir(parents=True, exist_ok=True)
    if served_path != target:
        shutil.copyfile(served_path, target)
    document = Document.objects.create(
        council=council,
        body=plenary,
        title=title,
        visibility=Document.Visibility.MEMBERS,
        release_state=Document.Release.RELEASED,
        released_at=timezone.now(),
    )
    version = DocumentVersion.objects.create(
        document=document,
        number=1,
        served_file=name,
        original_file=name,
        original_name="bench.pdf",
        original_sha256="0" * 64,
        served_sha256="1" * 64,
        size=target.stat().st_size,
        page_count=page_count,
    )
    return user, version


def session_cookie(user) -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_daphne(env: dict[str, str], log: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "council.asgi:application"],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=open(log, "wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(log.read_text(errors="replace"))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("daphne did not start")


# --- the benchmark ----------------------------------------------------------------------------


def write_file(path: Path, megabytes: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        block = os.urandom(1024 * 1024)
        for i in range(megabytes):
            f.write(block[i % 7 :] + block[: i % 7])


class Sampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        import psutil

        self.process = psutil.Process(pid)
        self.peak = 0
        self.running = True

    def rss(self) -> int:
        return self.process.memory_info().rss

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.rss())
            time.sleep(0.02)


def range_client(
    port: int, url: str, cookie: str, size: int, window: int, chunk: int, stats: dict, lock: threading.Lock
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    start = random.randrange(0, max(size - window, 1))
    received = requests = 0
    errors = []
    try:
        for first in range(start, min(start + window, size), chunk):
            last = min(first + chunk, size) - 1
            conn.request("GET", url, headers={"Cookie": cookie, "Range": f"bytes={first}-{last}"})
            response = conn.getresponse()
            body = response.read()
            requests += 1
            if response.status != 206 or len(body) != last - first + 1:
                errors.append(f"{response.status} {len(body)}")
            received += len(body)
    finally:
        conn.close()
    with lock:
        stats["bytes"] += received
        stats["requests"] += requests
        stats["errors"] += errors


def full_client(port: int, url: str, cookie: str, size: int, stats: dict, lock: threading.Lock) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    received = 0
    try:
        conn.request("GET", url, headers={"Cookie": cookie})
        response = conn.getresponse()
        while chunk := response.read(256 * 1024):
            received += len(chunk)
    finally:
        conn.close()
    with lock:
        stats["bytes"] += received
        stats["requests"] += 1
        if received != size:
            stats["errors"].append(f"full {received}")


def slow_client(
    port: int, url: str, cookie: str, rate: float, seconds: float, stats: dict, lock: threading.Lock
) -> None:
    """A tablet on poor Wi-Fi: reads a full download at ``rate`` bytes/s, then gives up."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    sock.sendall(f"GET {url} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n\r\n".encode())
    received = 0
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        data = sock.recv(64 * 1024)
        if not data:
            break
        received += len(data)
        ahead = received / rate - (time.monotonic() - started)
        if ahead > 0:
            time.sleep(ahead)
    sock.close()
    with lock:
        stats["bytes"] += received
        stats["requests"] += 1


def run_clients(target, args_list) -> float:
    threads = [threading.Thread(target=target, args=a) for a in args_list]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=30)
    parser.add_argument("--file-mb", type=int, default=150)
    parser.add_argument("--window-mb", type=int, default=40)
    parser.add_argument("--range-kb", type=int, default=1024)
    parser.add_argument("--full", action="store_true", help="also download the whole file with every client")
    parser.add_argument(
        "--slow-clients",
        type=int,
        default=10,
        help="then this many clients download the whole file at --slow-rate-mb/s for --slow-seconds",
    )
    parser.add_argument("--slow-rate-mb", type=float, default=2.0)
    parser.add_argument("--slow-seconds", type=float, default=6.0)
    args = parser.parse_args(argv)

    folder = OUT / "serve"
    env = prepare_django(folder)
    big = OUT / f"serve-{args.file_mb}mb.bin"
    if not big.exists() or big.stat().st_size < args.file_mb * 1024 * 1024:
        write_file(big, args.file_mb)
    user, version = make_member_and_document(served_path=big, title="ベンチマーク資料")
    cookie = session_cookie(user)
    from django.urls import reverse

    url = reverse("documents:version_file", args=[version.pk])
    size = version.size
    proc, port = start_daphne(env, folder / "daphne.log")
    try:
        sampler = Sampler(proc.pid)
        cold = sampler.rss()
        # Warm up at full concurrency (imports, thread pools, one database connection per worker
        # thread), so the baseline holds what any busy server holds; then measure the run.
        warm = {"bytes": 0, "requests": 0, "errors": []}
        run_clients(
            range_client,
            [
                (port, url, cookie, size, 4 * 1024 * 1024, args.range_kb * 1024, warm, threading.Lock())
                for _ in range(args.clients)
            ],
        )
        time.sleep(0.5)
        baseline = sampler.rss()
        sampler.start()
        stats = {"bytes": 0, "requests": 0, "errors": []}
        lock = threading.Lock()
        seconds = run_clients(
            range_client,
            [
                (port, url, cookie, size, args.window_mb * 1024 * 1024, args.range_kb * 1024, stats, lock)
                for _ in range(args.clients)
            ],
        )
        ranges_peak = sampler.peak
        full = {"bytes": 0, "requests": 0, "errors": []}
        full_seconds = 0.0
        if args.full:
            full_seconds = run_clients(
                full_client, [(port, url, cookie, size, full, lock) for _ in range(args.clients)]
            )
        before_slow_peak = sampler.peak
        slow = {"bytes": 0, "requests": 0, "errors": []}
        if args.slow_clients:
            run_clients(
                slow_client,
                [
                    (port, url, cookie, args.slow_rate_mb * 1024 * 1024, args.slow_seconds, slow, lock)
                    for _ in range(args.slow_clients)
                ],
            )
        sampler.running = False
        sampler.join()
    finally:
        proc.terminate()
        proc.wait(10)
    mb = 1024 * 1024
    result = {
        "benchmark": "serve",
        "clients": args.clients,
        "file_mb": round(size / mb, 1),
        "range_kb": args.range_kb,
        "range_requests": stats["requests"],
        "range_bytes_mb": round(stats["bytes"] / mb, 1),
        "range_seconds": round(seconds, 2),
        "range_throughput_mb_s": round(stats["bytes"] / mb / seconds, 1),
        "full_downloads": full["requests"],
        "full_bytes_mb": round(full["bytes"] / mb, 1),
        "full_seconds": round(full_seconds, 2),
        "slow_clients": args.slow_clients,
        "slow_rate_mb_s": args.slow_rate_mb,
        "slow_bytes_mb": round(slow["bytes"] / mb, 1),
        "rss_peak_slow_mb": round(sampler.peak / mb, 1)
        if sampler.peak > before_slow_peak
        else round(before_slow_peak / mb, 1),
        "errors": len(stats["errors"]) + len(full["errors"]),
        "rss_cold_mb": round(cold / mb, 1),
        "rss_baseline_mb": round(baseline / mb, 1),
        "rss_peak_ranges_mb": round(ranges_peak / mb, 1),
        "rss_peak_mb": round(sampler.peak / mb, 1),
        "rss_growth_mb": round((sampler.peak - baseline) / mb, 1),
        "target_growth_mb": 50,
    }
    print(json.dumps(result))
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
