"""Real server processes for tests: daphne on a free port, sharing the test database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_database_url() -> str:
    """The URL of the database the current test uses, for a server subprocess."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


def server_env(**extra: str) -> dict[str, str]:
    env = os.environ.copy()
    env.update(
        DATABASE_URL=test_database_url(),
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        COUNCIL_AUDIT_CHECKPOINT_LOG=str(settings.COUNCIL_AUDIT_CHECKPOINT_LOG),
        COUNCIL_AUDIT_KEY_FILE=str(settings.COUNCIL_AUDIT_KEY_FILE),
        COUNCIL_DEMO="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        PYTHONUNBUFFERED="1",
        COUNCIL_TASKS_BACKEND="immediate",  # jobs at once, unless the test starts a worker (start_worker)
    )
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.update(extra)
    return env


@dataclass
class Daphne:
    port: int
    env: dict[str, str]
    proc: subprocess.Popen | None = None
    log: Path | None = None
    extra_args: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> Daphne:
        self.log = Path(settings.MEDIA_ROOT).parent / f"daphne-{self.port}.log"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        out = open(self.log, "wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(self.port),
                *self.extra_args,
                "council.asgi:application",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"daphne exited early:\n{self.log.read_text(errors='replace')}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("daphne did not start in time")

    def kill(self) -> None:
        """kill -9, as a crash would."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def start_daphne(**extra_env: str) -> Daphne:
    return Daphne(port=free_port(), env=server_env(**extra_env)).start()


@dataclass
class Worker:
    """The job worker (``manage.py run_worker``), sharing the test's database."""

    env: dict[str, str]
    proc: subprocess.Popen | None = None
    log: Path | None = None

    def start(self, timeout: float = 30.0) -> Worker:
        from council.ops.heartbeat import live_workers

        self.log = Path(settings.MEDIA_ROOT).parent / f"worker-{os.getpid()}-{time.monotonic_ns()}.log"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "run_worker",
                "--interval",
                "0.2",
                "--no-startup-delay",
                "--no-reload",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=open(self.log, "wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.log.read_text(errors='replace')}")
            if any(w.pid == self.proc.pid for w in live_workers()):
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("the job worker did not start in time")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def start_worker(**extra_env: str) -> Worker:
    """A job worker; servers that should queue jobs for it need ``COUNCIL_TASKS_BACKEND="database"``."""
    return Worker(env=server_env(COUNCIL_TASKS_BACKEND="database", **extra_env)).start()


class PrivateRedis:
    """A redis-server of the test's own on a free port, to stop and restart without touching the
    Redis that other runs use."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
