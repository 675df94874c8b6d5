"""Documents and their versions. Knows the organisation (bodies), never meetings."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from council.models import Body, Council


class Document(models.Model):
    """An agenda document (議案書, 説明資料 …) with its visibility and release state."""

    class Visibility(models.TextChoices):
        PUBLIC = "public", pgettext_lazy("document visibility", "Public")
        MEMBERS = "members", _("Members of the body")
        SECRETARIAT = "secretariat", _("Secretariat only")
        CLOSED_SESSION = "closed", _("Closed session (秘密会)")

    class Release(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", pgettext_lazy("document release", "Scheduled")
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
    # Set on replacement: {"pages": [old, new], "unchanged": {old: new}, "changed": [...], "added": [...],
    # "removed": [...]} (see documents.services.page_changes).
    change_summary = models.JSONField(_("changes from the previous version"), default=dict, blank=True)
    note = models.CharField(_("reason for the replacement"), max_length=300, blank=True)
    # What the platform changed in the served copy of the uploaded file, as the ingest worker
    # reported it: [{"code": "restrictions_removed", "encryption": "AES-128"}, {"code":
    # "leading_bytes_removed", "bytes": 3}, {"code": "open_action_removed", "action": "Named Print"},
    # ...]; sentences from ``documents.ingest.change_message``. The original file is kept unchanged.
    ingest_changes = models.JSONField(_("changes made on upload"), default=list, blank=True)
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

    @property
    def ingest_notes(self) -> list[str]:
        """``ingest_changes`` as sentences in the current language."""
        from documents.ingest import change_message

        return [change_message(change) for change in self.ingest_changes or [] if isinstance(change, dict)]


def _generated_name(prefix: str, suffix: str) -> str:
    import uuid

    return f"{prefix}{uuid.uuid4().hex}{suffix}"


def thumbnail_upload_to(instance, filename: str) -> str:
    """Thumbnails are stored under generated names, never the uploaded file's name."""
    return _generated_name("documents/thumbs/", ".jpg")


class Page(models.Model):
    """One page of a version: its text (for search), hashes (for change detection) and thumbnail.

    ``text_hash`` and ``content_hash`` decide whether a page is unchanged by a replacement
    (差し替え); annotations keyed by (document, version, page) are carried to the new version
    only for unchanged pages."""

    version = models.ForeignKey(DocumentVersion, on_delete=models.CASCADE, related_name="pages")
    number = models.PositiveIntegerField(_("page"))
    text = models.TextField(_("text"), blank=True)
    # NFKC-normalized text without whitespace: Japanese substring search across line breaks.
    search_text = models.TextField(blank=True)
    text_hash = models.CharField(max_length=64)
    content_hash = models.CharField(max_length=64)
    thumbnail = models.FileField(upload_to=thumbnail_upload_to, blank=True)
    width = models.FloatField(default=0)
    height = models.FloatField(default=0)

    class Meta:
        verbose_name = _("page")
        verbose_name_plural = _("pages")
        ordering = ["version", "number"]
        constraints = [
            models.UniqueConstraint(fields=["version", "number"], name="page_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.version} p{self.number}"


class Receipt(models.Model):
    """A user holds a document: the latest version they opened. Drives the "new"/"updated" badges."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="receipts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    version_number = models.PositiveIntegerField()
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        constraints = [
            models.UniqueConstraint(fields=["document", "user"], name="receipt_unique_holder"),
        ]

    def __str__(self) -> str:
        return f"{self.document_id}: user {self.user_id} v{self.version_number}"


class ReplacementNotice(models.Model):
    """Tells a holder that a document they hold was replaced (差し替え), with what changed."""

    version = models.ForeignKey(DocumentVersion, on_delete=models.CASCADE, related_name="notices")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("replacement notice")
        verbose_name_plural = _("replacement notices")
        ordering = ["-created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "user"], name="replacement_notice_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.version}: user {self.user_id}"
