"""Operations: the job worker and its heartbeat, the health check, structured request logs."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    name = "council.ops"
    label = "ops"
    verbose_name = _("Operations")
