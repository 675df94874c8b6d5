"""Documents and their versions. Knows the organisation (bodies), never meetings."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from council.models import Body, Council


class Document(models.Model):
    """An agenda document (議案書, 説明資料 …) with its visibility and release state."""

    class Visibility(models.TextChoices):
        PUBLIC = "public", _("Public")
        MEMBERS = "members", _("Members of the body")
        SECRETARIAT = "secretariat", _("Secretariat only")
        CLOSED_SESSION = "closed", _("Closed session (秘密会)")

    class Release(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        RELEASED = "released", _("Released")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    council = models.ForeignKey(Council, on_delete=models.CASCADE, related_name="documents")
    body = models.ForeignKey(Body, on_delete=models.PROTECT, related_name="documents")
    title = models.CharField(_("title"), max_length=300)
    visibility = models.CharField(
        _("visibility"), max_length=20, choices=Visibility.choices, default=Visibility.MEMBERS
    )
    release_state = models.CharField(
        _("release"), max_length=20, choices=Release.choices, default=Release.DRAFT
    )
    release_at = models.DateTimeField(_("release at"), null=True, blank=True)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["-created_at", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def current_version(self) -> DocumentVersion | None:
        return self.versions.order_by("-number").first()


class DocumentVersion(models.Model):
    """One uploaded and accepted file of a document. Replacing a document adds a version."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    served_file = models.FileField(_("served copy (linearized)"), upload_to="documents/served/")
    original_file = models.FileField(_("original file"), upload_to="documents/original/")
    original_name = models.CharField(_("uploaded file name"), max_length=255)
    original_sha256 = models.CharField(max_length=64)
    served_sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField(_("size in bytes"))
    page_count = models.PositiveIntegerField(_("pages"))
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("document version")
        verbose_name_plural = _("document versions")
        ordering = ["document", "number"]
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="document_version_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.document} v{self.number}"
