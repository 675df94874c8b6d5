"""Django admin: the roll is shown read-only; it changes only through the services."""

from __future__ import annotations

from django.contrib import admin

from council.admin import ReadOnlyAdmin
from meetings.attendance.models import Attendance, Exclusion, RemoteAttendanceRequest


@admin.register(Attendance)
class AttendanceAdmin(ReadOnlyAdmin):
    list_display = ["sitting", "person", "role", "status", "absence_reason", "arrived_at", "left_at"]
    list_filter = ["status", "role"]


@admin.register(RemoteAttendanceRequest)
class RemoteAttendanceRequestAdmin(ReadOnlyAdmin):
    list_display = ["sitting", "person", "decision", "applied_at", "decided_at", "disconnected_at"]


@admin.register(Exclusion)
class ExclusionAdmin(ReadOnlyAdmin):
    list_display = ["agenda_item", "person", "reason", "recorded_at"]
