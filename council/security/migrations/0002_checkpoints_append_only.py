"""On PostgreSQL, signed audit checkpoints are append-only in the database too (as entries are)."""

from django.db import migrations

CREATE = """
DROP TRIGGER IF EXISTS council_auditcheckpoint_append_only ON council_auditcheckpoint;
CREATE TRIGGER council_auditcheckpoint_append_only
    BEFORE UPDATE OR DELETE ON council_auditcheckpoint
    FOR EACH ROW EXECUTE FUNCTION council_auditentry_refuse_change();
"""

DROP = "DROP TRIGGER IF EXISTS council_auditcheckpoint_append_only ON council_auditcheckpoint;"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("security", "0001_audit_append_only"), ("council", "0003_audit_checkpoints")]
    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
