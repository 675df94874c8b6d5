"""Meetings URLs. Core pages (sessions, sittings, agendas) here; each area includes its own module."""

from django.urls import include, path

from meetings import views

app_name = "meetings"
urlpatterns: list = [
    path("manage/", views.manage, name="manage"),
    path("sessions/new/", views.session_create, name="session_create"),
    path("sessions/<int:pk>/", views.session_edit, name="session_edit"),
    path("sessions/<int:pk>/sittings/new/", views.sitting_create, name="sitting_create"),
    path("sittings/<int:pk>/", views.sitting_detail, name="sitting_detail"),
    path("sittings/<int:pk>/edit/", views.sitting_edit, name="sitting_edit"),
    path("sittings/<int:pk>/cancel/", views.sitting_cancel, name="sitting_cancel"),
    path("sittings/<int:pk>/agenda/", views.agenda_edit, name="agenda_edit"),
    path("sittings/<int:pk>/agenda/reorder/", views.agenda_reorder, name="agenda_reorder"),
    path("sittings/<int:pk>/agenda/publish/", views.agenda_publish, name="agenda_publish"),
    path("sittings/<int:pk>/agenda/unpublish/", views.agenda_unpublish, name="agenda_unpublish"),
    path("items/<int:pk>/edit/", views.agenda_item_edit, name="agenda_item_edit"),
    path("items/<int:pk>/delete/", views.agenda_item_delete, name="agenda_item_delete"),
    path("items/<int:pk>/move/", views.agenda_item_move, name="agenda_item_move"),
    path(
        "sittings/<int:pk>/documents/<int:document_id>/move/",
        views.agenda_document_move,
        name="agenda_document_move",
    ),
    path("bodies/<int:pk>/calendar.ics", views.body_calendar_feed, name="body_calendar"),
    path("", include("meetings.reader_urls")),
    path("", include("meetings.live.urls")),
    path("", include("meetings.voting.urls")),
    path("minutes/", include("meetings.minutes.urls")),
    path("matters/", include("meetings.matters.urls")),
]
