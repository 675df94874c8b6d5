"""``manage.py backup DEST``: a consistent backup of the database and uploaded files, while running."""

from django.core.management.base import BaseCommand, CommandError

from council.security.backup import BackupError, backup


class Command(BaseCommand):
    help = "Back up the database (SQLite online backup, or pg_dump for PostgreSQL) and MEDIA_ROOT into DEST."

    def add_arguments(self, parser):
        parser.add_argument("dest", help="a new, empty folder for the backup")

    def handle(self, *args, dest, **options):
        try:
            result = backup(dest)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"backup written to {result.path} ({result.engine}, {result.media_files} media files, "
            f"{result.seconds:.1f} s)"
        )
