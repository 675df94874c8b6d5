"""The server-owned live state of a sitting, its status changes and who is connected.

``LiveState`` is one row per sitting: what is presented (agenda item, document, version, page),
who presents, and one sequence counter per audience stream (members, public, clerks). Every
change goes through ``meetings.live.services`` and ``meetings.events.publish``, which take the
row lock, bump the counter and send the event after commit.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from meetings.models import AgendaItem, Sitting


class LiveState(models.Model):
    """The live state of one sitting (会議), owned by the server and stored so restarts keep it."""

    sitting = models.OneToOneField(Sitting, on_delete=models.CASCADE, primary_key=True, related_name="live")
    agenda_item = models.ForeignKey(
        AgendaItem,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("current agenda item"),
    )
    document = models.ForeignKey(
        "documents.Document",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("presented document"),
    )
    version = models.ForeignKey(
        "documents.DocumentVersion",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("presented version"),
    )
    page = models.PositiveIntegerField(_("presented page"), default=1)
    # None: the default presenters (the secretariat and the chair). Set by a handover.
    presenter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("current presenter"),
    )
    # One counter per audience stream, so every audience can detect gaps in what it receives.
    seq = models.PositiveBigIntegerField(default=0)
    public_seq = models.PositiveBigIntegerField(default=0)
    clerk_seq = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("live state")
        verbose_name_plural = _("live states")

    def __str__(self) -> str:
        return f"live state of sitting {self.sitting_id} (seq {self.seq})"


class StatusChange(models.Model):
    """Every open, recess, resume and close of a sitting with its time and who did it (for the minutes)."""

    class Action(models.TextChoices):
        OPEN = "open", _("Opening (開会)")
        RECESS = "recess", _("Recess (休憩)")
        RESUME = "resume", _("Resumption (再開)")
        CLOSE = "close", _("Closing (散会)")

    sitting = models.ForeignKey(Sitting, on_delete=models.CASCADE, related_name="status_changes")
    action = models.CharField(_("status change"), max_length=10, choices=Action.choices)
    from_status = models.CharField(max_length=20)
    to_status = models.CharField(max_length=20)
    at = models.DateTimeField(_("time of change"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )

    class Meta:
        verbose_name = _("sitting status change")
        verbose_name_plural = _("sitting status changes")
        ordering = ["sitting", "at", "id"]

    def __str__(self) -> str:
        return f"{self.sitting_id} {self.action} {self.at:%H:%M}"


class LiveConnection(models.Model):
    """One connected socket of a signed-in participant, for the console's presence list.

    Rows of a process that died are recognised by ``seen_at`` going stale (each process
    refreshes its own rows periodically) and are ignored, then purged.
    """

    sitting = models.ForeignKey(Sitting, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    server = models.CharField(max_length=40, db_index=True)
    key = models.CharField(max_length=40, unique=True)
    following = models.BooleanField(default=True)
    page = models.PositiveIntegerField(null=True, blank=True)
    connected_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("live connection")
        verbose_name_plural = _("live connections")
        indexes = [models.Index(fields=["sitting", "seen_at"], name="live_conn_sitting_seen")]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.sitting_id}"
