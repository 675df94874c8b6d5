"""``manage.py audit_checkpoint``: sign the audit chain's head now (run by a timer, so a quiet
platform's last changes are anchored too)."""

from django.core.management.base import BaseCommand

from council.checkpoints import audit_checkpoint


class Command(BaseCommand):
    help = "Sign the audit chain's head with the key outside the database (COUNCIL_AUDIT_KEY_FILE)."

    def handle(self, *args, **options):
        checkpoint = audit_checkpoint(reason="timer")
        if checkpoint is None:
            self.stdout.write("audit chain is empty; nothing to sign")
        else:
            self.stdout.write(f"signed checkpoint {checkpoint.short}")
