"""Members' private annotations, bookmarks and offline devices.

Annotations are private to their author: nothing here is registered in the admin, no page
or API shows them to anyone else, and audit entries never carry their content.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from documents.models import Document, DocumentVersion


class Annotation(models.Model):
    """One pen stroke, highlighter stroke or typed sticky note on one page of one version.

    Geometry is page-relative (0..1 from the top-left corner of the page as displayed), so it
    does not depend on zoom or screen size:

    - pen / highlighter: ``{"points": [[x, y, pressure], ...], "width": w}`` (w relative to page width)
    - note: ``{"x": x, "y": y}`` (the note's anchor)
    """

    class Kind(models.TextChoices):
        PEN = "pen", _("Pen")
        HIGHLIGHTER = "highlighter", _("Highlighter")
        NOTE = "note", _("Note")

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="annotations")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="annotations")
    version = models.ForeignKey(DocumentVersion, on_delete=models.CASCADE, related_name="annotations")
    page = models.PositiveIntegerField(_("page"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    colour = models.CharField(_("colour"), max_length=9, default="#d32f2f")
    geometry = models.JSONField(default=dict)
    text = models.TextField(_("text"), blank=True)
    # The id the member's device gave the annotation, so a change sent twice is applied once.
    client_id = models.UUIDField(default=uuid.uuid4)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    revision = models.PositiveIntegerField(default=1)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Replacement (差し替え): a note left on a changed page waits here for its member to look.
    needs_review = models.BooleanField(default=False)
    review_version = models.ForeignKey(
        DocumentVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Sync: the text that lost a concurrent edit is kept as a copy pointing at the winner.
    conflict_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="conflict_copies"
    )

    class Meta:
        verbose_name = _("annotation")
        verbose_name_plural = _("annotations")
        ordering = ["document", "version", "page", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["member", "client_id"], name="annotation_unique_client_id"),
            models.CheckConstraint(condition=Q(page__gte=1), name="annotation_page_positive"),
        ]
        indexes = [models.Index(fields=["member", "version", "page"])]

    def __str__(self) -> str:
        return f"annotation {self.pk}"


class Bookmark(models.Model):
    """A member's bookmark (しおり) on a page."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bookmarks")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="bookmarks")
    version = models.ForeignKey(DocumentVersion, on_delete=models.CASCADE, related_name="bookmarks")
    page = models.PositiveIntegerField(_("page"))
    label = models.CharField(_("label"), max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("bookmark")
        verbose_name_plural = _("bookmarks")
        ordering = ["document", "page", "id"]
        constraints = [
            models.UniqueConstraint(fields=["member", "version", "page"], name="bookmark_unique_page"),
        ]

    def __str__(self) -> str:
        return f"bookmark {self.pk}"


class OfflineDevice(models.Model):
    """A browser that keeps an offline packet. Revoking it wipes the copy when it next connects."""

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="offline_devices"
    )
    device_id = models.UUIDField(unique=True)
    label = models.CharField(_("device"), max_length=200, blank=True)
    registered_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    packet_at = models.DateTimeField(_("packet downloaded"), null=True, blank=True)
    expires_at = models.DateTimeField(_("offline copy expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    wiped_at = models.DateTimeField(_("copy removed"), null=True, blank=True)

    class Meta:
        verbose_name = _("offline device")
        verbose_name_plural = _("offline devices")
        ordering = ["member", "-last_seen_at"]

    def __str__(self) -> str:
        return f"device {self.pk}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_expired(self, now=None) -> bool:
        return bool(self.expires_at and self.expires_at <= (now or timezone.now()))


class AnnotationExport(models.Model):
    """A member's annotated copy of a document, rendered by the job worker (``annotations.jobs``).

    Owned by its member: only they may see its progress or fetch its file. The file holds the
    member's private notes, so it is kept a short time only (``EXPORT_KEEP``) and then removed.
    ``stage`` and ``error`` are codes; the pages show them in the reader's language.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="annotation_exports"
    )
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(DocumentVersion, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    stage = models.CharField(max_length=20, blank=True)
    error = models.CharField(max_length=20, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    annotation_count = models.PositiveIntegerField(default=0)
    output = models.FileField(upload_to="annotations/exports/%Y/", blank=True)
    size = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("annotated copy")
        verbose_name_plural = _("annotated copies")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="annotation_export_progress_range"),
        ]

    def __str__(self) -> str:
        return f"export {self.pk} {self.state}"

    @property
    def finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)

    @property
    def filename(self) -> str:
        return f"annotated-{self.document_id}-v{self.version.number}.pdf"
