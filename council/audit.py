"""The audit chain: every state change appends one entry holding the hash of the previous.

``audit_record`` must run inside the caller's transaction, so the entry commits (or rolls
back) with the change it describes. Appends are serialized by a row lock on ``AuditHead``
(PostgreSQL) or by SQLite's single writer. ``audit_verify`` walks the chain.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from council import checkpoints
from council.models import AuditEntry, AuditHead

GENESIS = "0" * 64


def _canonical(payload: dict[str, Any]) -> str:
    return json.dumps(
        payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder
    )


def entry_hash(
    *,
    prev_hash: str,
    at: str,
    actor_id: int | None,
    action: str,
    target_type: str,
    target_id: str,
    data: dict[str, Any],
) -> str:
    body = _canonical(
        {
            "prev": prev_hash,
            "at": at,
            "actor": actor_id,
            "action": action,
            "target_type": target_type,
            "target_id": target_id,
            "data": data,
        }
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def audit_record(
    *,
    action: str,
    actor: Any = None,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str | int = "",
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to the chain. Call inside the transaction of the change."""
    return audit_record_many(
        entries=[
            AuditItem(
                action=action,
                actor=actor,
                target=target,
                target_type=target_type,
                target_id=target_id,
                data=data,
            )
        ]
    )[0]


@dataclass(frozen=True)
class AuditItem:
    """One entry for ``audit_record_many``; the fields mean what ``audit_record``'s arguments mean."""

    action: str
    actor: Any = None
    target: models.Model | None = None
    target_type: str = ""
    target_id: str | int = ""
    data: dict[str, Any] | None = None


def audit_record_many(*, entries: list[AuditItem]) -> list[AuditEntry]:
    """Append several entries, in order, under one lock of the chain's head and one insert.

    For a batch of changes made in one transaction (sixty ballots arriving together): the chain
    is the same as from as many ``audit_record`` calls, each entry holding the previous one's hash.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    if not entries:
        return []
    head, _created = AuditHead.objects.select_for_update().get_or_create(
        pk=1, defaults={"last_hash": GENESIS, "count": 0}
    )
    prev = head.last_hash
    rows = []
    for item in entries:
        target_type, target_id = item.target_type, item.target_id
        if item.target is not None:
            target_type = item.target._meta.label_lower
            target_id = item.target.pk
        actor = item.actor
        actor_id = (
            getattr(actor, "pk", actor)
            if actor is not None and getattr(actor, "is_authenticated", True)
            else None
        )
        # Round-trip through JSON so the stored data hashes exactly as it will be re-read.
        clean_data = json.loads(_canonical(item.data or {}))
        at = timezone.now()
        digest = entry_hash(
            prev_hash=prev,
            at=at.isoformat(),
            actor_id=actor_id,
            action=item.action,
            target_type=target_type,
            target_id=str(target_id),
            data=clean_data,
        )
        rows.append(
            AuditEntry(
                at=at,
                actor_id=actor_id,
                action=item.action,
                target_type=target_type,
                target_id=str(target_id),
                data=clean_data,
                prev_hash=prev,
                hash=digest,
            )
        )
        prev = digest
    if len(rows) == 1:
        rows[0].save(force_insert=True)
    else:
        AuditEntry.objects.bulk_create(rows)
    AuditHead.objects.filter(pk=1).update(last_hash=prev, count=models.F("count") + len(rows))
    # Anchor the chain outside the database at least every few minutes of activity.
    if checkpoints.due(head, timezone.now()):
        checkpoints.write_checkpoint(
            head=head, count=head.count + len(rows), head_hash=prev, reason="interval"
        )
    return rows


@dataclass
class ChainReport:
    entries: int
    ok: bool
    first_bad_id: int | None = None
    reason: str = ""
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)


def audit_verify() -> ChainReport:
    """Recompute every hash, check each entry points at the one before, and check the chain
    against its signed checkpoints (``council.checkpoints``): a rewrite that recomputed every
    later hash still fails at the first checkpoint signed after the changed entry."""
    prev = GENESIS
    count = 0
    wanted = checkpoints.checkpoint_counts()
    hashes_at: dict[int, str] = {}
    times_at: dict[int, object] = {}
    last_signed = max(wanted, default=0)
    broken: ChainReport | None = None
    for entry in AuditEntry.objects.order_by("id").iterator(chunk_size=2000):
        count += 1
        if count in wanted:
            hashes_at[count] = entry.hash
        if count == last_signed + 1:
            times_at[count] = entry.at
        times_at_last = entry.at
        if broken is None and entry.prev_hash != prev:
            broken = ChainReport(
                count, False, entry.pk, "link broken: entry does not point at its predecessor"
            )
        expected = entry_hash(
            prev_hash=entry.prev_hash,
            at=entry.at.isoformat(),
            actor_id=entry.actor_id,
            action=entry.action,
            target_type=entry.target_type,
            target_id=entry.target_id,
            data=entry.data,
        )
        if broken is None and expected != entry.hash:
            broken = ChainReport(count, False, entry.pk, "content changed: hash does not match")
        prev = entry.hash
    if count:
        times_at[count] = times_at_last
    checked, problems = checkpoints.verify_checkpoints(
        hashes_at=hashes_at, entry_times_at=times_at, total=count
    )
    messages = [p.message for p in problems]
    if broken is not None:
        broken.entries = count
        broken.checkpoints = checked
        broken.problems = messages
        return broken
    head = AuditHead.objects.filter(pk=1).first()
    if head and (head.last_hash != prev or head.count != count):
        return ChainReport(count, False, None, "entries missing at the end of the chain", checked, messages)
    if messages:
        return ChainReport(count, False, None, messages[0], checked, messages)
    return ChainReport(count, True, checkpoints=checked)
