"""WebSocket routes. Each app contributes its own ``websocket_urlpatterns``."""

from meetings.live.routing import websocket_urlpatterns as live_websocket_urlpatterns

websocket_urlpatterns = [*live_websocket_urlpatterns]
