"""Meetings URLs. Core pages (sessions, sittings, agendas) here; each area includes its own module."""

from django.urls import include, path

app_name = "meetings"
urlpatterns: list = [
    path("", include("meetings.reader_urls")),
    path("", include("meetings.live.urls")),
    path("", include("meetings.voting.urls")),
    path("minutes/", include("meetings.minutes.urls")),
]
