"""bench/ and tests/ never import each other in a cycle: the tests may use the benchmarks' support
code and reference client; nothing under bench/ imports the tests."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


def test_nothing_under_bench_imports_the_tests():
    offenders = []
    for path in sorted(BENCH.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [
                f"{path.relative_to(BENCH.parent)}: {name}"
                for name in names
                if name == "tests" or name.startswith("tests.")
            ]
    assert not offenders, offenders


@pytest.mark.slow  # imports every benchmark and its browser driver
def test_every_benchmark_imports():
    """A benchmark whose imports broke (a helper moved to bench/support/) fails here, not in the
    one slow test that happens to run it."""
    import subprocess
    import sys

    modules = [
        "bench." + ".".join(path.relative_to(BENCH).with_suffix("").parts)
        for path in sorted(BENCH.rglob("*.py"))
        if path.name != "__init__.py"
    ]
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    done = subprocess.run(
        [sys.executable, "-c", code, *modules],
        cwd=BENCH.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
