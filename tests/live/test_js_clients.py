"""The browsers' live clients: one implementation of the protocol (static/js/live/socket.js)."""

from __future__ import annotations

import re
from pathlib import Path

STATIC_JS = Path(__file__).resolve().parents[2] / "static" / "js"


def test_the_voting_channel_reuses_the_live_socket_instead_of_its_own():
    source = (STATIC_JS / "voting" / "channel.js").read_text(encoding="utf-8")
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("//"))
    assert re.search(r'import\s*\{\s*LiveSocket\s*\}\s*from\s*"\.\./live/socket\.js"', code)
    for own_protocol in ("new WebSocket", "readyState", "setTimeout", "JSON.parse", "onclose", '"close"'):
        assert own_protocol not in code, f"channel.js re-implements the socket: {own_protocol}"


def test_only_socket_js_opens_live_websockets():
    opened = sorted(
        str(path.relative_to(STATIC_JS))
        for path in STATIC_JS.rglob("*.js")
        if "new WebSocket(" in path.read_text(encoding="utf-8")
    )
    assert opened == ["live/socket.js"]
