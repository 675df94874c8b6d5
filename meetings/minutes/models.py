"""Minutes (会議録, §123): versions of a sitting's minutes, their blocks, signers and signatures,
and the background jobs that draft and render them.

A ``Minutes`` row is one version. A correction after signing makes a new version linked to the
one it corrects; nothing is overwritten. Facts (the roll, times, votes) are snapshots of the
sitting's record taken when the draft is generated; they are not editable here.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from council.models import Person
from meetings.models import AgendaItem, Sitting


class Minutes(models.Model):
    """会議録: one version of the minutes of one sitting."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        REVIEW = "review", _("Under review")
        SIGNED = "signed", _("Signed")
        PUBLISHED = "published", _("Published")

    sitting = models.ForeignKey(Sitting, on_delete=models.PROTECT, related_name="minutes_versions")
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    corrects = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="correction",
        verbose_name=_("corrects version"),
    )
    correction_reason = models.TextField(_("reason for the correction"), blank=True)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.DRAFT)
    title = models.CharField(_("title"), max_length=200)
    # Facts snapshotted from the record: times, attendance, officials, secretariat, order of business.
    header = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(_("submitted for review at"), null=True, blank=True)
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    text_sha256 = models.CharField(_("text SHA-256"), max_length=64, blank=True)
    pdf = models.FileField(_("PDF"), upload_to="minutes/%Y/", blank=True)
    pdf_sha256 = models.CharField(_("PDF SHA-256"), max_length=64, blank=True)
    # The audit chain's head as signed at sign-off (council/checkpoints.py), printed in the PDF.
    audit_checkpoint = models.ForeignKey(
        "council.AuditCheckpoint", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    pages = models.PositiveIntegerField(_("pages"), null=True, blank=True)
    # Plain text of the whole document, for the public full-text search.
    search_text = models.TextField(blank=True, editable=False)

    class Meta:
        verbose_name = _("minutes")
        verbose_name_plural = _("minutes")
        ordering = ["sitting", "version"]
        constraints = [
            models.UniqueConstraint(fields=["sitting", "version"], name="minutes_unique_version"),
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"

    @property
    def is_frozen(self) -> bool:
        return self.state in (self.State.SIGNED, self.State.PUBLISHED)

    @property
    def is_editable(self) -> bool:
        return self.state == self.State.DRAFT


class Block(models.Model):
    """One block of the proceedings (会議の次第), in order.

    Speeches and procedural remarks carry text typed by the clerk; headings, status changes
    (開議・休憩・再開・散会) and votes are facts drawn from the record and never edited here."""

    class Kind(models.TextChoices):
        HEADING = "heading", _("Agenda item")
        SPEECH = "speech", _("Speech")
        REMARK = "remark", _("Procedural remark")
        STATUS = "status", _("Opening, recess or closing")
        VOTE = "vote", _("Vote")

    EDITABLE_KINDS = (Kind.SPEECH, Kind.REMARK)

    minutes = models.ForeignKey(Minutes, on_delete=models.CASCADE, related_name="blocks")
    position = models.PositiveIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    agenda_item = models.ForeignKey(
        AgendaItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    speaker = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # 「議長」「3番」「町長」: the role the speaker spoke in, as printed in the heading.
    speaker_role = models.CharField(_("speaker's role"), max_length=50, blank=True)
    speaker_name = models.CharField(_("speaker's name"), max_length=100, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    text = models.TextField(_("text"), blank=True)
    # The fact itself, for status and vote blocks (counts, names, result as recorded).
    data = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=60, blank=True, help_text="record row this block came from")
    revision = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("block")
        verbose_name_plural = _("blocks")
        ordering = ["minutes", "position"]
        constraints = [
            models.UniqueConstraint(fields=["minutes", "position"], name="minutes_block_unique_position"),
        ]

    def __str__(self) -> str:
        return f"{self.minutes_id}#{self.position} {self.kind}"

    @property
    def is_editable(self) -> bool:
        return self.kind in self.EDITABLE_KINDS

    @property
    def is_suggestion(self) -> bool:
        """A line of the chair's suggested by the draft (議題・採決の宣告 …), not a recorded turn."""
        return self.kind == self.Kind.SPEECH and self.source.startswith("chair:")

    @property
    def is_untouched_suggestion(self) -> bool:
        return self.is_suggestion and self.text == (self.data or {}).get("template_text")

    @property
    def is_deletable(self) -> bool:
        return self.kind == self.Kind.REMARK or self.is_suggestion

    @property
    def heading(self) -> str:
        """「議長(山田太郎君)」"""
        if not self.speaker_role:
            return self.speaker_name
        return f"{self.speaker_role}({self.speaker_name}君)" if self.speaker_name else self.speaker_role


class Signatory(models.Model):
    """Who signs: the chair and the members nominated at the sitting (会議録署名議員)."""

    class Role(models.TextChoices):
        CHAIR = "chair", _("Chair")
        SIGNER = "signer", _("Nominated signer")

    minutes = models.ForeignKey(Minutes, on_delete=models.CASCADE, related_name="signatories")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("signatory")
        verbose_name_plural = _("signatories")
        ordering = ["minutes", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["minutes", "person"], name="minutes_signatory_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.person} ({self.get_role_display()})"


class Signature(models.Model):
    """An electronic sign-off: who approved which text (its SHA-256) and when."""

    minutes = models.ForeignKey(Minutes, on_delete=models.PROTECT, related_name="signatures")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(_("role"), max_length=10, choices=Signatory.Role.choices)
    signed_at = models.DateTimeField(_("signed at"), default=timezone.now)
    text_sha256 = models.CharField(_("text SHA-256"), max_length=64)

    class Meta:
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        ordering = ["minutes", "signed_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["minutes", "person"], name="minutes_signature_once"),
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.signed_at:%Y-%m-%d %H:%M}"


class GenerationJob(models.Model):
    """A background job drafting the minutes from the record or rendering their PDF."""

    class Kind(models.TextChoices):
        DRAFT = "draft", _("Draft from the record")
        PDF = "pdf", _("Render PDF")

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    sitting = models.ForeignKey(Sitting, on_delete=models.CASCADE, related_name="+")
    minutes = models.ForeignKey(Minutes, on_delete=models.CASCADE, null=True, blank=True, related_name="jobs")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    final = models.BooleanField(default=False, help_text="the frozen PDF of signed minutes")
    progress = models.PositiveSmallIntegerField(default=0)
    message = models.CharField(max_length=200, blank=True)
    output = models.FileField(upload_to="minutes/previews/%Y/", blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("generation job")
        verbose_name_plural = _("generation jobs")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="minutes_job_progress_range"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.state} {self.progress}%"
