"""Signed checkpoints anchor the audit chain outside the database.

A hash chain alone proves nothing against someone who can write the database: change a row,
recompute every later hash and the head, and the chain verifies again. So the chain's head is
signed from time to time with an Ed25519 key that is *not* in the database (a key file named by
``COUNCIL_AUDIT_KEY_FILE``, kept like ``SECRET_KEY``):

- at least every ``COUNCIL_AUDIT_CHECKPOINT_SECONDS`` of activity (the first append after that
  long writes one, in the same transaction), at every minutes sign-off, and on demand
  (``manage.py audit_checkpoint``);
- each checkpoint signs ``{seq, at, count, head, prev, key, reason}``: the number of entries, the
  hash of the last one, and the digest of the previous checkpoint, so checkpoints form a chain
  of their own and one cannot be removed from the middle unnoticed;
- each is stored in the database *and* appended to a log file outside it
  (``COUNCIL_AUDIT_CHECKPOINT_LOG``), and the one made at sign-off is printed in the signed
  minutes and on their public page.

``verify_checkpoints`` (called by ``council.audit.audit_verify``) checks every signature, the
checkpoint chain, that each signed head is the hash the chain really has at that position, that
no stretch of entries longer than the interval went unsigned, and that the outside log agrees
with the database. A rewrite therefore fails at the first checkpoint after the changed row,
and the report names it.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from council.models import AuditCheckpoint, AuditHead

logger = logging.getLogger(__name__)

_keys: dict[str, tuple[float, Ed25519PrivateKey]] = {}


class CheckpointKeyMissing(RuntimeError):
    """The signing key file is absent in production (in demo mode it is generated)."""


def _key_path() -> Path:
    return Path(settings.COUNCIL_AUDIT_KEY_FILE)


def generate_key_file(path: Path) -> None:
    """Write a new Ed25519 private key (PEM, mode 0600). Refuses to overwrite."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)


def signing_key() -> Ed25519PrivateKey:
    path = _key_path()
    if not path.exists():
        if settings.PRODUCTION:
            raise CheckpointKeyMissing(f"audit signing key {path} is missing (COUNCIL_AUDIT_KEY_FILE)")
        try:
            generate_key_file(path)
        except FileExistsError:  # another process made it first
            pass
    mtime = path.stat().st_mtime
    cached = _keys.get(str(path))
    if cached and cached[0] == mtime:
        return cached[1]
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointKeyMissing(f"{path} is not an Ed25519 private key")
    _keys[str(path)] = (mtime, key)
    return key


def public_key() -> Ed25519PublicKey:
    return signing_key().public_key()


def key_id(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _canonical(statement: dict[str, Any]) -> str:
    return json.dumps(statement, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _interval() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.COUNCIL_AUDIT_CHECKPOINT_SECONDS)


def due(head: AuditHead, now: datetime.datetime) -> bool:
    return head.checkpoint_at is None or now - head.checkpoint_at >= _interval()


def write_checkpoint(*, head: AuditHead, count: int, head_hash: str, reason: str) -> AuditCheckpoint:
    """Sign the chain's head. ``head`` must be the row locked by the caller's transaction."""
    key = signing_key()
    now = timezone.now()
    seq = head.checkpoint_seq + 1
    statement = {
        "v": 1,
        "seq": seq,
        "at": now.isoformat(),
        "count": count,
        "head": head_hash,
        "prev": head.checkpoint_digest or "",
        "key": key_id(key.public_key()),
        "reason": reason,
    }
    text = _canonical(statement)
    digest = hashlib.sha256(text.encode()).hexdigest()
    checkpoint = AuditCheckpoint(
        seq=seq,
        at=now,
        entry_count=count,
        head_hash=head_hash,
        prev_digest=statement["prev"],
        digest=digest,
        key_id=statement["key"],
        reason=reason,
        statement=text,
        signature=key.sign(text.encode()).hex(),
    )
    checkpoint.save(force_insert=True)
    AuditHead.objects.filter(pk=head.pk).update(
        checkpoint_seq=seq, checkpoint_at=now, checkpoint_digest=digest
    )
    head.checkpoint_seq, head.checkpoint_at, head.checkpoint_digest = seq, now, digest
    line = json.dumps({"statement": text, "signature": checkpoint.signature}, ensure_ascii=False)
    transaction.on_commit(lambda: _append_log(line))
    return checkpoint


def _log_path() -> Path:
    return Path(settings.COUNCIL_AUDIT_CHECKPOINT_LOG)


def _append_log(line: str) -> None:
    path = _log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
            fh.flush()
            os.fsync(fh.fileno())
    except OSError:
        logger.exception("could not append the audit checkpoint to %s", path)


def audit_checkpoint(*, reason: str) -> AuditCheckpoint | None:
    """Sign the current head now (minutes sign-off, the timer). None when the chain is empty."""
    with transaction.atomic():
        head = AuditHead.objects.select_for_update().filter(pk=1).first()
        if head is None or head.count == 0:
            return None
        return write_checkpoint(head=head, count=head.count, head_hash=head.last_hash, reason=reason)


def mark_restored() -> None:
    """After a restore, the outside log may hold checkpoints the restored database never had;
    record where the database now ends so verification accepts that, and only that."""
    head = AuditHead.objects.filter(pk=1).first()
    seq = head.checkpoint_seq if head else 0
    _append_log(json.dumps({"restored_to_seq": seq, "at": timezone.now().isoformat()}))


# -- verification ---------------------------------------------------------------------------


@dataclass
class CheckpointProblem:
    seq: int | None
    message: str


def checkpoint_counts() -> set[int]:
    return set(AuditCheckpoint.objects.values_list("entry_count", flat=True))


def verify_checkpoints(
    *, hashes_at: dict[int, str], entry_times_at: dict[int, datetime.datetime], total: int
) -> tuple[int, list[CheckpointProblem]]:
    """Check every checkpoint against the chain (``hashes_at``: position → hash, for each
    position a checkpoint names). Returns (checkpoints checked, problems, earliest first)."""
    problems: list[CheckpointProblem] = []
    try:
        verify_with = public_key()
    except Exception as exc:  # no key: nothing can be trusted
        return 0, [CheckpointProblem(None, f"the audit signing key cannot be read: {exc}")]
    expected_key = key_id(verify_with)
    prev_digest = ""
    last = None
    count = 0
    for cp in AuditCheckpoint.objects.order_by("seq"):
        count += 1
        label = f"signed checkpoint #{cp.seq} ({cp.at:%Y-%m-%d %H:%M:%S}, {cp.entry_count} entries)"
        try:
            verify_with.verify(bytes.fromhex(cp.signature), cp.statement.encode())
        except (InvalidSignature, ValueError):
            problems.append(CheckpointProblem(cp.seq, f"{label}: the signature does not verify"))
            continue
        statement = json.loads(cp.statement)
        if (statement["seq"], statement["count"], statement["head"], statement["prev"]) != (
            cp.seq,
            cp.entry_count,
            cp.head_hash,
            cp.prev_digest,
        ) or hashlib.sha256(cp.statement.encode()).hexdigest() != cp.digest:
            problems.append(CheckpointProblem(cp.seq, f"{label}: its row differs from what was signed"))
            continue
        if statement["key"] != expected_key:
            problems.append(
                CheckpointProblem(cp.seq, f"{label}: signed with another key ({statement['key']})")
            )
        if cp.seq != (last.seq + 1 if last else 1) or cp.prev_digest != prev_digest:
            problems.append(CheckpointProblem(cp.seq, f"{label}: a checkpoint before it is missing"))
        if cp.entry_count > total:
            problems.append(
                CheckpointProblem(
                    cp.seq, f"{label}: the chain has only {total} entries; entries were removed"
                )
            )
        elif hashes_at.get(cp.entry_count) != cp.head_hash:
            problems.append(
                CheckpointProblem(
                    cp.seq,
                    f"{label} does not match the chain: the record was rewritten at or before entry "
                    f"#{cp.entry_count}"
                    + (f" (after checkpoint #{last.seq}, entry #{last.entry_count})" if last else ""),
                )
            )
        prev_digest = cp.digest
        last = cp
    # Entries after the last checkpoint: a checkpoint is written with the first append after
    # the interval, so a longer unsigned stretch means checkpoints were removed.
    start = last.entry_count if last else 0
    first_unsigned = entry_times_at.get(start + 1)
    if total > start and first_unsigned is not None:
        reference = last.at if last else first_unsigned
        newest = entry_times_at.get(total, first_unsigned)
        if newest - reference > _interval() + datetime.timedelta(seconds=60):
            problems.append(
                CheckpointProblem(
                    None,
                    f"entries #{start + 1}–#{total} are not covered by any signed checkpoint; "
                    f"checkpoints were removed",
                )
            )
    problems.extend(_verify_log(verify_with))
    return count, problems


def _verify_log(verify_with: Ed25519PublicKey) -> list[CheckpointProblem]:
    path = _log_path()
    if not path.exists():
        return []
    in_db = {cp.seq: cp.digest for cp in AuditCheckpoint.objects.only("seq", "digest")}
    newest_db = max(in_db, default=0)
    problems: list[CheckpointProblem] = []
    lines = [raw for raw in path.read_text(encoding="utf-8").splitlines() if raw.strip()]
    # Read newest first: a restore marker makes the checkpoints logged before it with a higher
    # seq belong to the replaced database, so they are not compared with this one.
    restored_below: int | None = None
    for raw in reversed(lines):
        try:
            line = json.loads(raw)
        except ValueError:
            problems.append(CheckpointProblem(None, "the checkpoint log has an unreadable line"))
            continue
        if "restored_to_seq" in line:
            mark = int(line["restored_to_seq"])
            restored_below = mark if restored_below is None else min(restored_below, mark)
            continue
        statement_text = line.get("statement", "")
        try:
            verify_with.verify(bytes.fromhex(line.get("signature", "")), statement_text.encode())
            statement = json.loads(statement_text)
        except (InvalidSignature, ValueError):
            problems.append(
                CheckpointProblem(None, "the checkpoint log has a line whose signature does not verify")
            )
            continue
        seq = int(statement["seq"])
        if restored_below is not None and seq > restored_below:
            continue
        digest = hashlib.sha256(statement_text.encode()).hexdigest()
        if seq in in_db:
            if in_db[seq] != digest:
                problems.append(
                    CheckpointProblem(
                        seq,
                        f"signed checkpoint #{seq} in the outside log differs from the database's: "
                        "the record was rewritten",
                    )
                )
        elif seq <= newest_db:
            problems.append(
                CheckpointProblem(
                    seq, f"signed checkpoint #{seq} is in the outside log but was removed from the database"
                )
            )
        else:
            problems.append(
                CheckpointProblem(
                    seq,
                    f"signed checkpoint #{seq} is in the outside log but the database ends before it: "
                    "checkpoints and entries were removed (or a restore was not recorded)",
                )
            )
    problems.sort(key=lambda p: (p.seq is None, p.seq or 0))
    return problems
