"""WebSocket routes of live sessions (collected by ``council.routing``)."""

from django.urls import path

from meetings.live.consumers import SittingConsumer
from meetings.live.public import public_follower

websocket_urlpatterns = [
    path("ws/sittings/<int:sitting_id>/", SittingConsumer.as_asgi()),
]

# Anonymous routes, served without the session and authentication middleware (``council/asgi.py``):
# the public view (傍聴) needs no user, and a crowd of viewers should cost no session lookups.
public_websocket_urlpatterns = [
    path("ws/public/sittings/<int:sitting_id>/", public_follower),
]
