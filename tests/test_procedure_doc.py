"""Every reference the code makes to the procedure document resolves: the file is in the
repository and has the section named."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REFERENCE = re.compile(r"docs/procedure\.md(?:#([a-z0-9-]+)|\s*\(((?:#[a-z0-9-]+(?:,\s*)?)+)\))?")


def sections() -> set[str]:
    return set(
        re.findall(r'<a id="([a-z0-9-]+)"></a>', (REPO / "docs" / "procedure.md").read_text(encoding="utf-8"))
    )


def references() -> list[tuple[str, str]]:
    found = []
    for top in ("council", "documents", "meetings", "README.md"):
        paths = [REPO / top] if top.endswith(".md") else (REPO / top).rglob("*.py")
        for path in paths:
            for match in REFERENCE.finditer(path.read_text(encoding="utf-8")):
                anchors = (
                    [match.group(1)] if match.group(1) else re.findall(r"#([a-z0-9-]+)", match.group(2) or "")
                )
                found += [(str(path.relative_to(REPO)), anchor) for anchor in anchors]
    return found


def test_the_code_points_at_sections_that_exist():
    refs = references()
    assert len(refs) >= 3  # the quorum, the special majorities, the decisions
    assert [(path, anchor) for path, anchor in refs if anchor not in sections()] == []


def test_nothing_points_outside_the_repository_any_more():
    for top in ("council", "documents", "meetings"):
        for path in (REPO / top).rglob("*.py"):
            assert "DOMAIN.md" not in path.read_text(encoding="utf-8"), path
