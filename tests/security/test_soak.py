"""The soak benchmark at reduced size (bench/soak.py runs the full 60 + 300 for 10 minutes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.servers import ROOT

pytestmark = pytest.mark.slow


def test_soak_reduced_no_missed_final_states(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env["COUNCIL_VAR_DIR"] = str(tmp_path)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.soak",
            "--members",
            "6",
            "--public",
            "20",
            "--seconds",
            "8",
            "--votes",
            "3",
            "--turn-every",
            "0.5",
            "--database-url",
            f"sqlite:///{tmp_path / 'soak.sqlite3'}",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["votes"] == 3 and report["turns"] >= 10
    assert report["missed_final_pages"] == 0
    assert report["missed_receipts"] == 0
    assert report["turns_measured"] == report["turns"]  # every follower had every page
    assert report["p99_ms"] < 2000
    for start, end in zip(report["rss_mb_start"], report["rss_mb_end"], strict=True):
        assert end - start < 100, f"server memory grew from {start} MB to {end} MB"
