"""On PostgreSQL, a trigger refuses UPDATE and DELETE of audit entries in the database itself.

SQLite has no equivalent worth having (anyone who can write the file can drop a trigger), so
there the application's refusal and the hash chain are the guard."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION council_auditentry_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit entries are append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS council_auditentry_append_only ON council_auditentry;
CREATE TRIGGER council_auditentry_append_only
    BEFORE UPDATE OR DELETE ON council_auditentry
    FOR EACH ROW EXECUTE FUNCTION council_auditentry_refuse_change();
"""

DROP = """
DROP TRIGGER IF EXISTS council_auditentry_append_only ON council_auditentry;
DROP FUNCTION IF EXISTS council_auditentry_refuse_change();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("council", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
