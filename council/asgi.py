"""ASGI entry point for daphne: HTTP through Django, WebSockets through Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "council.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.sessions import CookieMiddleware  # noqa: E402

from council.routing import PublicOrSignedIn, public_websocket_urlpatterns, websocket_urlpatterns  # noqa: E402
from council.security.proxy import TrustedProxyMiddleware  # noqa: E402
from council.security.second_factor import SecondFactorWebSocketGuard  # noqa: E402
from council.wsorigin import SameOriginValidator  # noqa: E402
from documents.backpressure import SendBackpressure  # noqa: E402  (documents: flow control for streamed files)
from meetings.live.admission import AdmissionMiddleware  # noqa: E402
from meetings.live.handshake import BatchedAuthMiddlewareStack  # noqa: E402

# Outermost: the client address behind the reverse proxy (council/security/proxy.py).
application = TrustedProxyMiddleware(
    ProtocolTypeRouter(
        {
            "http": SendBackpressure(django_asgi_app),
            # Admission control first, before any query: a saturated process refuses at once (4503);
            # sessions and users are then loaded in bulk off the thread that serves votes, except for
            # the public view (傍聴), which is anonymous: no session or user lookups (the cookies only
            # for the language).
            "websocket": AdmissionMiddleware(
                SameOriginValidator(
                    PublicOrSignedIn(
                        public=CookieMiddleware(URLRouter(public_websocket_urlpatterns)),
                        signed_in=BatchedAuthMiddlewareStack(
                            SecondFactorWebSocketGuard(URLRouter(websocket_urlpatterns))
                        ),
                    )
                )
            ),
        }
    )
)
