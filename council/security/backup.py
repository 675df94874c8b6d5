"""Consistent backups while the platform runs, and restores.

SQLite: the online backup API copies a consistent snapshot page by page while other
connections keep writing (WAL mode), then uploaded files are copied. Files are written
before the rows that point at them commit, so every file the snapshot refers to is copied;
files uploaded after the snapshot are extra, never missing.

PostgreSQL: ``pg_dump`` (custom format) gives a consistent snapshot; point-in-time recovery
needs WAL archiving set up on the server (see the README's production section).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connections
from django.utils.translation import gettext as _

MANIFEST = "manifest.json"
SQLITE_FILE = "db.sqlite3"
PG_FILE = "db.pgdump"
MEDIA_DIR = "media"


class BackupError(Exception):
    """A refused backup or restore; the message says why and what to do."""


@dataclass
class BackupResult:
    path: Path
    engine: str
    database_file: Path
    media_files: int
    seconds: float


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_media(source: Path, dest: Path) -> int:
    count = 0
    if not source.exists():
        dest.mkdir(parents=True, exist_ok=True)
        return 0
    for root, _dirs, files in os.walk(source):
        rel = Path(root).relative_to(source)
        (dest / rel).mkdir(parents=True, exist_ok=True)
        for name in files:
            src = Path(root) / name
            try:
                shutil.copy2(src, dest / rel / name)
            except FileNotFoundError:  # removed while we walked: not part of any snapshot
                continue
            count += 1
    return count


def sqlite_online_backup(source: Path | str, dest: Path | str, *, pages: int = -1) -> None:
    """Copy a live SQLite database with the online backup API (consistent under writes).

    All pages in one step: under WAL a reader does not block writers, and a step-wise copy
    would restart on every write made by another connection, possibly forever."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(str(dest))
    try:
        with dst:
            src.backup(dst, pages=pages)
        dst.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
    finally:
        dst.close()
        src.close()


def _db_settings(alias: str = "default") -> dict:
    return connections[alias].settings_dict


def backup(dest: Path | str, *, alias: str = "default") -> BackupResult:
    """Write a backup into the new directory ``dest``."""
    started = datetime.datetime.now(datetime.UTC)
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(_("The backup folder %(path)s is not empty; give a new folder.") % {"path": dest})
    dest.mkdir(parents=True, exist_ok=True)
    db = _db_settings(alias)
    engine = db["ENGINE"].rsplit(".", 1)[-1]
    if engine == "sqlite3":
        db_file = dest / SQLITE_FILE
        sqlite_online_backup(db["NAME"], db_file)
        integrity = sqlite3.connect(str(db_file)).execute("PRAGMA integrity_check").fetchone()[0]
        if integrity != "ok":
            raise BackupError(
                _("The database copy failed its integrity check: %(detail)s") % {"detail": integrity}
            )
    elif engine == "postgresql":
        db_file = dest / PG_FILE
        _pg_dump(db, db_file)
    else:
        raise BackupError(
            _("Backups of the %(engine)s database engine are not supported.") % {"engine": engine}
        )
    media = _copy_media(Path(settings.MEDIA_ROOT), dest / MEDIA_DIR)
    finished = datetime.datetime.now(datetime.UTC)
    manifest = {
        "format": 1,
        "engine": engine,
        "started": started.isoformat(),
        "finished": finished.isoformat(),
        "database_file": db_file.name,
        "database_sha256": _sha256(db_file),
        "media_files": media,
    }
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return BackupResult(dest, engine, db_file, media, (finished - started).total_seconds())


def _pg_env(db: dict) -> tuple[list[str], dict[str, str]]:
    args = [
        "-h",
        str(db.get("HOST") or "127.0.0.1"),
        "-p",
        str(db.get("PORT") or 5432),
        "-U",
        str(db.get("USER") or "postgres"),
    ]
    env = os.environ.copy()
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])  # passed by environment, never on the command line
    return args, env


def _pg_tool(name: str) -> str:
    tool = shutil.which(name)
    if tool is None:
        raise BackupError(
            _(
                "%(tool)s was not found. For PostgreSQL, take backups with pg_dump (and set up WAL "
                "archiving for point-in-time recovery) as described in the README."
            )
            % {"tool": name}
        )
    return tool


def _pg_dump(db: dict, dest: Path) -> None:
    args, env = _pg_env(db)
    cmd = [_pg_tool("pg_dump"), *args, "--format=custom", "--no-owner", "--file", str(dest), str(db["NAME"])]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(_("pg_dump failed: %(detail)s") % {"detail": result.stderr.strip()})


def read_manifest(source: Path | str) -> dict:
    source = Path(source)
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BackupError(_("%(path)s is not a backup folder (no manifest).") % {"path": source}) from exc
    db_file = source / manifest["database_file"]
    if _sha256(db_file) != manifest["database_sha256"]:
        raise BackupError(_("The database file of the backup is damaged (checksum mismatch)."))
    return manifest


def restore(source: Path | str, *, alias: str = "default", replace: bool = False) -> dict:
    """Restore a backup over the configured database and media folder.

    Refuses to overwrite a database that already has tables unless ``replace`` is given.
    Stop the platform first: a restore under live writers would mix old and new."""
    source = Path(source)
    manifest = read_manifest(source)
    db = _db_settings(alias)
    engine = db["ENGINE"].rsplit(".", 1)[-1]
    if engine != manifest["engine"]:
        raise BackupError(
            _("This backup is of a %(backup)s database; the platform is configured for %(engine)s.")
            % {"backup": manifest["engine"], "engine": engine}
        )
    if connections[alias].introspection.table_names() and not replace:
        raise BackupError(_("The database is not empty. Give --replace to overwrite it."))
    connections[alias].close()
    if engine == "sqlite3":
        target = Path(db["NAME"])
        target.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        src = sqlite3.connect(f"file:{source / manifest['database_file']}?mode=ro", uri=True)
        dst = sqlite3.connect(str(target))
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
    else:
        args, env = _pg_env(db)
        cmd = [
            _pg_tool("pg_restore"),
            *args,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "-d",
            str(db["NAME"]),
            str(source / manifest["database_file"]),
        ]
        result = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise BackupError(_("pg_restore failed: %(detail)s") % {"detail": result.stderr.strip()})
    media_target = Path(settings.MEDIA_ROOT)
    media_source = source / MEDIA_DIR
    if media_source.exists():
        shutil.copytree(media_source, media_target, dirs_exist_ok=True)
    return manifest
