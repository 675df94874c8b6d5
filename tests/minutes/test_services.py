"""Editing, sign-off, freezing, publication and corrections."""

from __future__ import annotations

import pytest

from council.audit import audit_verify
from council.models import AuditEntry
from meetings.minutes import selectors, services
from meetings.minutes.models import Block, Minutes, Signature

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(recorded, clerk_user):
    return services.draft_generate(sitting=recorded["sitting"], actor=clerk_user)


def _speech(minutes, n=0) -> Block:
    return minutes.blocks.filter(kind=Block.Kind.SPEECH, source__startswith="turn:").order_by("position")[n]


def _signed(recorded, draft, clerk_user, settings, django_capture_on_commit_callbacks) -> Minutes:
    settings.MINUTES_JOBS_INLINE = True
    members = recorded["members"]
    services.signers_nominate(minutes=draft, people=[members[4], members[5]], actor=clerk_user)
    services.minutes_submit(minutes=draft, actor=clerk_user)
    with django_capture_on_commit_callbacks(execute=True):
        for person in (members[0], members[4], members[5]):
            services.minutes_sign(minutes=draft, user=person.user)
    draft.refresh_from_db()
    return draft


def test_an_edit_is_saved_and_audited(draft, clerk_user):
    block = _speech(draft)
    saved = services.block_edit(
        block=block, text="ただいまから本日の会議を開きます。", actor=clerk_user, revision=0
    )
    assert saved.revision == 1
    entry = AuditEntry.objects.filter(action="minutes.block_edited").last()
    assert entry.target_id == str(block.pk) and entry.actor_id == clerk_user.pk
    assert entry.data["chars"] == len("ただいまから本日の会議を開きます。")
    assert audit_verify().ok


def test_a_stale_autosave_is_refused(draft, clerk_user):
    block = _speech(draft)
    services.block_edit(block=block, text="一", actor=clerk_user, revision=0)
    with pytest.raises(services.MinutesRefused, match="Someone else changed this block"):
        services.block_edit(block=block, text="二", actor=clerk_user, revision=0)


def test_facts_from_the_record_cannot_be_edited(draft, clerk_user):
    vote = draft.blocks.filter(kind=Block.Kind.VOTE).first()
    with pytest.raises(services.MinutesRefused, match="correct the record instead"):
        services.block_edit(block=vote, text="賛成10票", actor=clerk_user)
    with pytest.raises(services.MinutesRefused, match="Only procedural remarks can be moved"):
        services.block_move(block=vote, direction=-1, actor=clerk_user)


def test_remarks_are_added_moved_and_deleted(draft, clerk_user):
    first = draft.blocks.order_by("position").first()
    remark = services.remark_add(minutes=draft, after=first, text="(議場閉鎖)", actor=clerk_user)
    assert remark.position == 2
    services.block_move(block=remark, direction=-1, actor=clerk_user)
    remark.refresh_from_db()
    assert remark.position == 1
    with pytest.raises(services.MinutesRefused, match="already at the edge"):
        services.block_move(block=remark, direction=-1, actor=clerk_user)
    services.remark_delete(block=remark, actor=clerk_user)
    positions = list(draft.blocks.order_by("position").values_list("position", flat=True))
    assert positions == list(range(1, len(positions) + 1))
    assert (
        AuditEntry.objects.filter(
            action__in=["minutes.remark_added", "minutes.remark_moved", "minutes.remark_deleted"]
        ).count()
        == 3
    )


def test_signers_must_be_two_members_other_than_the_chair(recorded, draft, clerk_user):
    members = recorded["members"]
    with pytest.raises(services.MinutesRefused, match="at least two different members"):
        services.signers_nominate(minutes=draft, people=[members[4]], actor=clerk_user)
    with pytest.raises(services.MinutesRefused, match="The chair signs anyway"):
        services.signers_nominate(minutes=draft, people=[members[0], members[4]], actor=clerk_user)
    with pytest.raises(services.MinutesRefused, match="is not a member of this body"):
        services.signers_nominate(minutes=draft, people=[members[4], recorded["official"]], actor=clerk_user)
    with pytest.raises(services.MinutesRefused, match="Nominate at least two members"):
        services.minutes_submit(minutes=draft, actor=clerk_user)


def test_only_the_chair_and_signers_sign_once(recorded, draft, clerk_user):
    members = recorded["members"]
    services.signers_nominate(minutes=draft, people=[members[4], members[5]], actor=clerk_user)
    with pytest.raises(services.MinutesRefused, match="Only minutes under review can be signed"):
        services.minutes_sign(minutes=draft, user=members[0].user)
    services.minutes_submit(minutes=draft, actor=clerk_user)
    with pytest.raises(services.MinutesRefused, match="Only the chair and the nominated signers"):
        services.minutes_sign(minutes=draft, user=members[6].user)
    services.minutes_sign(minutes=draft, user=members[4].user)
    with pytest.raises(services.MinutesRefused, match="already signed"):
        services.minutes_sign(minutes=draft, user=members[4].user)
    draft.refresh_from_db()
    assert draft.state == Minutes.State.REVIEW
    with pytest.raises(services.MinutesRefused, match="under review"):
        services.block_edit(block=_speech(draft), text="x", actor=clerk_user)


def test_returning_to_draft_lapses_signatures(recorded, draft, clerk_user):
    members = recorded["members"]
    services.signers_nominate(minutes=draft, people=[members[4], members[5]], actor=clerk_user)
    services.minutes_submit(minutes=draft, actor=clerk_user)
    services.minutes_sign(minutes=draft, user=members[4].user)
    services.minutes_return_to_draft(minutes=draft, actor=clerk_user, reason="誤字")
    assert not Signature.objects.filter(minutes=draft).exists()
    services.block_edit(block=_speech(draft), text="訂正後", actor=clerk_user)


def test_signing_freezes_text_and_pdf_and_a_later_edit_is_refused(
    recorded, draft, clerk_user, settings, django_capture_on_commit_callbacks
):
    minutes = _signed(recorded, draft, clerk_user, settings, django_capture_on_commit_callbacks)
    assert minutes.state == Minutes.State.SIGNED and minutes.signed_at
    assert minutes.text_sha256 == selectors.text_sha256(minutes)
    assert minutes.pdf_sha256 and minutes.pages >= 2
    import hashlib

    assert hashlib.sha256(minutes.pdf.read()).hexdigest() == minutes.pdf_sha256
    signed = AuditEntry.objects.get(action="minutes.signed", target_id=str(minutes.pk))
    frozen = AuditEntry.objects.get(action="minutes.pdf_frozen", target_id=str(minutes.pk))
    assert signed.data["text_sha256"] == minutes.text_sha256
    assert frozen.data["pdf_sha256"] == minutes.pdf_sha256
    assert [s.person_id for s in minutes.signatures.all()] == [recorded["members"][i].pk for i in (0, 4, 5)]
    assert audit_verify().ok
    with pytest.raises(services.MinutesRefused, match="signed and frozen"):
        services.block_edit(block=_speech(minutes), text="後から変更", actor=clerk_user)
    with pytest.raises(services.MinutesRefused, match="signed and frozen"):
        services.remark_add(minutes=minutes, text="x", actor=clerk_user)
    with pytest.raises(services.MinutesRefused, match="Only a draft can be refreshed"):
        services.draft_generate(sitting=recorded["sitting"], actor=clerk_user)
    with pytest.raises(services.MinutesRefused, match="already frozen"):
        services.pdf_freeze(minutes=minutes, data=b"%PDF-1.7", pages=1)


@pytest.mark.slow  # renders two minutes PDFs
def test_a_correction_makes_a_new_linked_version(
    recorded, draft, clerk_user, settings, django_capture_on_commit_callbacks
):
    minutes = _signed(recorded, draft, clerk_user, settings, django_capture_on_commit_callbacks)
    services.minutes_publish(minutes=minutes, actor=clerk_user)
    with pytest.raises(services.MinutesRefused, match="Give the reason"):
        services.minutes_correct(minutes=minutes, actor=clerk_user, reason=" ")
    new = services.minutes_correct(minutes=minutes, actor=clerk_user, reason="3番議員の発言中の誤記")
    assert (new.version, new.corrects_id, new.state) == (2, minutes.pk, Minutes.State.DRAFT)
    assert new.blocks.count() == minutes.blocks.count()
    services.block_edit(block=_speech(new, 3), text="訂正した発言", actor=clerk_user)
    minutes.refresh_from_db()
    assert minutes.state == Minutes.State.PUBLISHED and _speech(minutes, 3).text == ""
    with pytest.raises(services.MinutesRefused, match="already has a correction"):
        services.minutes_correct(minutes=minutes, actor=clerk_user, reason="again")
    assert list(selectors.published_minutes()) == [minutes]


def test_publishing_needs_the_signed_pdf(recorded, draft, clerk_user):
    with pytest.raises(services.MinutesRefused, match="Only signed minutes can be published"):
        services.minutes_publish(minutes=draft, actor=clerk_user)


def test_verify_minutes_finds_text_or_pdf_changed_behind_the_platforms_back(
    recorded, draft, clerk_user, settings, django_capture_on_commit_callbacks
):
    import io

    from django.core.management import CommandError, call_command

    minutes = _signed(recorded, draft, clerk_user, settings, django_capture_on_commit_callbacks)
    out = io.StringIO()
    call_command("verify_minutes", stdout=out)
    assert "1 signed versions match" in out.getvalue()
    assert selectors.integrity_problems(minutes) == []
    Block.objects.filter(pk=_speech(minutes).pk).update(text="こっそり書き換え")
    with minutes.pdf.open("wb") as f:
        f.write(b"%PDF-1.7 forged")
    assert selectors.integrity_problems(minutes) == [
        "text changed after signing",
        "PDF file changed after signing",
    ]
    with pytest.raises(CommandError, match="2 problems in 1 signed versions"):
        call_command("verify_minutes", stdout=io.StringIO(), stderr=io.StringIO())


def test_the_chairs_suggested_lines_can_be_deleted_but_recorded_turns_cannot(draft, clerk_user):
    line = draft.blocks.filter(source="chair:open").get()
    assert line.is_suggestion and line.text == "ただいまから本日の会議を開きます。"
    services.remark_delete(block=line, actor=clerk_user)
    assert not draft.blocks.filter(source="chair:open").exists()
    with pytest.raises(services.MinutesRefused, match="chair's suggested lines can be deleted"):
        services.remark_delete(block=_speech(draft), actor=clerk_user)


def test_nominating_signers_names_them_in_the_chairs_suggested_line(recorded, draft, clerk_user):
    members = recorded["members"]
    services.signers_nominate(minutes=draft, people=[members[4], members[5]], actor=clerk_user)
    line = draft.blocks.get(source=f"chair:item:{recorded['items'][0].pk}")
    assert line.text == (
        "日程第1、会議録署名議員の指名を行います。\n会議録署名議員は、会議規則第127条の規定により、"
        "議長において5番 伊藤誠君、6番 渡辺陽子君を指名します。"
    )
    assert line.is_untouched_suggestion


def test_era_dates_in_the_signature_block(
    recorded, draft, clerk_user, settings, django_capture_on_commit_callbacks
):
    """#12: the signature block prints the era date (令和8年12月2日 午後2時05分), not 2026-12-02 14:05."""
    import datetime

    from django.utils import timezone

    minutes = _signed(recorded, draft, clerk_user, settings, django_capture_on_commit_callbacks)
    at = timezone.make_aware(datetime.datetime(2026, 12, 2, 14, 5))
    Signature.objects.filter(minutes=minutes).update(signed_at=at)
    rows = selectors.signatory_rows(minutes)
    assert {r["signed_label"] for r in rows} == {"令和8年12月2日 午後2時05分"}
    html = selectors.document_context(minutes)
    from django.template.loader import render_to_string

    body = render_to_string("meetings/minutes/_document_body.html", html)
    assert "電子署名 令和8年12月2日 午後2時05分" in body and "2026-12-02" not in body


def test_signers_get_a_notice_when_their_signature_is_awaited(recorded, draft, clerk_user):
    """#12: sending the minutes for sign-off tells the chair and each signer (お知らせ, with a link)."""
    from django.urls import reverse

    from documents.notices.models import Notice, NoticeReceipt

    members = recorded["members"]
    services.signers_nominate(minutes=draft, people=[members[4], members[5]], actor=clerk_user)
    assert not Notice.objects.filter(kind=Notice.Kind.SIGNATURE_REQUESTED).exists()  # not before submitting
    services.minutes_submit(minutes=draft, actor=clerk_user)
    notice = Notice.objects.get(kind=Notice.Kind.SIGNATURE_REQUESTED)
    assert notice.title == draft.title
    assert notice.link == reverse("meetings:minutes:detail", args=[draft.pk])
    told = set(NoticeReceipt.objects.filter(notice=notice).values_list("user_id", flat=True))
    assert told == {members[0].user_id, members[4].user_id, members[5].user_id}
    assert AuditEntry.objects.filter(action="notices.signature_requested").exists()
