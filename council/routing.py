"""WebSocket routes. Each app contributes its own ``websocket_urlpatterns`` (signed-in users, behind
the session and authentication middleware) and ``public_websocket_urlpatterns`` (anonymous, under
``PUBLIC_PREFIX``, without them)."""

from meetings.live.routing import public_websocket_urlpatterns as live_public_websocket_urlpatterns
from meetings.live.routing import websocket_urlpatterns as live_websocket_urlpatterns

PUBLIC_PREFIX = "/ws/public/"

websocket_urlpatterns = [*live_websocket_urlpatterns]
public_websocket_urlpatterns = [*live_public_websocket_urlpatterns]


class PublicOrSignedIn:
    """Send sockets under ``PUBLIC_PREFIX`` to ``public``, every other one to ``signed_in``."""

    def __init__(self, *, public, signed_in) -> None:
        self.public = public
        self.signed_in = signed_in

    async def __call__(self, scope, receive, send):
        app = self.public if scope.get("path", "").startswith(PUBLIC_PREFIX) else self.signed_in
        return await app(scope, receive, send)
