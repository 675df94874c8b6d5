"""Notices (お知らせ), attachments, read receipts (既読), resending, automatic announcements, e-mail."""

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from council.audit import audit_verify
from documents.notices import selectors, services
from documents.notices.models import Notice, NoticeReceipt
from tests.annotations.helpers import make_document
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    c = Client()
    assert c.login(username=user.username, password=PASSWORD)
    return c


def send(org, **kw):
    defaults = dict(
        sender=org["clerk"].user,
        council=org["council"],
        title="全員協議会の開催について",
        body="12月3日 10時から全員協議会室で開催します。",
    )
    defaults.update(kw)
    return services.notice_send(**defaults)


def test_notice_to_a_body_reaches_its_members_only(org):
    notice = send(org, bodies=[org["committee"]])
    recipients = set(NoticeReceipt.objects.filter(notice=notice).values_list("user_id", flat=True))
    committee = {p.user_id for p in org["members"][2:7]}
    assert recipients == committee
    assert audit_verify().ok


def test_notice_to_chosen_members(org):
    chosen = [org["members"][0], org["members"][9]]
    notice = send(org, members=chosen)
    assert set(notice.receipts.values_list("user_id", flat=True)) == {p.user_id for p in chosen}


def test_notice_refusals(org):
    with pytest.raises(services.NoticeError, match="Only the secretariat can send notices."):
        send(org, sender=org["members"][0].user, bodies=[org["plenary"]])
    with pytest.raises(
        services.NoticeError, match="Choose a body or at least one member to send the notice to."
    ):
        send(org)
    with pytest.raises(services.NoticeError, match="Give the notice a title."):
        send(org, title="  ", bodies=[org["plenary"]])
    assert not Notice.objects.exists()


def test_notice_attachment_served_to_recipients_and_clerks_only(org, settings):
    upload = SimpleUploadedFile("日程表.pdf", b"%PDF-1.4 attachment", content_type="application/pdf")
    notice = send(org, members=[org["members"][4]], attachments=[upload])
    attachment = notice.attachments.get()
    assert attachment.original_name == "日程表.pdf"
    assert "日程表" not in attachment.file.name  # stored under a generated name
    url = reverse(
        "documents:notices:attachment", kwargs={"notice_id": notice.pk, "attachment_id": attachment.pk}
    )
    ok = login(org["members"][4].user).get(url)
    assert ok.status_code == 200 and b"".join(ok.streaming_content) == b"%PDF-1.4 attachment"
    assert login(org["clerk"].user).get(url).status_code == 200
    assert login(org["members"][5].user).get(url).status_code == 404
    assert Client().get(url).status_code == 302


def test_notice_attachment_size_limit(org, settings):
    settings.COUNCIL_NOTICE_ATTACHMENT_MAX_BYTES = 10
    upload = SimpleUploadedFile("big.pdf", b"x" * 11)
    with pytest.raises(services.NoticeError, match="The attachment big.pdf is too large."):
        send(org, members=[org["members"][4]], attachments=[upload])


def test_notice_read_receipt_recorded_on_first_open(org):
    notice = send(org, bodies=[org["committee"]])
    member = org["members"][4].user
    client = login(member)
    page = client.get(reverse("documents:notices:detail", kwargs={"notice_id": notice.pk}))
    assert "全員協議会の開催について" in page.content.decode()
    receipt = NoticeReceipt.objects.get(notice=notice, user=member)
    first = receipt.opened_at
    assert first is not None
    client.get(reverse("documents:notices:detail", kwargs={"notice_id": notice.pk}))
    receipt.refresh_from_db()
    assert receipt.opened_at == first
    # A member who is not a recipient cannot open it, and opening by the clerk records nothing.
    assert (
        login(org["members"][9].user)
        .get(reverse("documents:notices:detail", kwargs={"notice_id": notice.pk}))
        .status_code
        == 404
    )
    clerk_page = login(org["clerk"].user).get(
        reverse("documents:notices:detail", kwargs={"notice_id": notice.pk})
    )
    text = clerk_page.content.decode()
    assert "not opened" in text
    assert NoticeReceipt.objects.filter(notice=notice, opened_at__isnull=False).count() == 1


def test_notice_resend_to_unread_only_with_email(org, settings, django_capture_on_commit_callbacks):
    settings.COUNCIL_NOTICE_EMAIL = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    for p in org["members"][2:7]:
        p.user.email = f"{p.user.username}@example.org"
        p.user.save()
    with django_capture_on_commit_callbacks(execute=True):
        notice = send(org, bodies=[org["committee"]])
    assert len(mail.outbox) == 5
    assert "全員協議会の開催について" in mail.outbox[0].subject
    reader = org["members"][4].user
    services.notice_open(notice=notice, user=reader)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = login(org["clerk"].user).post(
            reverse("documents:notices:resend", kwargs={"notice_id": notice.pk})
        )
    assert response.status_code == 302
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        f"{p.user.username}@example.org" for p in org["members"][2:7] if p.user != reader
    )
    counts = dict(notice.receipts.values_list("user_id", "sent_count"))
    assert counts[reader.pk] == 1 and all(c == 2 for uid, c in counts.items() if uid != reader.pk)
    for p in org["members"][2:7]:
        services.notice_open(notice=notice, user=p.user)
    with pytest.raises(services.NoticeError, match="Everyone has opened this notice."):
        services.notice_resend(notice=notice, actor=org["clerk"].user)


def test_notice_no_email_unless_configured(org, settings, django_capture_on_commit_callbacks):
    settings.COUNCIL_NOTICE_EMAIL = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    org["members"][4].user.email = "a@example.org"
    org["members"][4].user.save()
    with django_capture_on_commit_callbacks(execute=True):
        send(org, members=[org["members"][4]])
    assert mail.outbox == []


def test_notice_resend_refused_for_members(org):
    notice = send(org, bodies=[org["committee"]])
    response = login(org["members"][4].user).post(
        reverse("documents:notices:resend", kwargs={"notice_id": notice.pk}), follow=True
    )
    assert "Only the secretariat can send notices." in response.content.decode()


def test_notice_panel_on_start_page_shows_unread(org):
    send(org, title="議会だより原稿の提出について", members=[org["members"][4]])
    page = login(org["members"][4].user).get("/")
    text = page.content.decode()
    assert "議会だより原稿の提出について" in text
    assert 'class="notice-item unread"' in text
    other = login(org["members"][5].user).get("/").content.decode()
    assert "議会だより原稿の提出について" not in other


def test_notice_unread_json_for_reader(org):
    notice = send(org, members=[org["members"][4]])
    data = login(org["members"][4].user).get(reverse("documents:notices:unread_json")).json()
    assert data["unread"] == 1 and data["notices"][0]["id"] == notice.pk


def test_notice_compose_form_sends_with_attachment(org):
    client = login(org["clerk"].user)
    upload = SimpleUploadedFile("資料.pdf", b"%PDF-1.4", content_type="application/pdf")
    response = client.post(
        reverse("documents:notices:compose"),
        {
            "title": "資料配付のお知らせ",
            "body": "",
            "bodies": [org["committee"].pk],
            "members": [org["members"][9].pk],
            "attachments": [upload],
        },
    )
    notice = Notice.objects.get()
    assert response.status_code == 302
    assert notice.receipts.count() == 6 and notice.attachments.count() == 1
    for who in (org["members"][4].user, org["official"].user):
        assert login(who).get(reverse("documents:notices:compose")).status_code == 403


def test_notice_document_released_announced_to_readers(org):
    doc = make_document(org["council"], org["committee"], title="議案第7号 補正予算")
    notice = services.notify_document_released(document=doc, actor=org["clerk"].user)
    recipients = set(notice.receipts.values_list("user_id", flat=True))
    assert recipients == {p.user_id for p in org["members"][2:7]} | {org["official"].user_id}
    assert notice.kind == Notice.Kind.DOCUMENT_RELEASED and notice.document == doc


def test_notice_agenda_changed_announced_to_body(org):
    notice = services.notify_agenda_changed(
        body=org["committee"],
        title="第3号 議事日程の変更",
        link="/meetings/sittings/1/",
        actor=org["clerk"].user,
    )
    assert notice.kind == Notice.Kind.AGENDA_CHANGED
    assert notice.receipts.count() == 5
    member = org["members"][4].user
    services.notice_open(notice=notice, user=member)
    # Another change soon after: the same notice comes back unread, no second notice.
    again = services.notify_agenda_changed(
        body=org["committee"],
        title="第3号 議事日程の変更(追加)",
        link="/meetings/sittings/1/",
        actor=org["clerk"].user,
    )
    assert again.pk == notice.pk and Notice.objects.count() == 1
    assert again.receipts.get(user=member).opened_at is None
    assert again.title == "第3号 議事日程の変更(追加)"


def test_notice_document_read_receipts_and_reminder(org):
    from documents.services import receipt_record

    doc = make_document(org["council"], org["committee"])
    receipt_record(user=org["members"][4].user, version=doc.current_version)
    rows = selectors.document_readers(doc)
    opened = {r.user.pk for r in rows if r.opened_at}
    assert opened == {org["members"][4].user_id}
    clerk = login(org["clerk"].user)
    page = clerk.get(reverse("documents:notices:document_read", kwargs={"document_id": doc.pk}))
    assert page.status_code == 200
    clerk.post(reverse("documents:notices:document_read", kwargs={"document_id": doc.pk}))
    reminder = Notice.objects.get(kind=Notice.Kind.DOCUMENT_REMINDER)
    reminded = set(reminder.receipts.values_list("user_id", flat=True))
    assert org["members"][4].user_id not in reminded and len(reminded) == len(rows) - 1
    overview = clerk.get(reverse("documents:notices:documents_read"))
    assert doc.title in overview.content.decode()
    assert login(org["members"][4].user).get(reverse("documents:notices:documents_read")).status_code == 403
    assert (
        login(org["members"][4].user)
        .get(reverse("documents:notices:document_read", kwargs={"document_id": doc.pk}))
        .status_code
        == 403
    )


def test_notice_messages_in_japanese(org):
    from django.utils import translation

    with (
        translation.override("ja"),
        pytest.raises(services.NoticeError, match="お知らせを送信できるのは事務局だけです。"),
    ):
        send(org, sender=org["members"][0].user, bodies=[org["plenary"]])


def test_notice_announce_documents_once_on_release_and_replacement(
    org, django_capture_on_commit_callbacks, settings
):
    from django.core.management import call_command
    from django.utils import timezone

    from tests.annotations.helpers import add_version

    settings.COUNCIL_NOTICE_EMAIL = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    member = org["members"][4].user
    member.email = "m4@example.org"
    member.save()
    doc = make_document(org["council"], org["committee"], title="議案第9号 専決処分の報告")
    draft = make_document(org["council"], org["committee"], title="未公開", released=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.announce_documents() == 1
    assert services.announce_documents() == 0  # idempotent
    call_command("announce_documents")
    released = Notice.objects.get(kind=Notice.Kind.DOCUMENT_RELEASED)
    assert released.document == doc and released.receipts.filter(user=member).exists()
    assert not Notice.objects.filter(document=draft).exists()
    assert [m.to for m in mail.outbox] == [["m4@example.org"]]
    # A replacement after the release is announced once, as a replacement.
    version = add_version(doc, pages=3)
    version.created_at = timezone.now()
    version.save()
    assert services.announce_documents() == 1
    replaced = Notice.objects.get(kind=Notice.Kind.DOCUMENT_REPLACED)
    assert replaced.version == version
    assert services.notify_document_replaced(version=version) is None  # already announced
    assert services.notify_document_released(document=doc) is None
    # The member sees it in the reader's strip.
    data = login(member).get(reverse("documents:notices:unread_json")).json()
    assert {n["kind"] for n in data["notices"]} == {"document_released", "document_replaced"}
