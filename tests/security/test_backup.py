"""Backups taken while the platform writes restore to a database whose audit chain verifies."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from council.audit import audit_record
from council.models import AuditEntry
from council.security import backup as backup_mod

ROOT = Path(__file__).resolve().parents[2]


class Writer(threading.Thread):
    """Appends audit entries in its own connection as fast as it can, like a busy sitting."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.count = 0
        self.error: BaseException | None = None

    def run(self):
        try:
            while not self.stop.is_set():
                with transaction.atomic():
                    audit_record(
                        action="test.write",
                        target_type="test",
                        target_id=self.count,
                        data={"n": self.count, "text": "議案第1号 ✓"},
                    )
                self.count += 1
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc
        finally:
            connection.close()

    def wait_for(self, n: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while self.count < n:
            assert self.error is None, self.error
            assert time.monotonic() < deadline, f"writer stuck at {self.count}"
            time.sleep(0.01)


def restore_env(tmp_path: Path) -> tuple[dict[str, str], callable]:
    """Environment for a server-side restore into a NEW database (file or PostgreSQL database)."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env["MEDIA_ROOT"] = str(tmp_path / "restored-media")
    env["COUNCIL_VAR_DIR"] = str(tmp_path / "restored-var")
    # The audit signing key is kept apart from backups, like SECRET_KEY; the restoring
    # machine has it (a different key would rightly fail verification).
    env["COUNCIL_AUDIT_KEY_FILE"] = str(settings.COUNCIL_AUDIT_KEY_FILE)
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return env, lambda: None
    import psycopg

    name = f"{db['NAME']}_restored"
    admin_url = (
        f"postgres://{db.get('USER') or 'postgres'}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
    )
    with psycopg.connect(f"{admin_url}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(f"{admin_url}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    env["DATABASE_URL"] = f"{admin_url}/{name}"
    return env, drop


def manage(env, *args):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_backup_taken_under_writes_restores_and_verifies(tmp_path, settings):
    media = Path(settings.MEDIA_ROOT)
    (media / "documents" / "2026").mkdir(parents=True)
    packet = media / "documents" / "2026" / "議案書.pdf"
    packet.write_bytes(b"%PDF-1.7\n" + os.urandom(4096))
    polls = _votes_before_the_backup()

    writer = Writer()
    writer.start()
    try:
        writer.wait_for(20)
        before = AuditEntry.objects.count()
        call_command("backup", str(tmp_path / "backup"))
        writer.wait_for(writer.count + 20)  # the platform kept writing during and after the backup
    finally:
        writer.stop.set()
        writer.join(30)
    assert writer.error is None, writer.error
    total = AuditEntry.objects.count()

    env, drop = restore_env(tmp_path)
    try:
        result = manage(env, "restore", str(tmp_path / "backup"))
        assert result.returncode == 0, result.stdout + result.stderr
        assert "audit chain OK" in result.stdout
        restored = int(result.stdout.split("audit chain OK:")[1].split()[0])
        assert before <= restored < total  # a snapshot from inside the run of writes
        verify = manage(env, "audit_verify")
        assert verify.returncode == 0 and f"audit chain OK: {restored} entries" in verify.stdout, (
            verify.stderr
        )
        recount = _recount_votes(env)
        assert recount.returncode == 0, recount.stdout + recount.stderr
        assert int(recount.stdout.strip().splitlines()[-1]) == polls  # every vote is there and recounts
    finally:
        drop()
    restored_packet = tmp_path / "restored-media" / "documents" / "2026" / "議案書.pdf"
    assert restored_packet.read_bytes() == packet.read_bytes()


def _votes_before_the_backup() -> int:
    """Two roll-call votes of a committee, taken with the voting app's services."""
    from tests import factories
    from tests.security.voting_scenario import open_with_everyone_present, roll_call_vote

    org = factories.make_small_council()
    committee = org["committee"]
    sitting = factories.make_sitting(org["session"], committee)
    members = [m.person for m in committee.memberships.select_related("person__user")]
    open_with_everyone_present(sitting, members, org["clerk"].user)
    chair = org["members"][2]
    voters = [p for p in members if p.pk != chair.pk]
    for title in ("議案第1号", "議案第2号"):
        item = factories.make_agenda_item(sitting, title=title)
        roll_call_vote(sitting=sitting, item=item, voters=voters, chair_user=chair.user)
    return 2


def _recount_votes(env):
    """Recount every vote in the restored database, if the voting app offers a recount."""
    code = (
        "import django; django.setup()\n"
        "from tests.security.recount import recount_all\n"
        "print(recount_all())\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**env, "DJANGO_SETTINGS_MODULE": "council.settings"},
    )


@pytest.mark.django_db
def test_backup_refuses_a_folder_that_is_not_empty(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x").write_text("x")
    with pytest.raises(CommandError, match="空ではありません"):  # commands speak the site's language
        call_command("backup", str(tmp_path / "b"))


@pytest.mark.django_db
def test_restore_refuses_a_damaged_backup(tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("the damage check reads the SQLite file")
    call_command("backup", str(tmp_path / "b"))
    db_file = tmp_path / "b" / backup_mod.SQLITE_FILE
    data = bytearray(db_file.read_bytes())
    data[200] ^= 0xFF
    db_file.write_bytes(bytes(data))
    with pytest.raises(CommandError, match="壊れています"):
        call_command("restore", str(tmp_path / "b"))


@pytest.mark.django_db
def test_restore_refuses_to_overwrite_a_database_with_data(tmp_path):
    call_command("backup", str(tmp_path / "b"))
    with pytest.raises(CommandError, match="空ではありません。上書きする場合は --replace"):
        call_command("restore", str(tmp_path / "b"))


def test_restore_refuses_a_folder_that_is_not_a_backup(tmp_path, db):
    with pytest.raises(CommandError, match="バックアップのフォルダではありません"):
        call_command("restore", str(tmp_path))


def test_postgres_backup_without_pg_dump_gives_guidance(monkeypatch):
    monkeypatch.setattr(backup_mod.shutil, "which", lambda name: None)
    with pytest.raises(backup_mod.BackupError, match="pg_dump が見つかりません.*README"):
        backup_mod._pg_tool("pg_dump")
