"""``manage.py audit_verify``: recompute the audit hash chain; exit status 1 when it is broken."""

from django.core.management.base import BaseCommand, CommandError

from council.audit import audit_verify


class Command(BaseCommand):
    help = "Verify the audit log's hash chain (detects changed, removed or inserted entries)."

    def handle(self, *args, **options):
        report = audit_verify()
        if not report.ok:
            where = f" at entry #{report.first_bad_id}" if report.first_bad_id else ""
            raise CommandError(f"audit chain BROKEN{where}: {report.reason} ({report.entries} entries read)")
        self.stdout.write(f"audit chain OK: {report.entries} entries")
