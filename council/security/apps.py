"""Hardening: audit immutability, backups, sign-in throttling and second factors."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SecurityConfig(AppConfig):
    name = "council.security"
    label = "security"
    verbose_name = _("Security")

    def ready(self) -> None:
        from django.contrib import admin

        from council.security import signals, views  # noqa: F401 - signals registers its receivers

        # One sign-in page for everyone: the admin's own would skip the second factor.
        admin.site.login = views.admin_login
