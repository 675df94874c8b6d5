"""The transport of one live socket: the flood guard and ordered writes without daphne (the outbox)."""

from __future__ import annotations

import asyncio

import pytest

from meetings.live import transport
from meetings.live.transport import FloodCounter, Transport


def test_the_flood_counter_handles_then_warns_once_then_drops_then_closes(monkeypatch):
    monkeypatch.setattr(transport, "FLOOD_SOFT", 3)
    monkeypatch.setattr(transport, "FLOOD_HARD", 6)
    counter = FloodCounter()
    verdicts = [counter.verdict() for _ in range(8)]
    H, W, D, C = FloodCounter.HANDLE, FloodCounter.WARN, FloodCounter.DROP, FloodCounter.CLOSE
    assert verdicts == [H, H, H, W, D, D, C, C]
    assert 1 <= counter.retry_after() <= transport.FLOOD_WINDOW_S


def test_a_new_window_starts_afresh(monkeypatch):
    monkeypatch.setattr(transport, "FLOOD_SOFT", 2)
    counter = FloodCounter()
    assert [counter.verdict() for _ in range(3)][-1] == FloodCounter.WARN
    counter.window_start -= transport.FLOOD_WINDOW_S + 1
    assert counter.verdict() == FloodCounter.HANDLE


class Recorder:
    def __init__(self) -> None:
        self.sent: list[dict] = []

    async def __call__(self, message: dict) -> None:
        await asyncio.sleep(0)
        self.sent.append(message)


async def _settle():
    for _ in range(20):
        await asyncio.sleep(0)


async def test_without_daphne_messages_and_the_close_go_out_in_order_through_the_outbox():
    send = Recorder()
    t = Transport(send, on_flood_warn=lambda: None, on_flood_close=lambda: None)
    assert t.protocol is None  # a plain ASGI send: no daphne protocol behind it
    t.opened()
    assert t.send_text("a") and t.send_frame("b", prepared=object())  # no writer: sent as text
    t.close(4403)
    assert t.closed and t.send_text("after") is True  # ignored once closing
    await _settle()
    assert send.sent == [
        {"type": "websocket.send", "text": "a"},
        {"type": "websocket.send", "text": "b"},
        {"type": "websocket.close", "code": 4403},
    ]


async def test_a_full_outbox_reports_a_stalled_reader(monkeypatch):
    monkeypatch.setattr(transport, "MAX_OUTBOX", 3)
    blocked = asyncio.Event()

    async def never(message):
        await blocked.wait()

    t = Transport(never, on_flood_warn=lambda: None, on_flood_close=lambda: None)
    results = [t.send_text(str(i)) for i in range(6)]
    # The writer task takes the first one off the queue only when it runs; until then 3 fit.
    assert results[:3] == [True, True, True] and results[-1] is False
    t.stop()


async def test_admit_counts_inbound_messages_when_daphne_does_not(monkeypatch):
    monkeypatch.setattr(transport, "FLOOD_SOFT", 2)
    monkeypatch.setattr(transport, "FLOOD_HARD", 3)
    events: list[str] = []
    t = Transport(
        Recorder(), on_flood_warn=lambda: events.append("warn"), on_flood_close=lambda: events.append("close")
    )
    assert [t.admit() for _ in range(5)] == [True, True, False, False, False]
    assert events == ["warn", "close", "close"]
    t.close(4429)
    assert t.admit() is False
    t.stop()


@pytest.mark.parametrize("frames", [1, 5])
async def test_under_daphne_frames_are_counted_before_they_are_queued(monkeypatch, frames):
    """With daphne's protocol behind the send, the gate sits in the protocol: a dropped frame
    never reaches daphne's queue, and the consumer does not count it twice."""
    monkeypatch.setattr(transport, "FLOOD_SOFT", 2)
    monkeypatch.setattr(transport, "FLOOD_HARD", 100)

    class Proto:
        def __init__(self):
            self.queued = []

        def onMessage(self, payload, is_binary):  # noqa: N802 - autobahn's name
            self.queued.append(payload)

        def onPing(self, payload):  # noqa: N802
            pass

    proto = Proto()
    monkeypatch.setattr(transport.daphne_adapter, "find_protocol", lambda send: proto)
    warned = []
    t = Transport(Recorder(), on_flood_warn=lambda: warned.append(1), on_flood_close=lambda: None)
    t.guard_frames()
    for i in range(frames):
        proto.onMessage(str(i).encode(), False)
    assert proto.queued == [str(i).encode() for i in range(min(frames, 2))]
    assert warned == ([1] if frames > 2 else [])
    assert t.admit() is True  # already counted in the protocol
