"""Cron: mark scheduled documents whose release time has passed as released.

Visibility already treats them as released from their time on; this makes the state explicit
and writes the audit entry. Run it every minute or so (e.g. from a systemd timer or cron)."""

from django.core.management.base import BaseCommand

from documents.services import release_due_documents


class Command(BaseCommand):
    help = "Release scheduled documents whose release time has passed."

    def handle(self, *args, **options):
        count = release_due_documents()
        self.stdout.write(f"released {count}")
