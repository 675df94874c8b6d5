"""Voting pages: console, member page, video call, Jitsi suggestions."""

from django.urls import path

from meetings.voting import views

app_name = "voting"
urlpatterns: list = [
    path("voting/sittings/<int:sitting_id>/console/", views.console, name="console"),
    path("voting/sittings/<int:sitting_id>/", views.member, name="member"),
    path("voting/sittings/<int:sitting_id>/video/", views.video, name="video"),
    path("voting/sittings/<int:sitting_id>/suggestions/", views.suggest, name="suggest"),
]
