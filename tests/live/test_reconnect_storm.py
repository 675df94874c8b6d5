"""A restart under a full chamber, reduced: 200 followers on a real daphne; ``kill -9``, restart at
once; every follower must be current again (``python -m bench.reconnect_storm``, run as a separate
process; its timings are the benchmark's business, not this test's)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent.parent


def test_every_follower_recovers_after_kill_9_and_restart(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.reconnect_storm",
            "--followers",
            "200",
            "--processes",
            "2",
            "--timeout",
            "180",
            "--no-baseline",
            "--out",
            str(tmp_path / "storm"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["connected_before"] == 200
    assert result["not_recovered"] == 0, result
    assert result["server"]["served"] >= 200, result  # each one got a fresh state from the restarted server
