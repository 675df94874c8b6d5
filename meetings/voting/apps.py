"""Voting: the floor, motions, polls and ballots, and the services that keep the roll (its records and
the quorum are in ``meetings.attendance``, below both live and voting)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VotingConfig(AppConfig):
    name = "meetings.voting"
    label = "voting"
    verbose_name = _("Voting")

    def ready(self) -> None:
        from meetings.voting import handlers

        handlers.register()
