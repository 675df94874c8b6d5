"""Live-session pages ("meetings:live:..."); the WebSocket routes are in ``routing``."""

from django.urls import path

from meetings.live import views

app_name = "live"
urlpatterns: list = [
    path("sittings/<int:sitting_id>/console/", views.console, name="console"),
    path("sittings/<int:sitting_id>/public/", views.public_view, name="public"),
    path("sittings/<int:sitting_id>/display/", views.chamber_display, name="display"),
]
