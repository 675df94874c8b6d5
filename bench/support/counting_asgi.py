"""The real ASGI application, counting every database query and the live handshakes (benchmarks).

``COUNCIL_BENCH_STATS`` names a file rewritten every half second with ``{"queries", "admitted",
"completed", "refused", "abandoned"}`` (a process killed with -9 leaves its last counts there).
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import time

from council.asgi import application  # noqa: F401  (sets Django up)

_queries = itertools.count()
_seen = [0]


def _count(execute, sql, params, many, context):
    _seen[0] = next(_queries) + 1
    return execute(sql, params, many, context)


def _on_connection(sender, connection, **kwargs) -> None:
    if _count not in connection.execute_wrappers:
        connection.execute_wrappers.append(_count)


def _writer(path: str) -> None:
    from meetings.live import handshake
    from meetings.live.admission import admission

    while True:
        time.sleep(0.5)
        data = {"queries": _seen[0], **admission.stats(), "completed": admission.completed}
        for batcher in (handshake.users, handshake.grants, handshake.states):
            data[batcher.name] = batcher.stats()
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(data, f)
        os.replace(tmp, path)


if os.environ.get("COUNCIL_BENCH_STATS"):
    from django.db.backends.signals import connection_created

    connection_created.connect(_on_connection)
    threading.Thread(target=_writer, args=(os.environ["COUNCIL_BENCH_STATS"],), daemon=True).start()


def _profile(path: str, seconds: float) -> None:
    """Profile the event loop's thread for ``seconds`` after start-up, then write pstats to ``path``."""
    import cProfile

    profiler = cProfile.Profile()
    profiler.enable()

    def stop() -> None:
        time.sleep(seconds)
        profiler.disable()
        profiler.dump_stats(path)

    threading.Thread(target=stop, daemon=True).start()


if os.environ.get("COUNCIL_BENCH_PROFILE"):
    _profile(os.environ["COUNCIL_BENCH_PROFILE"], float(os.environ.get("COUNCIL_BENCH_PROFILE_S", "30")))
