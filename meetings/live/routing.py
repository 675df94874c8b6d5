"""WebSocket routes of live sessions (collected by ``council.routing``)."""

from django.urls import path

from meetings.live.consumers import PublicSittingConsumer, SittingConsumer

websocket_urlpatterns = [
    path("ws/sittings/<int:sitting_id>/", SittingConsumer.as_asgi()),
    path("ws/public/sittings/<int:sitting_id>/", PublicSittingConsumer.as_asgi()),
]
