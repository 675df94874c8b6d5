"""bench/ and tests/ never import each other in a cycle: the tests may use the benchmarks' support
code and reference client; nothing under bench/ imports the tests."""

from __future__ import annotations

import ast
from pathlib import Path

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
