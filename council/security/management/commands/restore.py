"""``manage.py restore SRC``: put a backup back (stop the platform first)."""

from django.core.management.base import BaseCommand, CommandError

from council import checkpoints
from council.audit import audit_verify
from council.security.backup import BackupError, restore


class Command(BaseCommand):
    help = "Restore a backup made by `manage.py backup` into the configured database and MEDIA_ROOT."

    def add_arguments(self, parser):
        parser.add_argument("src", help="the backup folder")
        parser.add_argument("--replace", action="store_true", help="overwrite a database that has data")

    def handle(self, *args, src, replace, **options):
        try:
            manifest = restore(src, replace=replace)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        # The outside checkpoint log may know checkpoints newer than the backup: say so there.
        checkpoints.mark_restored()
        report = audit_verify()
        self.stdout.write(f"restored backup of {manifest['finished']} ({manifest['engine']})")
        if not report.ok:
            raise CommandError(f"restored, but the audit chain is BROKEN: {report.reason}")
        self.stdout.write(f"audit chain OK: {report.entries} entries")
