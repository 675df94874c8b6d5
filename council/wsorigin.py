"""The WebSocket Origin check: only pages of this very site may open a socket.

Browsers send cookies with a WebSocket handshake from any page, so the handshake's ``Origin`` must
name this site exactly, as Django's CSRF check does for forms: the same scheme, host and port as
the request (behind the TLS-terminating proxy, ``https`` when ``SECURE_PROXY_SSL_HEADER`` says so),
with the host in ``ALLOWED_HOSTS``, or one of ``CSRF_TRUSTED_ORIGINS``. channels'
``AllowedHostsOriginValidator`` compares the host alone, so ``http://`` pages (or another port)
of the same host could open the sockets of an ``https://`` site.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin_tuple(origin: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an Origin header, or None for anything but a plain http(s) origin."""
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if (
        scheme not in DEFAULT_PORTS
        or not parts.hostname
        or parts.username is not None
        or parts.password is not None
    ):
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    return scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme]


def request_scheme(scope, headers: dict[bytes, bytes]) -> str:
    """``https`` when the socket came over TLS, to daphne or (as the proxy says) to the proxy."""
    if scope.get("scheme") in ("wss", "https"):
        return "https"
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy:
        name, value = proxy
        header = name.removeprefix("HTTP_").replace("_", "-").lower().encode("latin-1")
        sent = headers.get(header, b"").decode("latin-1").split(",")[0].strip()
        if sent == value:
            return "https"
    return "http"


def origin_allowed(scope) -> bool:
    headers = {name.lower(): value for name, value in scope.get("headers", [])}
    raw_origin = headers.get(b"origin")
    if raw_origin is None:
        return False
    origin = _origin_tuple(raw_origin.decode("latin-1"))
    if origin is None:
        return False
    trusted = {_origin_tuple(o) for o in getattr(settings, "CSRF_TRUSTED_ORIGINS", [])}
    if origin in trusted - {None}:
        return True
    host_header = headers.get(b"host", b"").decode("latin-1").lower()
    domain, port = split_domain_port(host_header)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return False
    scheme = request_scheme(scope, headers)
    expected = (scheme, domain.strip("[]"), int(port) if port else DEFAULT_PORTS[scheme])
    return origin == expected


class SameOriginValidator:
    """ASGI middleware for WebSockets: refuse the handshake (HTTP 403) unless ``origin_allowed``."""

    def __init__(self, application) -> None:
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            raise ValueError("SameOriginValidator guards WebSocket connections only")
        if origin_allowed(scope):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)
