"""The daphne adapter: the frame writer (straight to the socket when nothing is buffered, never
waiting on a slow reader), finding daphne's protocol, and a loud check of the internals it relies on."""

from __future__ import annotations

import json
import subprocess
import sys

from autobahn.websocket.protocol import WebSocketProtocol

from meetings.live import daphne_adapter


class FakeSocket:
    def __init__(self, accept: int | None = None, error: Exception | None = None):
        self.accept, self.error, self.sent = accept, error, []

    def send(self, data):
        if self.error:
            raise self.error
        n = len(data) if self.accept is None else min(self.accept, len(data))
        self.sent.append(bytes(data[:n]))
        return n


class FakeTransport:
    TLS = False

    def __init__(self, sock):
        self.socket = sock
        self.dataBuffer = b""
        self.offset = 0
        self._tempDataBuffer = []
        self._tempDataLen = 0
        self.connected = True
        self.disconnecting = False

    def write(self, data):
        self._tempDataBuffer.append(data)
        self._tempDataLen += len(data)


class FakeProtocol:
    STATE_OPEN = WebSocketProtocol.STATE_OPEN

    def __init__(self, transport):
        self.transport = transport
        self.state = self.STATE_OPEN
        self.send_queue = []
        self._perMessageCompress = None
        self.prepared = []

    def sendPreparedMessage(self, prepared):  # noqa: N802 - autobahn's name
        self.prepared.append(prepared)


def test_a_frame_is_framed_once_and_written_straight_to_the_socket():
    prepared = daphne_adapter.prepare('{"type":"session.page","seq":1}')
    assert prepared.payloadHybi[:2] == bytes([0x81, len('{"type":"session.page","seq":1}')])
    sock = FakeSocket()
    writer = daphne_adapter.FrameWriter(FakeProtocol(FakeTransport(sock)))
    assert writer.direct
    assert writer.write(prepared) is True
    assert sock.sent == [prepared.payloadHybi]


def test_a_partial_send_leaves_the_rest_to_twisted_and_later_frames_queue_behind_it():
    prepared = daphne_adapter.prepare("x" * 100)
    sock = FakeSocket(accept=10)
    transport = FakeTransport(sock)
    writer = daphne_adapter.FrameWriter(FakeProtocol(transport))
    writer.write(prepared)
    assert sock.sent == [prepared.payloadHybi[:10]]
    assert transport._tempDataBuffer == [prepared.payloadHybi[10:]]
    writer.write(prepared)  # something is buffered: keep the order, do not touch the socket
    assert len(sock.sent) == 1 and transport._tempDataBuffer[-1] == prepared.payloadHybi


def test_a_stalled_reader_is_reported_instead_of_buffering_without_end(monkeypatch):
    monkeypatch.setattr(daphne_adapter, "MAX_BUFFER", 1000)
    prepared = daphne_adapter.prepare("y" * 400)
    transport = FakeTransport(FakeSocket(accept=0))
    writer = daphne_adapter.FrameWriter(FakeProtocol(transport))
    results = [writer.write(prepared) for _ in range(4)]
    assert results == [True, True, True, False]


def test_unusual_connections_use_autobahns_own_send():
    transport = FakeTransport(FakeSocket())
    transport.TLS = True
    protocol = FakeProtocol(transport)
    writer = daphne_adapter.FrameWriter(protocol)
    prepared = daphne_adapter.prepare("z")
    assert not writer.direct
    writer.write(prepared)
    assert protocol.prepared == [prepared] and transport.socket.sent == []


def test_closed_connections_are_skipped():
    sock = FakeSocket()
    protocol = FakeProtocol(FakeTransport(sock))
    protocol.state = WebSocketProtocol.STATE_CLOSING
    assert daphne_adapter.FrameWriter(protocol).write(daphne_adapter.prepare("a")) is True
    assert sock.sent == []


def test_the_autobahn_protocol_is_found_behind_channels_session_wrapper():
    import functools

    class Server:
        async def handle_reply(self, protocol, message):
            pass

    class Proto(WebSocketProtocol):
        def __init__(self):
            pass

    proto = Proto()
    send = functools.partial(Server().handle_reply, proto)

    class Wrapper:
        def __init__(self, real_send):
            self.real_send = real_send

        async def send(self, message):
            await self.real_send(message)

    assert daphne_adapter.find_protocol(send) is proto
    assert daphne_adapter.find_protocol(Wrapper(send).send) is proto
    assert daphne_adapter.find_protocol(lambda m: None) is None


def _check_in_subprocess(prelude: str = "") -> list[str]:
    """``check_internals`` in a fresh interpreter: importing daphne's server installs Twisted's
    reactor, which must not happen inside the test process."""
    code = (
        prelude + "\nimport json\nfrom meetings.live.daphne_adapter import check_internals\n"
        "print(json.dumps(check_internals()))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_installed_daphne_autobahn_and_twisted_offer_what_the_adapter_relies_on():
    """If this fails after an upgrade, the live sockets would silently lose their fast path or
    their flood gate: fix ``meetings/live/daphne_adapter.py`` (the only module that knows)."""
    assert _check_in_subprocess() == []


def test_the_internals_check_notices_a_change():
    broken = (
        "from twisted.internet import abstract\n"
        "original = abstract.FileDescriptor.__init__\n"
        "def init(self, reactor=None):\n"
        "    original(self, reactor)\n"
        "    del self._tempDataLen\n"
        "abstract.FileDescriptor.__init__ = init\n"
        "import daphne.ws_protocol\n"
        "del daphne.ws_protocol.WebSocketProtocol.onMessage\n"
    )
    problems = _check_in_subprocess(broken)
    assert any("_tempDataLen" in p for p in problems), problems
    assert any("onMessage" in p for p in problems), problems


def test_intercepted_frames_pass_only_when_let_through():
    class Proto:
        def __init__(self):
            self.messages, self.pings = [], []

        def onMessage(self, payload, is_binary):  # noqa: N802 - autobahn's name
            self.messages.append(payload)

        def onPing(self, payload):  # noqa: N802
            self.pings.append(payload)

    proto = Proto()
    allow = iter([True, False, True])
    daphne_adapter.intercept_frames(proto, lambda handle: handle() if next(allow) else None)
    proto.onMessage(b"a", False)
    proto.onMessage(b"b", False)  # dropped
    proto.onPing(b"p")
    assert proto.messages == [b"a"] and proto.pings == [b"p"]
