"""Worker heartbeats: the worker beats, the health check reads."""

from __future__ import annotations

import datetime
import os
import socket
import threading

from django.db import close_old_connections
from django.utils import timezone

from council.ops.models import WorkerHeartbeat

BEAT_EVERY_S = 5.0
STALE_AFTER = datetime.timedelta(seconds=30)


def beat(*, worker_id: str, started_at: datetime.datetime) -> None:
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "host": socket.gethostname()[:200],
            "pid": os.getpid(),
            "started_at": started_at,
            "seen_at": timezone.now(),
        },
    )


def stop(*, worker_id: str) -> None:
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


def live_workers(*, now: datetime.datetime | None = None) -> list[WorkerHeartbeat]:
    now = now or timezone.now()
    return list(WorkerHeartbeat.objects.filter(seen_at__gte=now - STALE_AFTER).order_by("-seen_at"))


class HeartbeatThread(threading.Thread):
    """Beats from a thread of its own, so a long job (a 300-page PDF) does not look like a dead worker."""

    def __init__(self, worker_id: str):
        super().__init__(name="worker-heartbeat", daemon=True)
        self.worker_id = worker_id
        self.started_at = timezone.now()
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                beat(worker_id=self.worker_id, started_at=self.started_at)
            except Exception:  # the database is away: the health check will say so
                pass
            finally:
                close_old_connections()
            self.stopping.wait(BEAT_EVERY_S)
