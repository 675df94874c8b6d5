"""The job worker: django-tasks' database worker (``db_worker``) plus a heartbeat for /healthz.

Runs every queued job (minutes drafts and PDFs, notice e-mails) outside the request and WebSocket
processes. ``make run`` starts one beside daphne; production runs ``gikai-worker.service``.
"""

from __future__ import annotations

from django_tasks_db.management.commands import db_worker

from council.ops import heartbeat


class Command(db_worker.Command):
    help = "Run the job worker (django-tasks database backend) with a heartbeat for the health check"

    def handle(self, *args, **options):
        worker_id = options["worker_id"]
        beats = heartbeat.HeartbeatThread(worker_id)
        beats.start()
        try:
            return super().handle(*args, **options)
        finally:
            beats.stopping.set()
            try:
                heartbeat.stop(worker_id=worker_id)
            except Exception:
                pass
