"""The one place that knows daphne's, autobahn's and Twisted's internals.

Under daphne the live sockets skip two layers of the ASGI path on their hot paths:

* **writing**: the autobahn protocol of a socket is found behind the ASGI ``send`` callable, and a
  broadcast frame, framed once for every socket (``prepare``), is written straight to its transport
  (``FrameWriter``); how many bytes are still unsent is read from Twisted's transport buffer
  (``buffered_bytes``), so a reader that stalls is noticed without waiting for it;
* **reading**: daphne's ``onMessage`` (which queues every message for the consumer, unbounded)
  and autobahn's ``onPing`` are wrapped (``intercept_frames``), so a flood is counted and dropped
  before daphne queues it.

Everything here relies on attributes that are not public API: ``functools.partial(server.
handle_reply, protocol)`` as daphne's ``send``, channels' ``real_send``, Twisted's ``dataBuffer``,
``offset`` and ``_tempDataLen``, autobahn's ``send_queue`` and ``_perMessageCompress``. They are
pinned by version in ``pyproject.toml`` and checked by ``check_internals`` (and by
``tests/live/test_daphne_adapter.py``), which fails loudly when an upgrade changes them. When the
protocol cannot be found (another ASGI server, ``WebsocketCommunicator`` in tests) the callers use
the plain ASGI path instead.
"""

from __future__ import annotations

import functools
import os
import socket
from collections.abc import Callable
from typing import Any

# Unsent bytes per socket before it counts as a stalled reader (the environment may lower it for tests).
MAX_BUFFER = int(os.environ.get("COUNCIL_LIVE_MAX_BUFFER", str(1024 * 1024)))
# Optional cap on the kernel's send buffer per socket (bytes): bounds the memory a stalled tablet can
# hold and makes a stalled reader visible sooner. Unset: the kernel autotunes (up to tcp_wmem's max).
SOCKET_SNDBUF = int(os.environ.get("COUNCIL_LIVE_SNDBUF", "0"))


def find_protocol(send) -> Any | None:
    """The daphne/autobahn WebSocket protocol behind an ASGI ``send`` callable, or None.

    daphne passes ``functools.partial(server.handle_reply, protocol)``; channels' session
    middleware wraps it in a bound method whose instance keeps it as ``real_send``.
    """
    try:
        from autobahn.websocket.protocol import WebSocketProtocol
    except ImportError:  # pragma: no cover - daphne always brings autobahn
        return None
    current = send
    for _ in range(8):
        if isinstance(current, functools.partial):
            args = current.args
            if len(args) == 1 and isinstance(args[0], WebSocketProtocol):
                return args[0]
            return None
        owner = getattr(current, "__self__", None)
        if owner is not None and hasattr(owner, "real_send"):
            current = owner.real_send
            continue
        return None
    return None


def buffered_bytes(protocol) -> int:
    """Bytes written to the socket's transport and not yet sent (0 when unknown)."""
    transport = getattr(protocol, "transport", None)
    try:
        return len(transport.dataBuffer) - transport.offset + transport._tempDataLen
    except AttributeError:
        return 0


def prepare(text: str) -> Any:
    """Frame a text message once for many sockets (autobahn's broadcast optimization)."""
    try:
        from autobahn.websocket.protocol import PreparedMessage
    except ImportError:  # pragma: no cover
        return None
    return PreparedMessage(text.encode("utf-8"), False, False, False)


def is_open(protocol) -> bool:
    return protocol.state == protocol.STATE_OPEN


def is_gone(protocol) -> bool:
    """The client dropped or closed the connection (or the server is closing it)."""
    if protocol.state == protocol.STATE_CLOSED:
        return True
    transport = getattr(protocol, "transport", None)
    return bool(
        transport is not None
        and (getattr(transport, "disconnected", False) or getattr(transport, "disconnecting", False))
    )


def send_text(protocol, text: str) -> bool:
    """Send one text message in order with the frames; False when the socket is stalled."""
    if not is_open(protocol):
        return True
    if buffered_bytes(protocol) > MAX_BUFFER:
        return False
    protocol.sendMessage(text.encode("utf-8"), False)
    return True


def close(protocol, code: int, *, abort: bool = False, reason: str | None = None) -> None:
    """Start the closing handshake with ``code`` (and ``reason``, which daphne's ASGI close
    drops), or drop the connection at once (``abort``)."""
    if abort:
        protocol.dropConnection(abort=True)
    else:
        protocol.sendClose(code=code, reason=reason)


def stop_reading(protocol, *, drop_after: float, loop) -> None:
    """Read nothing more from this socket and drop it ``drop_after`` seconds from now.

    The client's backlog stays in the kernel, where it costs no work. Not dropped at once: unread
    input would turn a close into a reset, and the client would miss the close code sent before.
    """
    transport = getattr(protocol, "transport", None)
    if transport is not None:
        transport.pauseProducing()
    loop.call_later(drop_after, protocol.dropConnection, True)


def intercept_frames(protocol, on_frame: Callable[[Callable[[], None]], None]) -> None:
    """Route every inbound message and WebSocket ping of ``protocol`` through ``on_frame``.

    ``on_frame(handle)`` is called as autobahn hands each frame over, before daphne queues it for
    the consumer; calling ``handle()`` lets it through (daphne queues the message; autobahn answers
    the ping), not calling it drops it.
    """

    def wrap(original):
        def intercepted(*args) -> None:
            on_frame(lambda: original(*args))

        return intercepted

    protocol.onMessage = wrap(protocol.onMessage)  # daphne's: queue the message for the consumer
    protocol.onPing = wrap(protocol.onPing)  # autobahn's: answer with a pong


class FrameWriter:
    """Writes a pre-framed WebSocket message to one daphne socket as cheaply as possible.

    Twisted buffers every ``transport.write`` and sends on the next reactor turn, which costs two
    epoll changes and a callback per socket. When nothing is waiting in the transport's buffer we
    send straight on the (non-blocking) socket, as asyncio transports do, and hand only an unsent
    remainder to Twisted, which then keeps the order. Anything unusual (TLS started on the
    transport, compression negotiated, autobahn's own send queue in use) takes autobahn's
    ``sendPreparedMessage``.
    """

    __slots__ = ("protocol", "transport", "sock", "direct")

    def __init__(self, protocol) -> None:
        self.protocol = protocol
        self.transport = getattr(protocol, "transport", None)
        self.sock = getattr(self.transport, "socket", None)
        if SOCKET_SNDBUF and self.sock is not None:
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_SNDBUF)
            except OSError:
                pass
        self.direct = (
            self.sock is not None
            and not getattr(self.transport, "TLS", True)
            and getattr(protocol, "_perMessageCompress", None) is None
            and hasattr(self.transport, "_tempDataLen")
        )

    def is_open(self) -> bool:
        return is_open(self.protocol)

    def write(self, prepared) -> bool:
        """Write one prepared frame; False when the socket is stalled (too much unsent)."""
        protocol = self.protocol
        if protocol.state != protocol.STATE_OPEN:
            return True
        transport = self.transport
        if not self.direct or protocol.send_queue:
            if buffered_bytes(protocol) > MAX_BUFFER:
                return False
            protocol.sendPreparedMessage(prepared)
            return True
        pending = len(transport.dataBuffer) - transport.offset + transport._tempDataLen
        data = prepared.payloadHybi
        if pending:
            if pending > MAX_BUFFER:
                return False
            transport.write(data)
            return True
        if not transport.connected or transport.disconnecting:
            return True
        try:
            sent = self.sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            return True  # the connection is going away; Twisted will notice and clean up
        if sent < len(data):
            transport.write(data[sent:])
        return True


def lighten_autobahn() -> None:
    """Stop autobahn from pretty-printing its configuration for every new connection.

    autobahn's ``_connectionMade`` formats some forty settings with ``pprint.pformat`` for a debug
    log line, whether debug logging is on or not: about half of the CPU a handshake costs daphne,
    which matters when a restarted process takes a thousand of them at once. The module's
    ``pformat`` is replaced by one that formats only while txaio's log level is ``debug`` or
    ``trace`` (else it returns a placeholder; its only other use, ``Timings.__str__``, is for
    debugging too)."""
    import pprint

    import txaio
    from autobahn.websocket import protocol

    if getattr(protocol.pformat, "lightened", False):
        return

    def pformat(obj, *args, **kwargs) -> str:
        if txaio.get_global_log_level() in ("debug", "trace"):
            return pprint.pformat(obj, *args, **kwargs)
        return "(not formatted: debug logging is off)"

    pformat.lightened = True
    protocol.pformat = pformat


def check_internals() -> list[str]:
    """What this adapter relies on and the installed daphne, autobahn and Twisted no longer offer.

    Empty when everything is in place. Checked by the tests (a daphne upgrade that breaks the
    adapter fails them loudly, instead of silently taking the slow path or losing flood control).
    """
    import inspect

    problems: list[str] = []
    try:
        from autobahn.websocket.protocol import PreparedMessage, WebSocketProtocol
        from daphne import server as daphne_server
        from daphne.ws_protocol import WebSocketProtocol as DaphneProtocol
        from twisted.internet.abstract import FileDescriptor
    except ImportError as exc:
        return [f"import: {exc}"]
    if "partial(self.handle_reply, protocol)" not in inspect.getsource(
        daphne_server.Server.create_application
    ):
        problems.append(
            "daphne.server.Server.create_application no longer passes partial(handle_reply, protocol)"
        )
    if not issubclass(DaphneProtocol, WebSocketProtocol):
        problems.append("daphne's WebSocketProtocol is no longer an autobahn WebSocketProtocol")
    if "onMessage" not in vars(DaphneProtocol):
        problems.append("daphne's WebSocketProtocol no longer defines onMessage")
    for name in ("onPing", "sendMessage", "sendPreparedMessage", "sendClose", "dropConnection"):
        if not callable(getattr(DaphneProtocol, name, None)):
            problems.append(f"autobahn's protocol has no {name}")
    for name in ("STATE_OPEN", "send_queue", "_perMessageCompress"):
        if not hasattr(DaphneProtocol, name) and name not in inspect.getsource(WebSocketProtocol):
            problems.append(f"autobahn's protocol has no {name}")
    from autobahn.websocket import protocol as autobahn_protocol

    if "pformat(configAttrLog)" not in inspect.getsource(WebSocketProtocol._connectionMade) or not callable(
        getattr(autobahn_protocol, "pformat", None)
    ):
        problems.append("autobahn's _connectionMade no longer formats its settings with the module's pformat")
    if not hasattr(PreparedMessage(b"x", False, False, False), "payloadHybi"):
        problems.append("autobahn's PreparedMessage has no payloadHybi")
    descriptor = FileDescriptor(reactor=object())  # any reactor: nothing is started
    for name in ("dataBuffer", "offset", "_tempDataLen", "_tempDataBuffer", "connected", "disconnecting"):
        if not hasattr(descriptor, name):
            problems.append(f"Twisted's FileDescriptor has no {name}")
    for name in ("pauseProducing", "write"):
        if not callable(getattr(descriptor, name, None)):
            problems.append(f"Twisted's FileDescriptor has no {name}()")
    return problems
