"""Attendance (the roll), remote attendance, the floor, motions, polls and ballots."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VotingConfig(AppConfig):
    name = "meetings.voting"
    label = "voting"
    verbose_name = _("Voting")

    def ready(self) -> None:
        from meetings.voting import handlers

        handlers.register()
