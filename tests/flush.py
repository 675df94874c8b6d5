"""A quicker flush between the tests that commit (``transaction=True``, real servers, browsers).

Django empties the database after each such test with its ``flush`` command and then runs
``post_migrate`` again, which re-creates every content type and permission. On PostgreSQL the
flush is one ``TRUNCATE`` of ~75 tables: it gives each table and index a new file, which costs 1-3 s
a test on this machine, the largest part of the PostgreSQL pass. Here, for tests only:

- the rows ``migrate`` itself makes (content types, permissions) are kept, so ``post_migrate`` finds
  them and writes nothing; no test changes them;
- PostgreSQL empties the other tables with ``DELETE`` (milliseconds for the few rows a test
  writes) with triggers off for that transaction only (``session_replication_role = replica``):
  foreign keys need no order and the audit log's append-only trigger lets the rows go.

A flush that resets sequences (``reset_sequences=True``), or one by a database user who is not a
superuser (who may not switch triggers off), is left to Django as it is.

Both halves live here: ``install`` (the SQL of the flush, from ``pytest_configure``) and
``without_post_migrate`` (no ``post_migrate`` after it, from a session fixture in tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import weakref

from django.db.backends.postgresql.base import DatabaseOperations as PostgresOperations
from django.db.backends.sqlite3.base import DatabaseOperations as SqliteOperations

KEPT = frozenset({"django_content_type", "auth_permission"})

_original = {PostgresOperations: PostgresOperations.sql_flush, SqliteOperations: SqliteOperations.sql_flush}


def _superuser(ops) -> bool:
    with ops.connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
        return bool(row and row[0])


def _postgres_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
    if reset_sequences or not _superuser(self):
        return _original[PostgresOperations](
            self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
    # Triggers off for this transaction only (SET LOCAL): foreign keys need no order, and the audit
    # log's append-only trigger lets the test database be emptied. Only a superuser may do this.
    sql = ["SET LOCAL session_replication_role = replica"]
    sql += [f"DELETE FROM {self.quote_name(table)}" for table in tables if table not in KEPT]
    sql.append("SET LOCAL session_replication_role = origin")
    return sql


def _sqlite_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
    if not reset_sequences:
        tables = [t for t in tables if t not in KEPT]
    return _original[SqliteOperations](
        self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
    )


def install() -> None:
    PostgresOperations.sql_flush = _postgres_flush
    SqliteOperations.sql_flush = _sqlite_flush


@contextlib.contextmanager
def without_post_migrate(django_db_blocker):
    """After each committing test Django flushes the database and sends ``post_migrate``, whose two
    receivers (contenttypes, auth) check every model's content type and permissions: ~40 ms of
    queries a test, though the flush above keeps those rows and they find
    nothing to write. So the signal is not sent after a flush; the rows are copied back from this
    run's fresh database where a flush did empty them (one that resets sequences). If any other
    receiver listens to ``post_migrate`` (a new app's), the signal is sent as before."""
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.management import create_contenttypes
    from django.contrib.contenttypes.models import ContentType
    from django.core.management.commands import flush as flush_command
    from django.db.models.signals import post_migrate

    receivers = {r[1]() if isinstance(r[1], weakref.ReferenceType) else r[1] for r in post_migrate.receivers}
    if receivers != {create_permissions, create_contenttypes}:
        yield
        return
    from django.db import DatabaseError

    try:
        with django_db_blocker.unblock():
            content_types = list(ContentType.objects.order_by("pk"))
            permissions = list(Permission.objects.order_by("pk"))
    except DatabaseError:  # no test database in this run (only tests without one were chosen)
        yield
        return
    send = flush_command.emit_post_migrate_signal

    def put_back(verbosity, interactive, db, **kwargs):
        if not ContentType.objects.using(db).exists():
            ContentType.objects.using(db).bulk_create(content_types)
        if not Permission.objects.using(db).exists():
            Permission.objects.using(db).bulk_create(permissions)
        ContentType.objects.clear_cache()

    flush_command.emit_post_migrate_signal = put_back
    try:
        yield
    finally:
        flush_command.emit_post_migrate_signal = send
