"""Matters URLs, mounted at /meetings/matters/ (namespace "meetings:matters")."""

from django.urls import path
from django.views.decorators.http import require_GET

from meetings.matters import pdf_views, views
from meetings.matters.feeds import MattersFeed

app_name = "matters"
urlpatterns = [
    # public (no sign-in)
    path("", views.public_index, name="public_index"),
    path("feed/", require_GET(MattersFeed()), name="feed"),
    path("sessions/<int:pk>/", views.public_session, name="public_session"),
    path("sessions/<int:pk>/votes/", views.public_votes, name="public_votes"),
    path("sessions/<int:pk>/questions/", views.public_questions, name="public_questions"),
    path("sessions/<int:pk>/results.json", views.results_json, name="results_json"),
    path("sessions/<int:pk>/results.csv", views.results_csv, name="results_csv"),
    path("sessions/<int:pk>/votes.json", views.votes_json, name="votes_json"),
    path("sessions/<int:pk>/votes.csv", views.votes_csv, name="votes_csv"),
    path("<int:pk>/", views.public_matter, name="public_matter"),
    path("reports/<int:pk>/pdf/", pdf_views.public_report_pdf, name="public_report_pdf"),
    # members
    path("sessions/<int:pk>/my-questions/", views.my_questions, name="my_questions"),
    # clerk
    path("manage/", views.manage_index, name="manage_index"),
    path("manage/settings/", views.manage_settings, name="manage_settings"),
    path("manage/sessions/<int:pk>/", views.manage_session, name="manage_session"),
    path("manage/sessions/<int:pk>/publish/", views.publish_session, name="publish_session"),
    path("manage/sessions/<int:pk>/questions/", views.manage_questions, name="manage_questions"),
    path("manage/sessions/<int:pk>/questions.pdf", pdf_views.questions_preview_pdf, name="questions_pdf"),
    path("manage/sittings/<int:pk>/", views.manage_sitting, name="manage_sitting"),
    path("manage/<int:pk>/", views.manage_matter, name="manage_matter"),
    path("manage/<int:pk>/act/", views.act, name="act"),
    path("manage/reports/<int:pk>/", views.report_edit, name="report_edit"),
    path("manage/reports/<int:pk>/pdf/", pdf_views.report_pdf, name="report_pdf"),
]
