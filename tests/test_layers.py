"""The layers hold: every module's imports (read with ``ast``, function-level imports included)
obey the rules of README and STYLE.md.

- ``council`` (the organisation) imports neither ``documents`` nor ``meetings``; the project's
  top (settings, URL and WebSocket routing, ASGI/WSGI) lives in ``council`` too and may import all;
- ``documents`` knows nothing of ``meetings``;
- ``meetings.attendance`` (the roll and the quorum) is the floor both ``meetings.live`` and
  ``meetings.voting`` stand on: it imports neither;
- ``meetings.live`` does not import ``meetings.voting``; voting builds on live (it registers its
  messages and state parts with the live protocol), so the two never import each other;
- the application imports nothing from ``bench``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
APPLICATION = ("council", "documents", "meetings")

# The project's top: these may import every app.
TOP = {
    "council/settings.py",
    "council/urls.py",
    "council/routing.py",
    "council/asgi.py",
    "council/wsgi.py",
}


@dataclass(frozen=True)
class Rule:
    source: str  # a package, dotted
    forbidden: str  # a package it may not import, dotted
    why: str


RULES = [
    Rule("council", "documents", "the organisation is the ground floor"),
    Rule("council", "meetings", "the organisation is the ground floor"),
    Rule("documents", "meetings", "documents knows nothing of meetings"),
    Rule("meetings.attendance", "meetings.live", "the roll is below the live sitting"),
    Rule("meetings.attendance", "meetings.voting", "the roll is below voting"),
    Rule("meetings.live", "meetings.voting", "voting builds on live, not the other way"),
    Rule("council", "bench", "bench is imported by nothing"),
    Rule("documents", "bench", "bench is imported by nothing"),
    Rule("meetings", "bench", "bench is imported by nothing"),
]


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, root: Path) -> list[tuple[int, str]]:
    """Every module ``path`` imports, absolute, with its line (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path, root)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((node.lineno, base))
            # ``from meetings import voting`` imports the subpackage.
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names if alias.name != "*"]
    return found


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def violations(root: Path) -> list[str]:
    """``path:line: imports X (why)`` for every import that breaks a rule."""
    found = []
    for top in APPLICATION:
        for path in sorted((root / top).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            if relative in TOP:
                continue
            source = module_name(path, root)
            lines_seen = set()
            for line, target in imports_of(path, root):
                rule = next(
                    (r for r in RULES if within(source, r.source) and within(target, r.forbidden)), None
                )
                if rule is not None and line not in lines_seen:  # one report per import statement
                    lines_seen.add(line)
                    found.append(f"{relative}:{line}: imports {target} ({rule.why})")
    return sorted(found)


def test_the_application_keeps_its_layers():
    assert violations(REPO) == []


def write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    for parent in path.relative_to(root).parents:
        if parent != Path("."):
            (root / parent / "__init__.py").touch()
    path.write_text(text, encoding="utf-8")


def test_the_checker_finds_each_kind_of_violation(tmp_path):
    write(tmp_path, "council/views.py", "def home():\n    from meetings.selectors import upcoming\n")
    write(tmp_path, "council/security/signals.py", "from meetings.live import fanout\n")
    write(
        tmp_path, "council/urls.py", "from meetings import views\nfrom documents import urls\n"
    )  # the top: allowed
    write(tmp_path, "documents/demo.py", "import meetings.models\n")
    write(tmp_path, "documents/annotations/selectors.py", "from ...meetings import models\n")
    write(tmp_path, "meetings/live/services.py", "from meetings.voting.quorum import quorum_status\n")
    write(tmp_path, "meetings/live/selectors.py", "from meetings import voting\n")
    write(tmp_path, "meetings/attendance/quorum.py", "from ..voting import rules\n")
    write(tmp_path, "meetings/voting/handlers.py", "from meetings.live.protocol import register\n")  # allowed
    write(tmp_path, "meetings/minutes/pdf.py", "from bench.client import Follower\n")
    write(tmp_path, "documents/fine.py", "from council.models import Person\nfrom documents import models\n")

    assert violations(tmp_path) == [
        "council/security/signals.py:1: imports meetings.live (the organisation is the ground floor)",
        "council/views.py:2: imports meetings.selectors (the organisation is the ground floor)",
        "documents/annotations/selectors.py:1: imports meetings (documents knows nothing of meetings)",
        "documents/demo.py:1: imports meetings.models (documents knows nothing of meetings)",
        "meetings/attendance/quorum.py:1: imports meetings.voting (the roll is below voting)",
        "meetings/live/selectors.py:1: imports meetings.voting (voting builds on live, not the other way)",
        "meetings/live/services.py:1: imports meetings.voting.quorum (voting builds on live, not the other way)",
        "meetings/minutes/pdf.py:1: imports bench.client (bench is imported by nothing)",
    ]


# Issue 13: parts a newcomer can read in one sitting. Migrations are generated, not read.
MAX_MODULE_LINES = 600


def long_modules(root: Path) -> list[str]:
    found = []
    for package in ("meetings", "documents"):
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > MAX_MODULE_LINES:
                found.append(f"{path.relative_to(root)}: {lines} lines")
    return found


def test_no_module_of_meetings_or_documents_is_over_600_lines(tmp_path):
    assert long_modules(REPO) == []
    # The check itself finds a long module, and leaves migrations alone.
    (tmp_path / "meetings" / "migrations").mkdir(parents=True)
    (tmp_path / "documents").mkdir()
    (tmp_path / "meetings" / "migrations" / "0001_initial.py").write_text("x = 1\n" * 900)
    (tmp_path / "documents" / "long.py").write_text("x = 1\n" * 601)
    (tmp_path / "documents" / "short.py").write_text("x = 1\n" * 600)
    assert long_modules(tmp_path) == ["documents/long.py: 601 lines"]
