"""manage.py verify_minutes: check every signed or published version against the digests the
audit chain recorded when it was signed (text) and frozen (PDF). Exit status 1 on any mismatch."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from meetings.minutes.models import Minutes
from meetings.minutes.selectors import integrity_problems


class Command(BaseCommand):
    help = "Check signed minutes (text and PDF) against the SHA-256 digests in the audit chain."

    def handle(self, *args, **options):
        checked = bad = 0
        for minutes in Minutes.objects.filter(state__in=[Minutes.State.SIGNED, Minutes.State.PUBLISHED]):
            checked += 1
            for problem in integrity_problems(minutes):
                bad += 1
                self.stderr.write(f"{minutes} (id {minutes.pk}): {problem}")
        if bad:
            raise CommandError(f"verify_minutes: {bad} problems in {checked} signed versions.")
        self.stdout.write(f"verify_minutes: {checked} signed versions match the audit chain.")
