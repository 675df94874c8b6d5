"""The audit log is append-only: the application refuses changes, PostgreSQL refuses them in the
database, and tampering past both (raw SQL by someone with the table owner's rights) is detected."""

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from council.audit import audit_record, audit_verify
from council.models import AuditEntry, AuditImmutableError

pytestmark = pytest.mark.django_db


@pytest.fixture
def entries():
    with transaction.atomic():
        audit_record(action="vote.cast", data={"choice": "yes"})
        audit_record(action="vote.cast", data={"choice": "no"})
        audit_record(action="vote.closed", data={"yes": 1, "no": 1})
    return list(AuditEntry.objects.order_by("id"))


def test_saving_a_changed_entry_is_refused(entries):
    entry = entries[0]
    entry.data = {"choice": "no"}
    with pytest.raises(AuditImmutableError):
        entry.save()


def test_deleting_an_entry_is_refused(entries):
    with pytest.raises(AuditImmutableError):
        entries[0].delete()
    assert AuditEntry.objects.count() == 3


def test_bulk_update_and_delete_are_refused(entries):
    with pytest.raises(AuditImmutableError):
        AuditEntry.objects.filter(action="vote.cast").update(data={})
    with pytest.raises(AuditImmutableError):
        AuditEntry.objects.all().delete()
    with pytest.raises(AuditImmutableError):
        AuditEntry.objects.bulk_update(entries, ["data"])
    assert audit_verify().ok


def test_appending_still_works(entries):
    with transaction.atomic():
        audit_record(action="vote.cast", data={"choice": "abstain"})
    report = audit_verify()
    assert report.ok and report.entries == 4


def _raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _tamper(sql, params=()):
    """What an attacker with the table owner's rights does: switch the trigger off, then write."""
    if connection.vendor == "postgresql":
        _raw("SET CONSTRAINTS ALL IMMEDIATE")
        _raw("ALTER TABLE council_auditentry DISABLE TRIGGER council_auditentry_append_only")
    _raw(sql, params)
    if connection.vendor == "postgresql":
        _raw("ALTER TABLE council_auditentry ENABLE TRIGGER council_auditentry_append_only")


def test_verify_command_passes_on_an_intact_chain(entries, capsys):
    call_command("audit_verify")
    assert "audit chain OK: 3 entries" in capsys.readouterr().out


def test_verify_command_detects_a_changed_row(entries):
    _tamper("UPDATE council_auditentry SET data = %s WHERE id = %s", ['{"choice": "no"}', entries[0].pk])
    with pytest.raises(CommandError, match=rf"BROKEN at entry #{entries[0].pk}: content changed"):
        call_command("audit_verify")


def test_verify_command_detects_a_removed_row(entries):
    _tamper("DELETE FROM council_auditentry WHERE id = %s", [entries[1].pk])
    with pytest.raises(CommandError, match="link broken"):
        call_command("audit_verify")


def test_verify_command_detects_a_removed_tail(entries):
    _tamper("DELETE FROM council_auditentry WHERE id = %s", [entries[2].pk])
    with pytest.raises(CommandError, match="entries missing at the end"):
        call_command("audit_verify")


def test_verify_command_detects_a_rewritten_hash(entries):
    """Changing a row and recomputing its hash still breaks the next entry's link."""
    from council.audit import entry_hash

    first = entries[0]
    forged = entry_hash(
        prev_hash=first.prev_hash,
        at=first.at.isoformat(),
        actor_id=None,
        action=first.action,
        target_type="",
        target_id="",
        data={"choice": "no"},
    )
    _tamper(
        "UPDATE council_auditentry SET data = %s, hash = %s WHERE id = %s",
        ['{"choice": "no"}', forged, first.pk],
    )
    with pytest.raises(CommandError, match="link broken"):
        call_command("audit_verify")


@pytest.mark.postgres
def test_postgres_trigger_refuses_update_and_delete(entries):
    for sql in (
        "UPDATE council_auditentry SET action = 'x' WHERE id = %s",
        "DELETE FROM council_auditentry WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            _raw(sql, [entries[0].pk])
    assert AuditEntry.objects.count() == 3
    assert audit_verify().ok
