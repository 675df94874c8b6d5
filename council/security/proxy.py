"""The client's address behind the reverse proxy, trusted only from the configured proxy.

daphne on a unix socket knows no peer address (``scope["client"]`` is ``None``), so django-axes,
the access log and the live app's flood log would see every tablet as the same ``None``. nginx
passes the address it saw in ``X-Forwarded-For``; this ASGI middleware takes it from there only
when the connection came from a trusted proxy (``COUNCIL_TRUSTED_PROXIES``: ``unix`` for a unix
socket peer, or IP addresses), counting ``COUNCIL_PROXY_COUNT`` proxies from the right. From any
other peer the header is ignored, so a client cannot choose its own address. The result is written
to ``scope["client"]``, which Django turns into ``REMOTE_ADDR`` for HTTP and WebSocket alike.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings

UNIX_PEER = "unix"


def _peer(scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else UNIX_PEER


def _header(scope, name: bytes) -> str:
    values = [v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == name]
    return ",".join(values)


def forwarded_client(*, peer: str, forwarded_for: str, trusted: set[str], count: int) -> str | None:
    """The client address to believe, or None when the header is not to be trusted.

    ``forwarded_for`` lists addresses left to right, each proxy appending the one it saw; with
    ``count`` trusted proxies in front of us, the client is ``count`` entries from the right."""
    if peer not in trusted or count < 1:
        return None
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    if len(hops) < count:
        return None
    candidate = hops[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


class TrustedProxyMiddleware:
    """ASGI middleware: replace the peer address with the trusted proxy's forwarded client."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            trusted = set(getattr(settings, "COUNCIL_TRUSTED_PROXIES", []))
            if trusted:
                address = forwarded_client(
                    peer=_peer(scope),
                    forwarded_for=_header(scope, b"x-forwarded-for"),
                    trusted=trusted,
                    count=int(getattr(settings, "COUNCIL_PROXY_COUNT", 1)),
                )
                if address is not None:
                    scope = dict(scope, client=(address, 0))
        return await self.app(scope, receive, send)
