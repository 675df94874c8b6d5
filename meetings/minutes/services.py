"""Every change to the minutes: drafting from the record, editing, reordering, transcript import,
nominating signers, review, sign-off, freezing, publication and corrections.

Each function is atomic and writes an audit entry; a refusal raises ``MinutesRefused`` with a
translated message and changes nothing. Signed minutes are frozen: their text and PDF digests
are in the audit chain, and a correction is a new version linked to the one it corrects.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from council import checkpoints
from council.audit import audit_record
from council.errors import DomainError
from council.models import Membership, Person
from meetings.minutes import drafting, selectors, transcripts
from meetings.minutes.models import Block, Minutes, Signatory, Signature
from meetings.minutes.record import SittingRecord, chair_of, load_record
from meetings.models import AgendaItem, Sitting

MIN_SIGNERS = 2  # §123(2): the chair and at least two members named by the plenary


def min_signers(sitting: Sitting) -> int:
    """Plenary minutes need two nominated signers besides the chair; a committee's record is
    signed by its chair (committee bylaws), so nominated signers are optional there."""
    return MIN_SIGNERS if sitting.body.is_plenary else 0


_OFFSET = 1_000_000


class MinutesRefused(DomainError):
    """A minutes service refused a change; nothing was written."""


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _lock(minutes: Minutes) -> Minutes:
    return Minutes.objects.select_for_update().get(pk=minutes.pk)


def _require_editable(minutes: Minutes) -> None:
    if minutes.is_frozen:
        raise MinutesRefused(
            _("These minutes are signed and frozen. Make a correction (a new version) instead.")
        )
    if minutes.state != Minutes.State.DRAFT:
        raise MinutesRefused(_("These minutes are under review. Return them to draft before editing."))


def _renumber(minutes: Minutes, ordered_ids: list[int]) -> None:
    """Give blocks positions 1..n in the given order without tripping the unique constraint."""
    Block.objects.filter(minutes=minutes).update(position=F("position") + _OFFSET)
    blocks = Block.objects.in_bulk(ordered_ids)
    for i, pk in enumerate(ordered_ids, start=1):
        blocks[pk].position = i
    Block.objects.bulk_update(blocks.values(), ["position"], batch_size=500)


def _create_blocks(minutes: Minutes, specs: Iterable[drafting.BlockSpec], *, start: int = 1) -> list[Block]:
    rows = [
        Block(
            minutes=minutes,
            position=i,
            kind=s.kind,
            text=s.text,
            agenda_item_id=s.agenda_item_id,
            speaker_id=s.speaker_id,
            speaker_role=s.speaker_role,
            speaker_name=s.speaker_name,
            started_at=s.started_at,
            ended_at=s.ended_at,
            data=s.data,
            source=s.source,
        )
        for i, s in enumerate(specs, start=start)
    ]
    return Block.objects.bulk_create(rows, batch_size=500)


def _default_signatories(minutes: Minutes) -> None:
    chair = chair_of(minutes.sitting)
    if chair and not minutes.signatories.filter(person=chair).exists():
        Signatory.objects.create(minutes=minutes, person=chair, role=Signatory.Role.CHAIR, position=0)


@transaction.atomic
def draft_generate(*, sitting: Sitting, actor=None, record: SittingRecord | None = None) -> Minutes:
    """Draft (or refresh the draft of) a sitting's minutes from its stored record."""
    sitting = (
        Sitting.objects.select_for_update().select_related("session__council", "body").get(pk=sitting.pk)
    )
    if sitting.status != Sitting.Status.CLOSED:
        raise MinutesRefused(_("The minutes can be drafted once the sitting is closed."))
    record = record or load_record(sitting)
    header = drafting.build_header(record)
    specs = drafting.build_blocks(record)
    minutes = selectors.latest_minutes(sitting)
    if minutes is not None and minutes.state != Minutes.State.DRAFT:
        raise MinutesRefused(
            _("Only a draft can be refreshed from the record; these minutes are %(state)s.")
            % {"state": minutes.get_state_display()}
        )
    if minutes is None:
        minutes = Minutes.objects.create(
            sitting=sitting,
            version=1,
            title=record.title,
            header=header,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        action = "minutes.draft_created"
    else:
        minutes = _lock(minutes)
        specs = drafting.merge_kept(specs, selectors.ordered_blocks(minutes))
        minutes.blocks.all().delete()
        minutes.title = record.title
        minutes.header = header
        minutes.save(update_fields=["title", "header", "updated_at"])
        action = "minutes.draft_refreshed"
    _create_blocks(minutes, specs)
    _default_signatories(minutes)
    signers = [
        s.person for s in minutes.signatories.filter(role=Signatory.Role.SIGNER).select_related("person")
    ]
    if signers:
        _name_signers_in_the_chairs_line(minutes, signers)
    audit_record(
        action=action,
        actor=actor,
        target=minutes,
        data={
            "sitting": sitting.pk,
            "blocks": len(specs),
            "votes": len(record.votes),
            "turns": len(record.turns),
        },
    )
    return minutes


@transaction.atomic
def block_edit(*, block: Block, text: str, actor, revision: int | None = None) -> Block:
    """Save the text of a speech or remark (the editor's autosave)."""
    block = Block.objects.select_for_update().select_related("minutes").get(pk=block.pk)
    _require_editable(block.minutes)
    if not block.is_editable:
        raise MinutesRefused(
            _("Facts from the record cannot be edited in the minutes; correct the record instead.")
        )
    if revision is not None and revision != block.revision:
        raise MinutesRefused(_("Someone else changed this block meanwhile. Reload to see their text."))
    text = text.replace("\r\n", "\n")
    if text == block.text:
        return block
    block.text = text
    block.revision += 1
    block.save(update_fields=["text", "revision", "updated_at"])
    audit_record(
        action="minutes.block_edited",
        actor=actor,
        target=block,
        data={
            "minutes": block.minutes_id,
            "revision": block.revision,
            "chars": len(text),
            "text_sha256": _sha(text),
        },
    )
    return block


@transaction.atomic
def remark_add(*, minutes: Minutes, text: str, actor, after: Block | None = None) -> Block:
    """Insert a procedural remark after a block (or at the start)."""
    minutes = _lock(minutes)
    _require_editable(minutes)
    order = list(minutes.blocks.order_by("position").values_list("id", "position"))
    ids = [pk for pk, _pos in order]
    index = 0
    if after is not None:
        if after.minutes_id != minutes.pk:
            raise MinutesRefused(_("That block belongs to other minutes."))
        index = ids.index(after.pk) + 1
    agenda_item_id = after.agenda_item_id if after is not None else None
    remark = Block.objects.create(
        minutes=minutes,
        position=len(ids) + _OFFSET + 1,
        kind=Block.Kind.REMARK,
        text=text.replace("\r\n", "\n"),
        agenda_item_id=agenda_item_id,
    )
    ids.insert(index, remark.pk)
    _renumber(minutes, ids)
    remark.refresh_from_db()
    audit_record(
        action="minutes.remark_added",
        actor=actor,
        target=remark,
        data={"minutes": minutes.pk, "position": remark.position, "text_sha256": _sha(remark.text)},
    )
    return remark


@transaction.atomic
def block_move(*, block: Block, direction: int, actor) -> Block:
    """Move a procedural remark one place up (-1) or down (+1)."""
    block = Block.objects.select_related("minutes").get(pk=block.pk)
    minutes = _lock(block.minutes)
    _require_editable(minutes)
    if block.kind != Block.Kind.REMARK:
        raise MinutesRefused(_("Only procedural remarks can be moved; the rest follows the record's order."))
    if direction not in (-1, 1):
        raise MinutesRefused(_("A remark moves one place at a time."))
    ids = list(minutes.blocks.order_by("position").values_list("id", flat=True))
    i = ids.index(block.pk)
    j = i + direction
    if not 0 <= j < len(ids):
        raise MinutesRefused(_("The remark is already at the edge of the minutes."))
    ids[i], ids[j] = ids[j], ids[i]
    _renumber(minutes, ids)
    block.refresh_from_db()
    audit_record(
        action="minutes.remark_moved",
        actor=actor,
        target=block,
        data={"minutes": minutes.pk, "position": block.position},
    )
    return block


@transaction.atomic
def remark_delete(*, block: Block, actor) -> None:
    block = Block.objects.select_related("minutes").get(pk=block.pk)
    minutes = _lock(block.minutes)
    _require_editable(minutes)
    if not block.is_deletable:
        raise MinutesRefused(_("Only procedural remarks and the chair's suggested lines can be deleted."))
    audit_record(
        action="minutes.remark_deleted",
        actor=actor,
        target=block,
        data={"minutes": minutes.pk, "text_sha256": _sha(block.text)},
    )
    block.delete()
    _renumber(minutes, list(minutes.blocks.order_by("position").values_list("id", flat=True)))


@transaction.atomic
def transcript_import(
    *,
    minutes: Minutes,
    content: str,
    actor,
    fmt: str = "auto",
    starts_at: datetime.datetime | None = None,
    overwrite: bool = False,
) -> dict:
    """Split a transcript (WebVTT or timestamped text) into the speech blocks by time.

    Cue times are offsets from ``starts_at`` (the recording's start; the sitting's opening by
    default) unless the plain text gives clock times. Each cue goes to the turn at the floor
    whose time span holds it; cues outside every turn are reported as unmatched."""
    minutes = _lock(minutes)
    _require_editable(minutes)
    sitting = minutes.sitting
    base = starts_at or sitting.opened_at
    if base is None:
        raise MinutesRefused(_("Give the time the recording started: the sitting has no opening time."))
    try:
        cues = transcripts.parse(content, fmt=fmt, base=base, day=sitting.date)
    except transcripts.TranscriptError as exc:
        raise MinutesRefused(str(exc)) from exc
    speeches = [b for b in selectors.ordered_blocks(minutes) if b.kind == Block.Kind.SPEECH and b.started_at]
    assignment, unmatched = transcripts.assign(cues, speeches)
    filled = skipped = 0
    for block in speeches:
        text = assignment.get(block.pk)
        if not text:
            continue
        if block.text.strip() and not overwrite and not block.is_untouched_suggestion:
            skipped += 1
            continue
        block.text = text
        block.revision += 1
        block.save(update_fields=["text", "revision", "updated_at"])
        filled += 1
    summary = {
        "cues": len(cues),
        "filled": filled,
        "skipped": skipped,
        "unmatched": len(unmatched),
        "unmatched_cues": [c.text for c in unmatched][:20],
    }
    audit_record(
        action="minutes.transcript_imported",
        actor=actor,
        target=minutes,
        data={
            "format": fmt,
            "sha256": _sha(content),
            **{k: v for k, v in summary.items() if k != "unmatched_cues"},
        },
    )
    return summary


def _name_signers_in_the_chairs_line(minutes: Minutes, people: list[Person]) -> None:
    """The suggested line under 日程第1 会議録署名議員の指名 names the nominated members."""
    items = AgendaItem.objects.filter(sitting=minutes.sitting, kind=AgendaItem.Kind.SIGNERS)
    for item in items:
        block = minutes.blocks.filter(source=f"chair:item:{item.pk}").first()
        if block is None or not block.is_untouched_suggestion:
            continue
        names = "、".join(
            f"{p.seat_number}番 {p.family_name}{p.given_name}君"
            if p.seat_number
            else f"{p.family_name}{p.given_name}君"
            for p in people
        )
        text = (
            f"日程第{item.position}、会議録署名議員の指名を行います。\n会議録署名議員は、会議規則第127条の規定により、"
            f"議長において{names}を指名します。"
        )
        block.text = text
        block.data = {**block.data, "template_text": text}
        block.revision += 1
        block.save(update_fields=["text", "data", "revision", "updated_at"])


@transaction.atomic
def signers_nominate(*, minutes: Minutes, people: list[Person], actor) -> list[Signatory]:
    """Record the members nominated at the sitting to sign the minutes (会議録署名議員)."""
    minutes = _lock(minutes)
    _require_editable(minutes)
    sitting = minutes.sitting
    chair = chair_of(sitting)
    if len(people) < max(min_signers(sitting), 1) or len({p.pk for p in people}) != len(people):
        raise MinutesRefused(_("Nominate at least two different members to sign the minutes."))
    for person in people:
        if chair and person.pk == chair.pk:
            raise MinutesRefused(_("The chair signs anyway; nominate two other members."))
        is_member = (
            person.kind == Person.Kind.COUNCILLOR
            and person.council_id == sitting.session.council_id
            and (
                sitting.body.is_plenary
                or Membership.objects.filter(body=sitting.body, person=person)
                .active(on=sitting.date)
                .exists()
            )
        )
        if not is_member:
            raise MinutesRefused(_("%(name)s is not a member of this body.") % {"name": person.full_name})
    minutes.signatories.filter(role=Signatory.Role.SIGNER).delete()
    rows = [
        Signatory.objects.create(minutes=minutes, person=p, role=Signatory.Role.SIGNER, position=i)
        for i, p in enumerate(people, start=1)
    ]
    _name_signers_in_the_chairs_line(minutes, people)
    _default_signatories(minutes)
    audit_record(
        action="minutes.signers_nominated",
        actor=actor,
        target=minutes,
        data={"signers": [p.pk for p in people]},
    )
    return rows


@transaction.atomic
def minutes_submit(*, minutes: Minutes, actor) -> Minutes:
    """Draft → under review: the chair and the signers may now approve this exact text."""
    minutes = _lock(minutes)
    if minutes.state != Minutes.State.DRAFT:
        raise MinutesRefused(_("Only a draft can be sent for review."))
    roles = list(minutes.signatories.values_list("role", flat=True))
    if Signatory.Role.CHAIR not in roles:
        raise MinutesRefused(_("The body has no chair on the sitting's date to sign the minutes."))
    if roles.count(Signatory.Role.SIGNER) < min_signers(minutes.sitting):
        raise MinutesRefused(_("Nominate at least two members to sign the minutes first."))
    minutes.state = Minutes.State.REVIEW
    minutes.submitted_at = timezone.now()
    minutes.text_sha256 = selectors.text_sha256(minutes)
    minutes.save(update_fields=["state", "submitted_at", "text_sha256", "updated_at"])
    audit_record(
        action="minutes.submitted", actor=actor, target=minutes, data={"text_sha256": minutes.text_sha256}
    )
    _ask_for_signatures(minutes, actor=actor)
    return minutes


def _ask_for_signatures(minutes: Minutes, *, actor) -> None:
    """A notice to the chair and each signer: their signature is awaited (documents.notices)."""
    from django.urls import reverse

    from documents.notices.services import notify_signature_requested

    people = [s.person for s in minutes.signatories.select_related("person__user")]
    notify_signature_requested(
        council=minutes.sitting.body.council,
        people=people,
        title=minutes.title,
        link=reverse("meetings:minutes:detail", args=[minutes.pk]),
        actor=actor,
    )


@transaction.atomic
def minutes_return_to_draft(*, minutes: Minutes, actor, reason: str = "") -> Minutes:
    """Under review → draft; approvals given so far lapse (they were for the old text)."""
    minutes = _lock(minutes)
    if minutes.state != Minutes.State.REVIEW:
        raise MinutesRefused(_("Only minutes under review can go back to draft."))
    lapsed = list(minutes.signatures.values_list("person_id", flat=True))
    minutes.signatures.all().delete()
    minutes.state = Minutes.State.DRAFT
    minutes.text_sha256 = ""
    minutes.save(update_fields=["state", "text_sha256", "updated_at"])
    audit_record(
        action="minutes.returned_to_draft",
        actor=actor,
        target=minutes,
        data={"reason": reason, "lapsed_signatures": lapsed},
    )
    return minutes


@transaction.atomic
def minutes_sign(*, minutes: Minutes, user) -> Signature:
    """A recorded electronic sign-off by the chair or a nominated signer. The last one signs the
    minutes: text frozen, its SHA-256 in the audit chain, the final PDF queued."""
    minutes = _lock(minutes)
    if minutes.state != Minutes.State.REVIEW:
        raise MinutesRefused(_("Only minutes under review can be signed."))
    person = getattr(user, "person", None) if getattr(user, "is_authenticated", False) else None
    signatory = selectors.signatory_for(minutes, person)
    if signatory is None:
        raise MinutesRefused(_("Only the chair and the nominated signers sign these minutes."))
    if minutes.signatures.filter(person=person).exists():
        raise MinutesRefused(_("You have already signed these minutes."))
    digest = selectors.text_sha256(minutes)
    if digest != minutes.text_sha256:
        raise MinutesRefused(_("The text changed after it was sent for review; it must be sent again."))
    signature = Signature.objects.create(
        minutes=minutes, person=person, user=user, role=signatory.role, text_sha256=digest
    )
    audit_record(
        action="minutes.signature",
        actor=user,
        target=minutes,
        data={
            "person": person.pk,
            "role": signatory.role,
            "text_sha256": digest,
            "signed_at": signature.signed_at.isoformat(),
        },
    )
    if minutes.signatures.count() >= minutes.signatories.count():
        minutes.state = Minutes.State.SIGNED
        minutes.signed_at = timezone.now()
        minutes.search_text = selectors.plain_text(minutes)
        audit_record(
            action="minutes.signed",
            actor=user,
            target=minutes,
            data={"text_sha256": digest, "signatures": minutes.signatures.count()},
        )
        # Anchor the record, sign-off included, outside the database; the PDF prints it.
        minutes.audit_checkpoint = checkpoints.audit_checkpoint(reason="minutes.signed")
        minutes.save(update_fields=["state", "signed_at", "search_text", "audit_checkpoint", "updated_at"])
        from meetings.minutes import jobs

        jobs.job_start(sitting=minutes.sitting, minutes=minutes, kind="pdf", final=True, actor=None)
    return signature


@transaction.atomic
def pdf_freeze(*, minutes: Minutes, data: bytes, pages: int) -> Minutes:
    """Store the PDF of signed minutes once; its SHA-256 goes into the audit chain."""
    minutes = _lock(minutes)
    if not minutes.is_frozen:
        raise MinutesRefused(_("Only signed minutes get their final PDF."))
    if minutes.pdf_sha256:
        raise MinutesRefused(_("The final PDF of these minutes is already frozen."))
    digest = hashlib.sha256(data).hexdigest()
    minutes.pdf.save(f"minutes-{minutes.sitting_id}-v{minutes.version}.pdf", ContentFile(data), save=False)
    minutes.pdf_sha256 = digest
    minutes.pages = pages
    minutes.save(update_fields=["pdf", "pdf_sha256", "pages", "updated_at"])
    audit_record(
        action="minutes.pdf_frozen",
        target=minutes,
        data={"pdf_sha256": digest, "text_sha256": minutes.text_sha256, "pages": pages},
    )
    return minutes


@transaction.atomic
def minutes_publish(*, minutes: Minutes, actor) -> Minutes:
    minutes = _lock(minutes)
    if minutes.state != Minutes.State.SIGNED:
        raise MinutesRefused(_("Only signed minutes can be published."))
    if not minutes.pdf_sha256:
        raise MinutesRefused(_("The final PDF is still being produced; publish when it is ready."))
    minutes.state = Minutes.State.PUBLISHED
    minutes.published_at = timezone.now()
    minutes.save(update_fields=["state", "published_at", "updated_at"])
    audit_record(
        action="minutes.published",
        actor=actor,
        target=minutes,
        data={"text_sha256": minutes.text_sha256, "pdf_sha256": minutes.pdf_sha256},
    )
    return minutes


@transaction.atomic
def minutes_correct(*, minutes: Minutes, actor, reason: str) -> Minutes:
    """A correction after signing: a new draft version linked to the signed one, which stays."""
    minutes = _lock(minutes)
    if not minutes.is_frozen:
        raise MinutesRefused(_("Unsigned minutes are edited directly; a correction is for signed minutes."))
    if Minutes.objects.filter(corrects=minutes).exists():
        raise MinutesRefused(_("This version already has a correction; correct the newest version."))
    if not reason.strip():
        raise MinutesRefused(_("Give the reason for the correction."))
    latest = selectors.latest_minutes(minutes.sitting)
    new = Minutes.objects.create(
        sitting=minutes.sitting,
        version=latest.version + 1,
        corrects=minutes,
        correction_reason=reason.strip(),
        title=minutes.title,
        header=minutes.header,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    old_blocks = selectors.ordered_blocks(minutes)
    Block.objects.bulk_create(
        [
            Block(
                minutes=new,
                position=b.position,
                kind=b.kind,
                text=b.text,
                agenda_item_id=b.agenda_item_id,
                speaker_id=b.speaker_id,
                speaker_role=b.speaker_role,
                speaker_name=b.speaker_name,
                started_at=b.started_at,
                ended_at=b.ended_at,
                data=b.data,
                source=b.source,
            )
            for b in old_blocks
        ],
        batch_size=500,
    )
    for s in minutes.signatories.all():
        Signatory.objects.create(minutes=new, person_id=s.person_id, role=s.role, position=s.position)
    audit_record(
        action="minutes.correction_started",
        actor=actor,
        target=new,
        data={"corrects": minutes.pk, "corrects_text_sha256": minutes.text_sha256, "reason": reason},
    )
    return new
