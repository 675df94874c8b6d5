"""URL routes. Each app contributes its own ``urls`` module."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from council import org_views
from council.ops import views as ops_views
from council.security import views as security_views
from meetings import views as meetings_views

urlpatterns = [
    path("", meetings_views.home, name="home"),
    path("healthz", ops_views.healthz, name="healthz"),  # monitoring: database, channel layer, worker
    path(
        "accounts/login/", security_views.SignInView.as_view(), name="login"
    ),  # throttled, optional 2nd factor
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("settings/text-size/", org_views.text_size, name="text_size"),
    path("admin/", admin.site.urls),
    path("council/", include("council.org_urls")),
    path("security/", include("council.security.urls")),
    path("meetings/", include("meetings.urls")),
    path("documents/", include("documents.urls")),
]
