"""``manage.py make_keys``: make the key files the platform signs with, where absent:
the audit checkpoint key and a self-signed document-signing certificate for the council.
Existing files are never replaced."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError

from council import checkpoints, keys
from council.models import Council


class Command(BaseCommand):
    help = "Create the audit signing key and the council's document-signing certificate if missing."

    def handle(self, *args, **options):
        audit = Path(settings.COUNCIL_AUDIT_KEY_FILE)
        if audit.exists():
            self.stdout.write(f"audit key: {audit} (kept)")
        else:
            checkpoints.generate_key_file(audit)
            self.stdout.write(f"audit key: {audit} (new)")
        key_path = Path(settings.COUNCIL_SIGNING_KEY_FILE)
        cert_path = Path(settings.COUNCIL_SIGNING_CERT_FILE)
        if key_path.exists() and cert_path.exists():
            self.stdout.write(f"signing certificate: {cert_path} (kept)")
        else:
            try:
                council = Council.objects.first()
            except DatabaseError:  # not migrated yet: the organisation's name comes later
                council = None
            keys.generate_signing_certificate(
                key_path=key_path, cert_path=cert_path, organisation=council.name if council else "議会"
            )
            self.stdout.write(f"signing certificate: {cert_path} (new, self-signed)")
