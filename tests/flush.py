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
"""

from __future__ import annotations

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
