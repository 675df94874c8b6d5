"""The hub's frame writer: straight to the socket when nothing is buffered, never waiting on a slow reader."""

from __future__ import annotations

from autobahn.websocket.protocol import WebSocketProtocol

from meetings.live import fanout


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
    prepared = fanout.prepare('{"type":"session.page","seq":1}')
    assert prepared.payloadHybi[:2] == bytes([0x81, len('{"type":"session.page","seq":1}')])
    sock = FakeSocket()
    writer = fanout.FrameWriter(FakeProtocol(FakeTransport(sock)))
    assert writer.direct
    assert writer.write(prepared) is True
    assert sock.sent == [prepared.payloadHybi]


def test_a_partial_send_leaves_the_rest_to_twisted_and_later_frames_queue_behind_it():
    prepared = fanout.prepare("x" * 100)
    sock = FakeSocket(accept=10)
    transport = FakeTransport(sock)
    writer = fanout.FrameWriter(FakeProtocol(transport))
    writer.write(prepared)
    assert sock.sent == [prepared.payloadHybi[:10]]
    assert transport._tempDataBuffer == [prepared.payloadHybi[10:]]
    writer.write(prepared)  # something is buffered: keep the order, do not touch the socket
    assert len(sock.sent) == 1 and transport._tempDataBuffer[-1] == prepared.payloadHybi


def test_a_stalled_reader_is_reported_instead_of_buffering_without_end(monkeypatch):
    monkeypatch.setattr(fanout, "MAX_BUFFER", 1000)
    prepared = fanout.prepare("y" * 400)
    transport = FakeTransport(FakeSocket(accept=0))
    writer = fanout.FrameWriter(FakeProtocol(transport))
    results = [writer.write(prepared) for _ in range(4)]
    assert results == [True, True, True, False]


def test_unusual_connections_use_autobahns_own_send():
    transport = FakeTransport(FakeSocket())
    transport.TLS = True
    protocol = FakeProtocol(transport)
    writer = fanout.FrameWriter(protocol)
    prepared = fanout.prepare("z")
    assert not writer.direct
    writer.write(prepared)
    assert protocol.prepared == [prepared] and transport.socket.sent == []


def test_closed_connections_are_skipped():
    sock = FakeSocket()
    protocol = FakeProtocol(FakeTransport(sock))
    protocol.state = WebSocketProtocol.STATE_CLOSING
    assert fanout.FrameWriter(protocol).write(fanout.prepare("a")) is True
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

    assert fanout.autobahn_protocol(send) is proto
    assert fanout.autobahn_protocol(Wrapper(send).send) is proto
    assert fanout.autobahn_protocol(lambda m: None) is None
