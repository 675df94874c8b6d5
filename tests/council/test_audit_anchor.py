"""The audit chain is anchored outside the database: signed checkpoints catch a full rewrite
(a changed row with every later hash and the head recomputed), which the hash chain alone
cannot. ``pytest -k audit_anchor``."""

from __future__ import annotations

import io
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from council import checkpoints
from council.audit import GENESIS, audit_record, audit_verify, entry_hash
from council.models import AuditCheckpoint, AuditEntry, AuditHead

pytestmark = pytest.mark.django_db(transaction=True)


def _append(n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        with transaction.atomic():
            audit_record(action="vote.cast", target_type="poll", target_id=1, data={"n": i, "choice": "yes"})


def _raw(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _unlocked(tables):
    """As someone with database access would: past the application and the PG triggers."""

    class _Ctx:
        def __enter__(self):
            if connection.vendor == "postgresql":
                _raw("SET CONSTRAINTS ALL IMMEDIATE")
                for t in tables:
                    _raw(f"ALTER TABLE {t} DISABLE TRIGGER USER")

        def __exit__(self, *exc):
            if connection.vendor == "postgresql":
                for t in tables:
                    _raw(f"ALTER TABLE {t} ENABLE TRIGGER USER")

    return _Ctx()


def rewrite_chain(*, entry_position: int, new_data: dict) -> None:
    """Change one entry's data, then recompute every later hash and the stored head, so the
    hash chain verifies again: the attack the signed checkpoints must catch."""
    entries = list(AuditEntry.objects.order_by("id"))
    prev = GENESIS
    with _unlocked(["council_auditentry"]):
        for position, e in enumerate(entries, start=1):
            data = new_data if position == entry_position else e.data
            digest = entry_hash(
                prev_hash=prev,
                at=e.at.isoformat(),
                actor_id=e.actor_id,
                action=e.action,
                target_type=e.target_type,
                target_id=e.target_id,
                data=data,
            )
            _raw(
                "UPDATE council_auditentry SET data = %s, prev_hash = %s, hash = %s WHERE id = %s",
                [json.dumps(data), prev, digest, e.pk],
            )
            prev = digest
        _raw("UPDATE council_audithead SET last_hash = %s WHERE id = 1", [prev])


def test_audit_anchor_first_append_and_each_interval_sign_the_head(settings):
    _append(3)
    assert AuditCheckpoint.objects.count() == 1  # the first append signs at once
    settings.COUNCIL_AUDIT_CHECKPOINT_SECONDS = 0
    _append(2, start=3)
    cps = list(AuditCheckpoint.objects.order_by("seq"))
    assert [c.entry_count for c in cps] == [1, 4, 5]
    assert cps[-1].head_hash == AuditEntry.objects.order_by("-id").first().hash
    assert cps[1].prev_digest == cps[0].digest
    # ... and the same lines are in the log outside the database.
    lines = settings.COUNCIL_AUDIT_CHECKPOINT_LOG.read_text().splitlines()
    assert [json.loads(json.loads(line)["statement"])["seq"] for line in lines] == [1, 2, 3]
    report = audit_verify()
    assert report.ok, report.problems
    assert report.checkpoints == 3


def test_audit_anchor_rewrite_with_recomputed_hashes_is_caught():
    _append(3)
    assert checkpoints.audit_checkpoint(reason="minutes.signed").entry_count == 3
    _append(3, start=3)
    checkpoints.audit_checkpoint(reason="timer")
    assert audit_verify().ok

    rewrite_chain(entry_position=2, new_data={"n": 1, "choice": "no"})

    report = audit_verify()
    assert not report.ok
    # the chain itself verifies (every hash was recomputed) ...
    assert "hash" not in report.reason
    # ... the first checkpoint after the changed entry says where.
    assert "signed checkpoint #2" in report.reason and "rewritten at or before entry #3" in report.reason
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("verify_record", stdout=out)
    assert "signed checkpoint #2" in out.getvalue()
    assert "BROKEN" in out.getvalue()


def test_audit_anchor_checkpoints_resigned_with_another_key_fail():
    _append(4)
    checkpoints.audit_checkpoint(reason="timer")
    rewrite_chain(entry_position=1, new_data={"n": 0, "choice": "no"})
    # The attacker signs fresh checkpoints with a key of their own: the platform's key is not
    # in the database, so these do not verify.
    forged = Ed25519PrivateKey.generate()
    with _unlocked(["council_auditcheckpoint"]):
        for cp in AuditCheckpoint.objects.order_by("seq"):
            statement = json.loads(cp.statement)
            statement["head"] = AuditEntry.objects.order_by("id")[statement["count"] - 1].hash
            text = json.dumps(statement, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
            _raw(
                "UPDATE council_auditcheckpoint SET statement = %s, head_hash = %s, signature = %s WHERE id = %s",
                [text, statement["head"], forged.sign(text.encode()).hex(), cp.pk],
            )
    report = audit_verify()
    assert not report.ok
    assert any("signature does not verify" in p for p in report.problems)


def test_audit_anchor_removed_checkpoints_are_caught_by_the_outside_log():
    _append(2)
    checkpoints.audit_checkpoint(reason="timer")
    _append(2, start=2)
    checkpoints.audit_checkpoint(reason="timer")
    with _unlocked(["council_auditcheckpoint"]):
        _raw("DELETE FROM council_auditcheckpoint")
        _raw(
            "UPDATE council_audithead SET checkpoint_seq = 0, checkpoint_at = NULL, checkpoint_digest = '' WHERE id = 1"
        )
    rewrite_chain(entry_position=1, new_data={"n": 0, "choice": "no"})
    report = audit_verify()
    assert not report.ok
    assert any("outside log" in p for p in report.problems)


def test_audit_anchor_restore_is_recorded_not_reported(settings):
    _append(2)
    # Checkpoints of a database that was later replaced by an older backup:
    checkpoints.audit_checkpoint(reason="timer")
    checkpoints.audit_checkpoint(reason="timer")
    with _unlocked(["council_auditcheckpoint"]):
        _raw("DELETE FROM council_auditcheckpoint WHERE seq > 1")
        _raw(
            "UPDATE council_audithead SET checkpoint_seq = 1, checkpoint_digest = "
            "(SELECT digest FROM council_auditcheckpoint WHERE seq = 1) WHERE id = 1"
        )
    assert not audit_verify().ok  # unexplained: the log knows checkpoints the database lost
    checkpoints.mark_restored()
    report = audit_verify()
    assert report.ok, report.problems
    # After the restore, new checkpoints reuse the numbers and still verify.
    _append(1, start=2)
    checkpoints.audit_checkpoint(reason="timer")
    assert audit_verify().ok
    assert AuditHead.objects.get(pk=1).checkpoint_seq == 2


def test_audit_anchor_a_stretch_longer_than_the_interval_without_a_checkpoint_is_caught(
    settings, time_machine
):
    """Someone who removed the last checkpoints from the database and from the outside log alike
    leaves the checkpoint chain and the log agreeing; but entries kept coming for longer than
    the interval with nothing signing them, which cannot happen on its own."""
    import datetime

    settings.COUNCIL_AUDIT_CHECKPOINT_SECONDS = 300
    start = datetime.datetime(2026, 6, 1, 9, 0, tzinfo=datetime.UTC)
    time_machine.move_to(start, tick=False)
    _append(2)  # the first append signs: checkpoint #1 covers entry #1
    time_machine.move_to(start + datetime.timedelta(minutes=20), tick=False)
    _append(2, start=2)  # the first append after the interval signs again: checkpoint #2
    assert [c.entry_count for c in AuditCheckpoint.objects.order_by("seq")] == [1, 3]
    assert audit_verify().ok
    with _unlocked(["council_auditcheckpoint"]):
        _raw("DELETE FROM council_auditcheckpoint WHERE seq > 1")
        _raw(
            "UPDATE council_audithead SET checkpoint_seq = 1, checkpoint_digest = "
            "(SELECT digest FROM council_auditcheckpoint WHERE seq = 1) WHERE id = 1"
        )
    log = settings.COUNCIL_AUDIT_CHECKPOINT_LOG
    log.write_text(log.read_text().splitlines()[0] + "\n")
    rewrite_chain(entry_position=3, new_data={"n": 2, "choice": "no"})

    report = audit_verify()
    assert not report.ok
    assert report.problems == [
        "entries #2–#4 are not covered by any signed checkpoint; checkpoints were removed"
    ]
