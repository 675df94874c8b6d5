"""Announce newly released and replaced documents to their readers (run from cron every minute,
next to ``release_due_documents``). Safe to run any number of times."""

from django.core.management.base import BaseCommand

from documents.notices.services import announce_documents


class Command(BaseCommand):
    help = "Announce newly released and replaced documents to their readers (idempotent)."

    def handle(self, *args, **options):
        made = announce_documents()
        self.stdout.write(f"{made}")
