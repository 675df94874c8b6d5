"""The roll of a sitting (出席簿): who is present in the room or online, absent, late or gone;
remote attendance (オンライン出席) and its identity checks (本人確認); exclusions (除斥, §117); and
the video call's join and leave suggestions.

The roll is the foundation of both the live sitting (the quorum to open and resume, who is in the
room) and of voting (who may vote), so it sits below both ``meetings.live`` and ``meetings.voting``.
The tables keep the names the voting app created them with (``voting_*``).

Every change goes through ``meetings.voting.services`` (roll, remote, identity, suggestions,
exclusions), which writes an audit entry; models only hold data and constraints.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from council.models import Person
from meetings.models import AgendaItem, Sitting


class Attendance(models.Model):
    """出席: one line of a sitting's roll for a member, an official attending to explain
    (説明のため出席した者) or secretariat staff (事務局職員)."""

    class Status(models.TextChoices):
        PRESENT_ROOM = "present_room", _("Present in the room")
        PRESENT_ONLINE = "present_online", _("Present online")
        ABSENT = "absent", _("Absent")
        LATE = "late", _("Late (遅参)")
        LEFT = "left", _("Left (早退)")

    class AbsenceReason(models.TextChoices):
        NONE = "", _("Not recorded")
        OFFICIAL_BUSINESS = "official_business", _("Official business (公務)")
        ILLNESS = "illness", _("Illness (病気)")
        CHILDBIRTH = "childbirth", _("Childbirth (出産)")
        CARE = "care", _("Nursing or care (育児・看護・介護)")
        OTHER = "other", _("Other")

    class Role(models.TextChoices):
        MEMBER = "member", _("Member")
        OFFICIAL = "official", _("Official attending to explain")
        SECRETARIAT = "secretariat", _("Secretariat staff")

    sitting = models.ForeignKey(Sitting, on_delete=models.CASCADE, related_name="attendances")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="attendances")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.MEMBER)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.ABSENT)
    absence_reason = models.CharField(
        _("reason for absence"), max_length=20, choices=AbsenceReason.choices, blank=True, default=""
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    left_at = models.DateTimeField(_("left at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        db_table = "voting_attendance"
        verbose_name = _("attendance")
        verbose_name_plural = _("attendances")
        ordering = ["sitting", "role", "person__seat_number", "person__id"]
        constraints = [
            models.UniqueConstraint(fields=["sitting", "person"], name="attendance_unique_person"),
        ]

    def __str__(self) -> str:
        return f"{self.person}: {self.get_status_display()}"

    @property
    def in_room(self) -> bool:
        """Physically present now: in the room, or arrived late and still here."""
        if self.status == self.Status.PRESENT_ROOM:
            return True
        return self.status == self.Status.LATE and self.arrived_at is not None


class AttendanceChange(models.Model):
    """Append-only history of the roll: every status change with its time and who made it."""

    attendance = models.ForeignKey(Attendance, on_delete=models.CASCADE, related_name="changes")
    status = models.CharField(max_length=20, choices=Attendance.Status.choices)
    absence_reason = models.CharField(max_length=20, blank=True, default="")
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    source = models.CharField(max_length=30, blank=True, help_text="clerk, check-in, disconnect, …")

    class Meta:
        db_table = "voting_attendancechange"
        verbose_name = _("attendance change")
        verbose_name_plural = _("attendance changes")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.attendance_id} → {self.status} at {self.at:%H:%M:%S}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("attendance history is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("attendance history is append-only")


class RemoteAttendanceRequest(models.Model):
    """オンライン出席の申出: a member asks the committee chair in advance, with a reason, to attend
    a sitting online. Counted present only once approved, identity-checked and checked in."""

    class Decision(models.TextChoices):
        PENDING = "pending", _("Waiting for the chair")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    sitting = models.ForeignKey(Sitting, on_delete=models.CASCADE, related_name="remote_requests")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="remote_requests")
    reason = models.CharField(_("reason"), max_length=300)
    applied_at = models.DateTimeField(_("applied at"), default=timezone.now)
    decision = models.CharField(
        _("decision"), max_length=20, choices=Decision.choices, default=Decision.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    disconnected_at = models.DateTimeField(_("disconnected by the chair at"), null=True, blank=True)
    disconnected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        db_table = "voting_remoteattendancerequest"
        verbose_name = _("remote attendance request")
        verbose_name_plural = _("remote attendance requests")
        ordering = ["applied_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["sitting", "person"], name="remote_request_unique_person"),
        ]

    def __str__(self) -> str:
        return f"{self.person} ({self.get_decision_display()})"


class IdentityCheck(models.Model):
    """本人確認 and connection check for a remote member, run and recorded by the clerk."""

    class Method(models.TextChoices):
        VIDEO = "video", _("Face on video")
        VIDEO_ID = "video_id", _("Face and ID card on video")
        PHONE = "phone", _("Phone call back")
        OTHER = "other", _("Other")

    request = models.ForeignKey(RemoteAttendanceRequest, on_delete=models.CASCADE, related_name="checks")
    checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("checked at"), default=timezone.now)
    method = models.CharField(_("method"), max_length=20, choices=Method.choices)
    passed = models.BooleanField(_("passed"), default=True)
    note = models.CharField(
        _("note"),
        max_length=200,
        blank=True,
        help_text=_("e.g. video and audio both ways, nobody else in the room"),
    )

    class Meta:
        db_table = "voting_identitycheck"
        verbose_name = _("identity check")
        verbose_name_plural = _("identity checks")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.request_id} {self.method} {'ok' if self.passed else 'failed'}"


class Exclusion(models.Model):
    """除斥 (§117): a member may not take part in a matter of personal interest. Not counted for
    quorum or voting on that agenda item."""

    agenda_item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, related_name="exclusions")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="exclusions")
    reason = models.CharField(_("reason"), max_length=300)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "voting_exclusion"
        verbose_name = _("exclusion (除斥)")
        verbose_name_plural = _("exclusions (除斥)")
        constraints = [
            models.UniqueConstraint(fields=["agenda_item", "person"], name="exclusion_unique_person"),
        ]

    def __str__(self) -> str:
        return f"{self.agenda_item}: {self.person}"


class AttendanceSuggestion(models.Model):
    """A join or leave event seen by the conferencing system (Jitsi), offered to the clerk.
    Never applied to the roll until the clerk accepts it."""

    class Event(models.TextChoices):
        JOINED = "joined", _("Joined the video call")
        LEFT = "left", _("Left the video call")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        DISMISSED = "dismissed", _("Dismissed")

    sitting = models.ForeignKey(Sitting, on_delete=models.CASCADE, related_name="attendance_suggestions")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    display_name = models.CharField(max_length=100)
    event = models.CharField(max_length=10, choices=Event.choices)
    at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        db_table = "voting_attendancesuggestion"
        verbose_name = _("attendance suggestion")
        verbose_name_plural = _("attendance suggestions")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.display_name} {self.event}"
