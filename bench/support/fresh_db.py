"""A fresh database for one benchmark run.

    with fresh_database("matters") as database:   # "sqlite" or "postgresql"
        migrate_fresh()
        ...

Without ``DATABASE_URL`` (or with a SQLite one) the run gets a new SQLite file in a temporary
folder; with a ``postgres://`` URL a scratch database is created beside the named one and dropped
afterwards, whatever happens. ``COUNCIL_VAR_DIR`` points at the temporary folder, so keys and
files of the run stay out of the checkout.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def fresh_database(name: str, *, demo: bool = False) -> Iterator[str]:
    """Point Django at a new, empty database for the run ``name``; yield its kind."""
    base_url = os.environ.get("DATABASE_URL", "")
    tmp = tempfile.mkdtemp(prefix=f"bench-{name}-")
    scratch = None
    if base_url.startswith("postgres"):
        import psycopg

        scratch = f"bench_{name}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(base_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{scratch}"')
        os.environ["DATABASE_URL"] = base_url.rsplit("/", 1)[0] + "/" + scratch
        database = "postgresql"
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        database = "sqlite"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "council.settings")
    os.environ["COUNCIL_VAR_DIR"] = tmp
    if demo:
        os.environ["COUNCIL_DEMO"] = "1"
    try:
        yield database
    finally:
        if scratch:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(base_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


def migrate_fresh() -> None:
    """Set Django up as the test client expects and create the schema."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    setup_test_environment()
    call_command("migrate", verbosity=0, interactive=False)
