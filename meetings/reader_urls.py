"""The reader for a sitting and the secretariat's document upload for it ("meetings:reader:...")."""

from django.urls import path

from meetings import reader

app_name = "reader"
urlpatterns: list = [
    path("sittings/<int:sitting_id>/reader/", reader.sitting_reader, name="sitting"),
    path("sittings/<int:sitting_id>/documents/upload/", reader.sitting_upload, name="upload"),
    path("sittings/<int:sitting_id>/documents/upload/file/", reader.sitting_upload_file, name="upload_file"),
]
