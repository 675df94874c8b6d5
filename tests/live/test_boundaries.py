"""The live wing's boundaries: the hub and the sockets meet only at ``sockets.LiveSocket``, and only
``daphne_adapter`` knows daphne's, autobahn's and Twisted's internals."""

from __future__ import annotations

import ast
from pathlib import Path

LIVE = Path(__file__).resolve().parents[2] / "meetings" / "live"
HUB_SIDE = ("fanout.py", "recovery.py", "presence.py", "access.py")
SOCKET_SIDE = ("consumers.py", "transport.py", "dispatch.py")


def _private_uses(path: Path) -> list[str]:
    """``x._name`` where ``x`` is not ``self`` (or ``cls``): reaching into another object."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
                continue
            found.append(f"{path.name}:{node.lineno} .{node.attr}")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and str(node.args[1].value).startswith("_")
        ):
            found.append(f"{path.name}:{node.lineno} getattr {node.args[1].value}")
    return found


def test_the_hub_and_the_sockets_use_nothing_private_of_each_other():
    offenders = [use for name in HUB_SIDE + SOCKET_SIDE for use in _private_uses(LIVE / name)]
    assert not offenders, offenders


def test_only_the_adapter_knows_daphne_internals():
    internals = (
        "_tempDataLen",
        "dataBuffer",
        "onMessage",
        "onPing",
        "sendPreparedMessage",
        "real_send",
        "pauseProducing",
        "dropConnection",
    )
    offenders = []
    for path in sorted(LIVE.glob("*.py")):
        if path.name == "daphne_adapter.py":
            continue
        text = path.read_text(encoding="utf-8")
        offenders += [f"{path.name}: {name}" for name in internals if name in text]
    assert not offenders, offenders


def test_no_live_module_is_over_600_lines():
    long = {
        p.name: n for p in LIVE.glob("*.py") if (n := len(p.read_text(encoding="utf-8").splitlines())) > 600
    }
    assert not long, long
