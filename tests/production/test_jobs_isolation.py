"""A 100-page minutes render, queued and run by the job worker, leaves the followers' page-turn
latency within 1.5x of the latency without it (bench/jobs_isolation.py, on the embedded default)."""

import json
import os
import subprocess
import sys

import pytest

from tests.servers import ROOT

pytestmark = pytest.mark.slow


@pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")), reason="measured in the embedded pass (its own SQLite)"
)
def test_a_long_render_in_the_worker_leaves_page_turns_alone():
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL") and not k.startswith("COUNCIL_")
    }
    run = subprocess.run(
        [sys.executable, "-m", "bench.jobs_isolation", "--followers", "10", "--turns", "40"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["pages"] >= 100, result
    assert result["turns_during_render"] >= 20, result  # the turns really overlapped the render
    # The p95 (the p99 of ~400 samples is their four slowest: one hiccup of a shared machine fails it;
    # the benchmark reports both, docs/benchmarks.md).
    assert result["ratio_p95"] <= 1.5, json.dumps(result)
