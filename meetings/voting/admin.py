"""Django admin: the council's special-majority presets are configured here; the record itself
(floor, motions, polls, ballots) is shown read-only — it changes only through the services,
which keep the audit chain and the rules."""

from __future__ import annotations

from django.contrib import admin

from council.admin import AuditedAdmin, ReadOnlyAdmin
from meetings.voting.models import Ballot, FloorTurn, MajorityPreset, Motion, Poll


@admin.register(MajorityPreset)
class MajorityPresetAdmin(AuditedAdmin):
    list_display = [
        "council",
        "key",
        "label",
        "attendance_num",
        "attendance_den",
        "approval_num",
        "approval_den",
    ]
    list_filter = ["council"]


@admin.register(FloorTurn)
class FloorTurnAdmin(ReadOnlyAdmin):
    list_display = ["sitting", "person", "status", "requested_at", "granted_at", "ended_at"]


@admin.register(Motion)
class MotionAdmin(ReadOnlyAdmin):
    list_display = ["agenda_item", "title", "requirement", "requirement_label"]


@admin.register(Poll)
class PollAdmin(ReadOnlyAdmin):
    list_display = [
        "motion",
        "method",
        "state",
        "yes_count",
        "no_count",
        "outcome",
        "casting_vote",
        "opened_at",
    ]
    list_filter = ["method", "state", "outcome"]
    exclude = ["seal_public_key", "seal_key_name"]

    def get_exclude(self, request, obj=None):
        # A secret ballot has no counts until it is closed; show none while it is open.
        exclude = list(super().get_exclude(request, obj) or [])
        if obj is not None and obj.is_secret and obj.state == Poll.State.OPEN:
            exclude += ["yes_count", "no_count"]
        return exclude


@admin.register(Ballot)
class BallotAdmin(ReadOnlyAdmin):
    list_display = ["poll", "member", "choice", "cast_at"]
