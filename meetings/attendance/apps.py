"""The roll (出席), remote attendance, exclusions and the quorum computed from them."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AttendanceConfig(AppConfig):
    name = "meetings.attendance"
    label = "attendance"
    verbose_name = _("Attendance")
