import pytest
from django.db import connection, transaction

from council.audit import audit_record, audit_verify
from council.models import AuditEntry


@pytest.mark.django_db
def test_chain_links_and_verifies():
    with transaction.atomic():
        audit_record(action="test.one", target_type="x", target_id=1, data={"名前": "議長"})
        audit_record(action="test.two", data={"n": 2})
    entries = list(AuditEntry.objects.order_by("id"))
    assert entries[1].prev_hash == entries[0].hash
    report = audit_verify()
    assert report.ok and report.entries == 2


@pytest.mark.django_db
def test_tampering_is_detected():
    with transaction.atomic():
        audit_record(action="vote.cast", data={"choice": "yes"})
        audit_record(action="vote.cast", data={"choice": "no"})
    first = AuditEntry.objects.filter(action="vote.cast").order_by("id").first()
    # Tamper as someone with database access would: raw SQL, past the application's refusal
    # (and, on PostgreSQL, past the append-only trigger, which the table owner can disable).
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks block ALTER TABLE
            cursor.execute("ALTER TABLE council_auditentry DISABLE TRIGGER council_auditentry_append_only")
        cursor.execute(
            "UPDATE council_auditentry SET data = %s WHERE id = %s", ['{"choice": "no"}', first.pk]
        )
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE council_auditentry ENABLE TRIGGER council_auditentry_append_only")
    report = audit_verify()
    assert not report.ok
    assert "hash" in report.reason


@pytest.mark.django_db(transaction=True)
def test_record_outside_transaction_is_refused():
    with pytest.raises(RuntimeError):
        audit_record(action="x")
