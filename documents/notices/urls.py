"""Notices (お知らせ) and read receipts (既読)."""

from django.urls import path

from documents.notices import views

app_name = "notices"
urlpatterns: list = [
    path("", views.inbox, name="inbox"),
    path("unread.json", views.unread_json, name="unread_json"),
    path("new/", views.compose, name="compose"),
    path("<int:notice_id>/", views.detail, name="detail"),
    path("<int:notice_id>/resend/", views.resend, name="resend"),
    path("<int:notice_id>/attachments/<int:attachment_id>/", views.attachment, name="attachment"),
    path("read/", views.documents_read, name="documents_read"),
    path("read/<int:document_id>/", views.document_read, name="document_read"),
]
