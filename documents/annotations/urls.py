"""Annotations, bookmarks, my notes, review after replacement, export, offline packets, Service Worker."""

from django.urls import path

from documents.annotations import export_views, views

app_name = "annotations"
urlpatterns: list = [
    path("api/versions/<int:version_id>/", views.api_version, name="api_version"),
    path("api/sync/", views.api_sync, name="api_sync"),
    path("api/bookmarks/", views.api_bookmark, name="api_bookmark"),
    path("api/packet/", views.api_packet, name="api_packet"),
    path("api/notes/search/", views.api_notes_search, name="api_notes_search"),
    path("api/devices/<str:device_id>/", views.api_device, name="api_device"),
    path("mine/", views.my_notes, name="my_notes"),
    path("review/", views.review_list, name="review_list"),
    path("review/<uuid:client_id>/", views.review_detail, name="review_detail"),
    path("review/<uuid:client_id>/<str:which>.png", views.review_page_image, name="review_page_image"),
    path("export/<int:document_id>/", export_views.export_start, name="export_start"),
    path("exports/<int:pk>/", export_views.export_page, name="export_page"),
    path("exports/<int:pk>/status/", export_views.export_status, name="export_status"),
    path("exports/<int:pk>/file.pdf", export_views.export_file, name="export_file"),
    path("offline/", views.offline_page, name="offline"),
    path("offline/revoke/", views.revoke_own_devices, name="revoke_own_devices"),
    path("devices/", views.manage_devices, name="manage_devices"),
    path("sw.js", views.service_worker, name="service_worker"),
]
