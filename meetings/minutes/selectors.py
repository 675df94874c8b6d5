"""Reads: the minutes of a sitting, the document context, the text digest, public listings."""

from __future__ import annotations

import hashlib
import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q, QuerySet
from django.utils import timezone

from council.formats import era_date
from meetings.minutes.drafting import jp_time
from meetings.minutes.models import Block, GenerationJob, Minutes, Signatory


def latest_minutes(sitting) -> Minutes | None:
    return Minutes.objects.filter(sitting=sitting).order_by("-version").first()


def minutes_versions(sitting) -> QuerySet[Minutes]:
    return Minutes.objects.filter(sitting=sitting).order_by("version")


def ordered_blocks(minutes: Minutes) -> list[Block]:
    return list(minutes.blocks.select_related("speaker", "speaker__caucus").order_by("position"))


def text_payload(minutes: Minutes, blocks: list[Block] | None = None) -> dict:
    """Everything that makes up the text of the minutes, in a canonical shape."""
    blocks = ordered_blocks(minutes) if blocks is None else blocks
    return {
        "title": minutes.title,
        "sitting": minutes.sitting_id,
        "version": minutes.version,
        "header": minutes.header,
        "signatories": [[s.person_id, s.role] for s in minutes.signatories.order_by("position", "id")],
        "blocks": [[b.kind, b.heading, b.text, b.data] for b in blocks],
    }


def text_sha256(minutes: Minutes, blocks: list[Block] | None = None) -> str:
    canonical = json.dumps(
        text_payload(minutes, blocks),
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        cls=DjangoJSONEncoder,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def plain_text(minutes: Minutes, blocks: list[Block] | None = None) -> str:
    """The document as plain text (for search)."""
    blocks = ordered_blocks(minutes) if blocks is None else blocks
    header = minutes.header or {}
    lines = [minutes.title, header.get("date_label", ""), header.get("place", "")]
    lines += [f"{m.get('name', '')}" for m in header.get("present", [])]
    lines += [f"{a.get('label', '')} {a.get('title', '')}" for a in header.get("agenda", [])]
    for b in blocks:
        if b.kind == Block.Kind.SPEECH:
            lines.append(b.heading)
        lines.append(b.text)
    return "\n".join(line for line in lines if line)


def signed_label(at) -> str:
    """When a signature was applied, as the official text prints it: 令和8年12月2日 午後2時05分."""
    return f"{era_date(timezone.localtime(at))} {jp_time(at)}"


def signatory_rows(minutes: Minutes) -> list[dict]:
    signed = {s.person_id: s for s in minutes.signatures.all()}
    rows = []
    for s in minutes.signatories.select_related("person").order_by("position", "id"):
        sig = signed.get(s.person_id)
        rows.append(
            {
                "person_id": s.person_id,
                "role": s.role,
                "name": f"{s.person.family_name}{s.person.given_name}",
                "seat_number": s.person.seat_number,
                "signed": sig is not None,
                "signed_at": sig.signed_at if sig else None,
                "signed_label": signed_label(sig.signed_at) if sig else "",
            }
        )
    return rows


def document_context(minutes: Minutes, blocks: list[Block] | None = None) -> dict:
    blocks = ordered_blocks(minutes) if blocks is None else blocks
    header = minutes.header or {}
    note = ""
    if minutes.corrects_id:
        note = f"訂正版(第{minutes.version}版) {minutes.correction_reason}".strip()
    return {
        "minutes": minutes,
        "header": header,
        "blocks": blocks,
        "signatories": signatory_rows(minutes),
        "has_remote": any(m.get("remote") for m in header.get("present", [])),
        "version_note": note,
        "text_sha256": minutes.text_sha256,
        "audit_checkpoint": minutes.audit_checkpoint,
        "modified": timezone.localtime(minutes.signed_at).isoformat(timespec="seconds")
        if minutes.signed_at
        else "",
    }


def signatory_for(minutes: Minutes, person) -> Signatory | None:
    if person is None:
        return None
    return minutes.signatories.filter(person=person).first()


def latest_job(*, sitting, kind: str | None = None) -> GenerationJob | None:
    jobs = GenerationJob.objects.filter(sitting=sitting)
    if kind:
        jobs = jobs.filter(kind=kind)
    return jobs.order_by("-created_at", "-id").first()


def published_minutes(*, body=None, query: str = "") -> QuerySet[Minutes]:
    """Published minutes, newest sitting first; the latest published version of each sitting."""
    qs = Minutes.objects.filter(state=Minutes.State.PUBLISHED).select_related(
        "sitting__body", "sitting__session"
    )
    # A newer published correction replaces the version it corrects in the list.
    qs = qs.exclude(correction__state=Minutes.State.PUBLISHED)
    if body is not None:
        qs = qs.filter(sitting__body=body)
    for word in query.split()[:8]:
        qs = qs.filter(Q(search_text__icontains=word) | Q(title__icontains=word))
    return qs.order_by("-sitting__date", "-sitting__number", "-version")


def awaiting_signature(person) -> list[Minutes]:
    """Minutes under review that this person (chair or nominated signer) has not signed yet."""
    return list(
        Minutes.objects.filter(state=Minutes.State.REVIEW, signatories__person=person)
        .exclude(signatures__person=person)
        .select_related("sitting__body")
        .order_by("sitting__date")
    )


def integrity_problems(minutes: Minutes) -> list[str]:
    """For frozen minutes: the text and the stored PDF still match the digests in the audit chain."""
    from council.models import AuditEntry

    if not minutes.is_frozen:
        return []
    problems = []
    target = {"target_type": minutes._meta.label_lower, "target_id": str(minutes.pk)}
    signed = AuditEntry.objects.filter(action="minutes.signed", **target).order_by("id").first()
    if signed is None or signed.data.get("text_sha256") != minutes.text_sha256:
        problems.append("text digest missing from the audit chain or different")
    if text_sha256(minutes) != minutes.text_sha256:
        problems.append("text changed after signing")
    if minutes.pdf_sha256:
        frozen = AuditEntry.objects.filter(action="minutes.pdf_frozen", **target).order_by("id").first()
        if frozen is None or frozen.data.get("pdf_sha256") != minutes.pdf_sha256:
            problems.append("PDF digest missing from the audit chain or different")
        try:
            with minutes.pdf.open("rb") as f:
                if hashlib.sha256(f.read()).hexdigest() != minutes.pdf_sha256:
                    problems.append("PDF file changed after signing")
        except (FileNotFoundError, ValueError):
            problems.append("PDF file missing")
    return problems
