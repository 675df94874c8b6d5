"""A state part that fails (a dropped connection, say) leaves a state marked ``incomplete``: it is
never served to others from the cache, and the clients ask for the whole state again."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from meetings.live import state as live_state
from meetings.live.state import build_state
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_failed_part_marks_the_state_incomplete_and_is_not_cached(org, monkeypatch):
    sitting = factories.make_sitting(org["session"], org["plenary"])
    user = org["members"][3].user
    broken = {"on": True}

    def flaky(*, sitting, audience, user):
        if broken["on"]:
            raise ConnectionError("the database went away")
        return {"ok": True}

    monkeypatch.setitem(live_state._parts, "flaky", flaky)
    first = build_state(sitting_id=sitting.pk, audience="members", user=user)
    assert first["incomplete"] == ["flaky"]
    assert "flaky" not in first["parts"] and "poll" in first["parts"]  # the others still came

    broken["on"] = False  # same counters, within the cache's lifetime: built again, not cached
    second = build_state(sitting_id=sitting.pk, audience="members", user=user)
    assert second["parts"]["flaky"] == {"ok": True}
    assert "incomplete" not in second


CLIENT = """
globalThis.location = { protocol: "http:", host: "testserver" };
globalThis.document = { addEventListener() {}, visibilityState: "visible" };
const { LiveSocket } = await import(%s);
const socket = new LiveSocket("/ws/sittings/0/");
const sent = [];
socket.send = (message) => { sent.push(message); return "id"; };
const state = { type: "state", stream: "members", seq: 3, seqs: { members: 3 }, parts: {} };
socket.handle({ ...state, incomplete: ["poll"] });
await new Promise((resolve) => setTimeout(resolve, 1000));
const afterIncomplete = sent.length;
socket.handle(state);
await new Promise((resolve) => setTimeout(resolve, 1000));
process.stdout.write(JSON.stringify({ sent, afterIncomplete }));
"""


@pytest.mark.slow  # runs the browser client in node
def test_the_browser_client_asks_again_for_an_incomplete_state(tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (scripts/setup.sh installs it)")
    socket_js = Path(__file__).resolve().parents[2] / "static" / "js" / "live" / "socket.js"
    script = tmp_path / "incomplete.mjs"
    script.write_text(CLIENT % json.dumps(socket_js.as_uri()))
    done = subprocess.run([node, str(script)], capture_output=True, text=True, timeout=60, check=True)
    result = json.loads(done.stdout)
    assert result["afterIncomplete"] == 1
    assert result["sent"] == [
        {"type": "state.request", "reason": "incomplete"}
    ]  # once, not after a whole state
