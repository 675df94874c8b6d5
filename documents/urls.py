"""Documents URLs; annotations and notices include their own modules."""

from django.urls import include, path

from documents import views

app_name = "documents"
urlpatterns: list = [
    path("annotations/", include("documents.annotations.urls")),
    path("notices/", include("documents.notices.urls")),
    path("", views.document_list, name="list"),
    path("search/", views.search, name="search"),
    path("search.json", views.search_json, name="search_json"),
    path("upload/", views.upload_page, name="upload"),
    path("upload/file/", views.upload_file, name="upload_file"),
    path("<int:document_id>/", views.document_detail, name="detail"),
    path("<int:document_id>/read/", views.document_read, name="read"),
    path("<int:document_id>/replace/", views.replace_file, name="replace"),
    path("<int:document_id>/release/", views.change_release, name="release"),
    path("versions/<int:version_id>/file", views.version_file, name="version_file"),
    path("versions/<int:version_id>/opened/", views.document_opened, name="opened"),
    path("versions/<int:version_id>/pages/<int:number>/thumbnail", views.thumbnail, name="thumbnail"),
]
