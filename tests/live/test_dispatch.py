"""Running handlers: the sender's reply, and group commit for types with a batch handler."""

from __future__ import annotations

import asyncio
import threading
import time

from django.core.exceptions import ValidationError

from meetings.live import dispatch
from meetings.live.protocol import Registered


def test_the_reply_echoes_the_id_and_names_the_request():
    message = {"type": "page.turn", "page": 2, "id": "c7"}
    assert dispatch.reply_for(message, None) == {"type": "ack", "for": "page.turn", "re": "c7"}
    assert dispatch.reply_for({"type": "page.turn", "page": 2}, None) is None  # no id: no ack
    refused = dispatch.reply_for(message, ValidationError("No.", code="status"))
    assert refused == {"type": "error", "code": "status", "message": "No.", "for": "page.turn", "re": "c7"}
    crashed = dispatch.reply_for(message, RuntimeError("boom"))
    assert crashed["code"] == "server" and "boom" not in crashed["message"] and crashed["re"] == "c7"
    answer = dispatch.reply_for(message, {"type": "presence", "connections": []})
    assert answer == {"type": "presence", "connections": [], "for": "page.turn", "re": "c7"}


def _entry(batch_handler=None):
    return Registered(type="vote.cast", validator=None, handler=None, batch_handler=batch_handler)


async def test_messages_arriving_during_a_batch_form_the_next_batch(monkeypatch):
    batches: list[list[int]] = []
    first_running = threading.Event()

    def run_calls(entry, *, sitting_id, lang, calls):
        batches.append([message["n"] for _user, message in calls])
        first_running.set()
        time.sleep(0.2)  # a transaction in progress
        return [{"type": "vote.receipt", "n": message["n"]} for _user, message in calls]

    monkeypatch.setattr(dispatch, "run_calls", run_calls)
    entry = _entry(batch_handler=lambda **kw: [])

    async def cast(n):
        return await dispatch.handle(entry, {"type": "vote.cast", "n": n}, sitting_id=1, user_id=n, lang="ja")

    first = asyncio.ensure_future(cast(0))
    await asyncio.get_running_loop().run_in_executor(None, first_running.wait, 5)
    rest = [asyncio.ensure_future(cast(n)) for n in range(1, 6)]
    answers = await asyncio.gather(first, *rest)
    assert batches == [[0], [1, 2, 3, 4, 5]]  # the first is never held back; the others went together
    assert [a["n"] for a in answers] == [0, 1, 2, 3, 4, 5]  # each sender gets its own answer


async def test_other_sittings_and_languages_are_batched_apart(monkeypatch):
    seen: list[tuple] = []

    def run_calls(entry, *, sitting_id, lang, calls):
        seen.append((sitting_id, lang, len(calls)))
        return [None] * len(calls)

    monkeypatch.setattr(dispatch, "run_calls", run_calls)
    entry = _entry(batch_handler=lambda **kw: [])
    await asyncio.gather(
        *(
            dispatch.handle(entry, {"type": "vote.cast"}, sitting_id=s, user_id=1, lang=lang)
            for s, lang in [(1, "ja"), (2, "ja"), (1, "en")]
        )
    )
    assert sorted(seen) == [(1, "en", 1), (1, "ja", 1), (2, "ja", 1)]
