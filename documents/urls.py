"""Documents URLs; annotations and notices include their own modules."""

from django.urls import include, path

app_name = "documents"
urlpatterns: list = [
    path("annotations/", include("documents.annotations.urls")),
    path("notices/", include("documents.notices.urls")),
]
