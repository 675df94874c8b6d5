"""WebSocket routes. Each app contributes its own ``websocket_urlpatterns``."""

from importlib import import_module

websocket_urlpatterns = []
for module in ("meetings.live.routing",):
    try:
        websocket_urlpatterns += import_module(module).websocket_urlpatterns
    except ModuleNotFoundError as exc:  # an app without live routes yet
        if exc.name != module:
            raise
