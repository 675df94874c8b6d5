"""Attendance (the roll), remote attendance, the floor, motions, polls and ballots."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VotingConfig(AppConfig):
    name = "meetings.voting"
    label = "voting"
    verbose_name = _("Voting")

    def ready(self) -> None:
        try:
            import meetings.live.protocol  # noqa: F401
        except ImportError:  # the live area is not installed: nothing to register with
            return
        from meetings.voting import handlers

        handlers.register()
