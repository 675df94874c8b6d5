"""Test data built once for a whole test module, as Django's ``TestCase.setUpTestData`` builds it
for a class: a module-scoped fixture builds the world inside a transaction of its own, each test
runs in a savepoint inside that transaction (pytest-django's ``db``: an atomic block nested in an
open one) and gets a deep copy of the objects, so whatever a test changes, in the database or on
the objects, is undone before the next; the transaction is rolled back after the module.

For worlds that cost more to build (real votes through the services) than their tests cost to
run. Not for ``transactional_db`` tests, and only where every test of the module may see the data.
While building, the settings are those every test gets (``tests/conftest.py``: own media folder
and checkpoint log, jobs run at once, MD5 passwords)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.test import override_settings


@contextmanager
def built_once(django_db_blocker, folder: Path) -> Iterator[None]:
    """Open the module's transaction (rolled back at the end) with the tests' settings."""
    media = folder / "media"
    media.mkdir(parents=True, exist_ok=True)
    with (
        django_db_blocker.unblock(),
        override_settings(
            MEDIA_ROOT=media,
            COUNCIL_AUDIT_CHECKPOINT_LOG=folder / "audit-checkpoints.jsonl",
            TASKS={"default": {"BACKEND": settings.TASK_BACKENDS["immediate"], "QUEUES": ["default"]}},
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        ),
        transaction.atomic(),
    ):
        yield
        transaction.set_rollback(True)


def fresh_copy(data):
    """The test's own copy of the module's objects (its changes to them stay its own)."""
    return copy.deepcopy(data)
