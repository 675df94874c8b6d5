"""Notices (お知らせ) from the secretariat to bodies or chosen members, with attachments and
read receipts (既読); also the automatic announcements of new and replaced documents and of
changed orders of business."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from council.models import Body, Council
from documents.models import Document, DocumentVersion


class Notice(models.Model):
    class Kind(models.TextChoices):
        MESSAGE = "message", _("Notice")
        DOCUMENT_RELEASED = "document_released", _("New document")
        DOCUMENT_REPLACED = "document_replaced", _("Replaced document")
        DOCUMENT_REMINDER = "document_reminder", _("Please read")
        AGENDA_CHANGED = "agenda_changed", _("Order of business changed")
        SIGNATURE_REQUESTED = "signature_requested", _("Your signature is requested")

    council = models.ForeignKey(Council, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices, default=Kind.MESSAGE)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    bodies = models.ManyToManyField(Body, blank=True, related_name="+", verbose_name=_("bodies"))
    document = models.ForeignKey(Document, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    version = models.ForeignKey(
        DocumentVersion, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # Where the notice points (a document in the reader, a sitting's order of business).
    link = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    last_sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-last_sent_at", "-id"]
        constraints = [
            # A release or a replacement is announced once, whoever notices it first.
            models.UniqueConstraint(
                fields=["kind", "version"],
                condition=Q(kind__in=["document_released", "document_replaced"]),
                name="notice_unique_announcement",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def document_withdrawn(self) -> bool:
        """The document this notice announced has since been withdrawn: the notice says so
        instead of pointing at it."""
        return self.document is not None and self.document.release_state == Document.Release.WITHDRAWN


def attachment_upload_to(instance, filename: str) -> str:
    """Stored under a generated name; the original name is kept in the row."""
    return f"notices/{uuid.uuid4().hex}"


class NoticeAttachment(models.Model):
    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_upload_to)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(max_length=100, default="application/octet-stream")
    size = models.BigIntegerField(_("size in bytes"))

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["notice", "id"]

    def __str__(self) -> str:
        return self.original_name


class NoticeReceipt(models.Model):
    """One recipient of a notice: when it reached them, when they opened it (既読), resends."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="receipts")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_receipts"
    )
    delivered_at = models.DateTimeField(default=timezone.now)
    opened_at = models.DateTimeField(_("opened"), null=True, blank=True)
    sent_count = models.PositiveSmallIntegerField(default=1)
    last_sent_at = models.DateTimeField(default=timezone.now)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notice receipt")
        verbose_name_plural = _("notice receipts")
        ordering = ["notice", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["notice", "user"], name="notice_receipt_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.notice_id}:{self.user_id}"
