"""Sending notices (お知らせ), read receipts (既読), resending to those who have not read, and the
automatic announcements other areas call:

- ``notify_document_released(document=..., actor=...)`` when a document is released,
- ``notify_document_replaced(version=..., actor=...)`` after a replacement (差し替え),
- ``notify_agenda_changed(body=..., title=..., link=..., actor=...)`` when a published order of
  business changes (meetings passes plain values; this module imports nothing from meetings),
- ``notify_signature_requested(council=..., people=..., title=..., link=...)`` when something awaits
  people's signature (the minutes sent for sign-off).

E-mail goes through Django's e-mail backend, queued after commit for the job worker (django-tasks),
when ``COUNCIL_NOTICE_EMAIL`` is on: a slow mail server never holds up a request.
E-mails carry the title, the message and a link, never attachments or document files.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task

from council.audit import audit_record
from council.errors import DomainError
from council.models import Body, Council, Membership, Person
from documents.models import Document, DocumentVersion
from documents.notices import permissions
from documents.notices.models import Notice, NoticeAttachment, NoticeReceipt

MAX_ATTACHMENTS = 10


class NoticeError(DomainError):
    """A refused notice operation; the message is translated and shown as is."""


# --- Recipients ---------------------------------------------------------------------------


def members_of(body: Body) -> list:
    """Users of the councillors now sitting on ``body`` (the plenary: every councillor in office)."""
    people = Person.objects.filter(
        council_id=body.council_id,
        active=True,
        kind=Person.Kind.COUNCILLOR,
        user__isnull=False,
        user__is_active=True,
    )
    if not body.is_plenary:
        ids = Membership.objects.filter(body=body).active().values("person_id")
        people = people.filter(pk__in=ids)
    return [p.user for p in people.select_related("user")]


def readers_of(document: Document) -> list:
    """Everyone (not the secretariat) who may read the document: members of its body, and officials
    for members-visibility documents (as ``documents.permissions.can_view`` decides)."""
    from documents.permissions import can_view

    people = Person.objects.filter(
        council_id=document.council_id,
        active=True,
        user__isnull=False,
        user__is_active=True,
        kind__in=[Person.Kind.COUNCILLOR, Person.Kind.OFFICIAL],
    ).select_related("user")
    return [p.user for p in people if can_view(p.user, document)]


# --- E-mail -------------------------------------------------------------------------------


def _email_enabled() -> bool:
    return bool(getattr(settings, "COUNCIL_NOTICE_EMAIL", False))


def _email_after_commit(notice_id: int, user_ids: list[int]) -> None:
    if not _email_enabled() or not user_ids:
        return
    transaction.on_commit(lambda: send_notice_emails.enqueue(notice_id, list(user_ids)))


@task()
def send_notice_emails(notice_id: int, user_ids: list[int]) -> None:
    """The queued e-mails of one notice, run by the job worker."""
    _send_emails(notice_id, user_ids)


def _send_emails(notice_id: int, user_ids: list[int]) -> None:
    notice = Notice.objects.get(pk=notice_id)
    users = get_user_model().objects.filter(pk__in=user_ids).exclude(email="")
    base = getattr(settings, "COUNCIL_BASE_URL", "").rstrip("/")
    messages = []
    with translation.override(settings.LANGUAGE_CODE):
        subject = f"[{notice.council.name}] {notice.get_kind_display()}: {notice.title}"
        lines = [notice.title, "", notice.body] if notice.body else [notice.title]
        if notice.link:
            lines += ["", base + notice.link]
        lines += ["", _("Open the council platform to read it. Attachments are not sent by e-mail.")]
        text = "\n".join(lines)
    for user in users:
        messages.append(EmailMessage(subject=subject, body=text, to=[user.email]))
    if messages:
        get_connection(fail_silently=True).send_messages(messages)
        NoticeReceipt.objects.filter(notice_id=notice_id, user__in=users).update(emailed_at=timezone.now())


# --- Sending ------------------------------------------------------------------------------


def _deliver(notice: Notice, users: Iterable) -> list[int]:
    now = timezone.now()
    ids = sorted({u.pk for u in users})
    NoticeReceipt.objects.bulk_create(
        [NoticeReceipt(notice=notice, user_id=uid, delivered_at=now, last_sent_at=now) for uid in ids],
        ignore_conflicts=True,
    )
    return ids


def notice_send(
    *,
    sender,
    council: Council,
    title: str,
    body: str = "",
    bodies: Iterable[Body] = (),
    members: Iterable = (),
    attachments: Iterable[UploadedFile] = (),
) -> Notice:
    """The secretariat sends a notice to whole bodies and/or chosen members (users or people)."""
    if not permissions.can_send(sender):
        raise NoticeError(_("Only the secretariat can send notices."))
    title = (title or "").strip()
    if not title:
        raise NoticeError(_("Give the notice a title."))
    if len(title) > 200:
        raise NoticeError(_("The title is too long (at most 200 characters)."))
    bodies = [b for b in bodies if b.council_id == council.pk]
    users = {}
    for b in bodies:
        for user in members_of(b):
            users[user.pk] = user
    for member in members:
        user = getattr(member, "user", member)
        person = getattr(user, "person", None)
        if user is not None and person is not None and person.council_id == council.pk and person.active:
            users[user.pk] = user
    if not users:
        raise NoticeError(_("Choose a body or at least one member to send the notice to."))
    attachments = list(attachments)
    if len(attachments) > MAX_ATTACHMENTS:
        raise NoticeError(_("At most %(count)d attachments.") % {"count": MAX_ATTACHMENTS})
    limit = int(getattr(settings, "COUNCIL_NOTICE_ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024))
    for upload in attachments:
        if upload.size > limit:
            raise NoticeError(_("The attachment %(name)s is too large.") % {"name": upload.name})
    with transaction.atomic():
        notice = Notice.objects.create(
            council=council, kind=Notice.Kind.MESSAGE, title=title, body=body.strip(), sender=sender
        )
        notice.bodies.set(bodies)
        for upload in attachments:
            attachment = NoticeAttachment(
                notice=notice,
                original_name=upload.name[:255],
                size=upload.size,
                content_type=(upload.content_type or "application/octet-stream")[:100],
            )
            attachment.file.save("upload", upload, save=False)
            attachment.save()
        ids = _deliver(notice, users.values())
        audit_record(
            action="notices.sent",
            actor=sender,
            target=notice,
            data={
                "title": title,
                "bodies": [b.pk for b in bodies],
                "recipients": len(ids),
                "attachments": [a.original_name for a in notice.attachments.all()],
            },
        )
        _email_after_commit(notice.pk, ids)
    return notice


def notice_open(*, notice: Notice, user) -> NoticeReceipt | None:
    """The recipient opened the notice: record the first time (既読)."""
    receipt = NoticeReceipt.objects.filter(notice=notice, user=user).first()
    if receipt is None or receipt.opened_at:
        return receipt
    NoticeReceipt.objects.filter(pk=receipt.pk, opened_at__isnull=True).update(opened_at=timezone.now())
    receipt.refresh_from_db()
    return receipt


def notice_resend(*, notice: Notice, actor) -> int:
    """Send the notice again to the recipients who have not opened it. Returns how many."""
    if not permissions.can_send(actor):
        raise NoticeError(_("Only the secretariat can send notices."))
    now = timezone.now()
    with transaction.atomic():
        unread = NoticeReceipt.objects.select_for_update().filter(notice=notice, opened_at__isnull=True)
        ids = list(unread.values_list("user_id", flat=True))
        if not ids:
            raise NoticeError(_("Everyone has opened this notice."))
        for receipt in unread:
            receipt.sent_count += 1
            receipt.last_sent_at = now
            receipt.save(update_fields=["sent_count", "last_sent_at"])
        Notice.objects.filter(pk=notice.pk).update(last_sent_at=now)
        audit_record(action="notices.resent", actor=actor, target=notice, data={"recipients": len(ids)})
        _email_after_commit(notice.pk, ids)
    return len(ids)


# --- Automatic announcements ----------------------------------------------------------------


def _announce(
    *,
    kind: str,
    council: Council,
    title: str,
    users: list,
    actor=None,
    document: Document | None = None,
    version: DocumentVersion | None = None,
    link: str = "",
    body: str = "",
    bodies: Iterable[Body] = (),
) -> Notice | None:
    if not users:
        return None
    try:
        with transaction.atomic():
            notice = Notice.objects.create(
                council=council,
                kind=kind,
                title=title[:200],
                body=body,
                sender=actor,
                document=document,
                version=version,
                link=link[:300],
            )
            notice.bodies.set(list(bodies))
            ids = _deliver(notice, users)
            audit_record(
                action=f"notices.{kind}",
                actor=actor,
                target=notice,
                data={
                    "document": document.pk if document else None,
                    "version": version.pk if version else None,
                    "recipients": len(ids),
                },
            )
            _email_after_commit(notice.pk, ids)
    except IntegrityError:  # already announced (by the sweep or by the documents area)
        return None
    return notice


def _document_link(document: Document) -> str:
    from django.urls import NoReverseMatch, reverse

    for name in ("documents:read", "documents:detail"):
        try:
            return reverse(name, kwargs={"document_id": document.pk})
        except NoReverseMatch:
            continue
    return ""


def notify_document_released(*, document: Document, actor=None) -> Notice | None:
    """Tell every reader of a just-released document (once per document)."""
    version = document.current_version
    if Notice.objects.filter(kind=Notice.Kind.DOCUMENT_RELEASED, document=document).exists():
        return None
    return _announce(
        kind=Notice.Kind.DOCUMENT_RELEASED,
        council=document.council,
        title=document.title,
        users=readers_of(document),
        actor=actor,
        document=document,
        version=version,
        link=_document_link(document),
        bodies=[document.body],
    )


def notify_document_replaced(*, version: DocumentVersion, actor=None) -> Notice | None:
    """Tell every reader of a released document that it was replaced (差し替え), once per version."""
    from documents.permissions import is_released

    document = version.document
    if not is_released(document):
        return None
    return _announce(
        kind=Notice.Kind.DOCUMENT_REPLACED,
        council=document.council,
        title=document.title,
        users=readers_of(document),
        actor=actor,
        document=document,
        version=version,
        link=_document_link(document),
        body=getattr(version, "note", "") or "",
        bodies=[document.body],
    )


AGENDA_COALESCE = datetime.timedelta(minutes=30)


def notify_agenda_changed(
    *, body: Body, title: str, link: str = "", actor=None, summary: str = ""
) -> Notice | None:
    """Tell the members of ``body`` that a published order of business changed.

    Call it after each change of a published order of business (``link`` identifies the sitting).
    Changes within half an hour of the last announcement for the same sitting update that notice
    (it becomes unread again and moves to the top) instead of sending another one."""
    now = timezone.now()
    if link:
        with transaction.atomic():
            recent = (
                Notice.objects.select_for_update()
                .filter(
                    kind=Notice.Kind.AGENDA_CHANGED, link=link[:300], created_at__gte=now - AGENDA_COALESCE
                )
                .order_by("-created_at")
                .first()
            )
            if recent is not None:
                recent.last_sent_at = now
                recent.title = title[:200]
                recent.save(update_fields=["last_sent_at", "title"])
                recent.receipts.update(opened_at=None, last_sent_at=now)
                audit_record(action="notices.agenda_changed_again", actor=actor, target=recent, data={})
                return recent
    return _announce(
        kind=Notice.Kind.AGENDA_CHANGED,
        council=body.council,
        title=title,
        users=members_of(body),
        actor=actor,
        link=link,
        body=summary,
        bodies=[body],
    )


def notify_signature_requested(
    *, council: Council, people: Iterable[Person], title: str, link: str, actor=None
) -> Notice | None:
    """Tell the people whose signature is awaited (the chair and the signers of minutes sent for
    sign-off), with a link to what they sign. Those without an active account are skipped."""
    users = [p.user for p in people if p.user_id and p.active and p.user.is_active]
    with translation.override(settings.LANGUAGE_CODE):
        body = _("Please read the text and sign it. Until everyone has signed, it cannot be published.")
    return _announce(
        kind=Notice.Kind.SIGNATURE_REQUESTED,
        council=council,
        title=title,
        users=users,
        actor=actor,
        link=link,
        body=body,
    )


ANNOUNCE_WINDOW = datetime.timedelta(days=2)


def announce_documents(*, now: datetime.datetime | None = None) -> int:
    """Announce every document released, and every replacement made, in the last two days that has
    not been announced yet. Idempotent (a unique constraint backs it), so it runs from cron
    (``manage.py announce_documents``) and whenever a member's notices are shown; scheduled
    releases are announced as soon as their time has passed. Returns how many notices it made."""
    from documents.permissions import released_q

    now = now or timezone.now()
    since = now - ANNOUNCE_WINDOW
    made = 0
    announced = Notice.objects.filter(kind=Notice.Kind.DOCUMENT_RELEASED).values("document_id")
    fresh = (
        Document.objects.filter(released_q(now=now))
        .filter(Q(released_at__gte=since) | Q(released_at__isnull=True, release_at__gte=since))
        .exclude(pk__in=announced)
        .select_related("council", "body")
    )
    for document in fresh[:100]:
        made += bool(notify_document_released(document=document))
    replaced = Notice.objects.filter(kind=Notice.Kind.DOCUMENT_REPLACED).values("version_id")
    versions = (
        DocumentVersion.objects.filter(
            number__gt=1, created_at__gte=since, document__in=Document.objects.filter(released_q(now=now))
        )
        .exclude(pk__in=replaced)
        .select_related("document", "document__council", "document__body")
    )
    for version in versions[:100]:
        document = version.document
        released_when = document.released_at or document.release_at
        if released_when is None or version.created_at <= released_when:
            continue  # replaced before release: the release notice covers it
        if document.current_version != version:
            continue
        made += bool(notify_document_replaced(version=version))
    return made


def document_remind_unread(*, document: Document, actor) -> int:
    """Ask the readers who have not opened a released document to read it (既読 follow-up)."""
    from documents.notices.selectors import document_readers

    if not permissions.can_send(actor):
        raise NoticeError(_("Only the secretariat can send notices."))
    unread = [row.user for row in document_readers(document) if row.opened_at is None]
    if not unread:
        raise NoticeError(_("Everyone has opened this document."))
    _announce(
        kind=Notice.Kind.DOCUMENT_REMINDER,
        council=document.council,
        title=document.title,
        users=unread,
        actor=actor,
        document=document,
        link=_document_link(document),
        bodies=[document.body],
    )
    return len(unread)
