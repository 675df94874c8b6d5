"""Verify the audit chain and recount every stored vote from its ballots.

python manage.py verify_record            # exits 1 if anything does not add up
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from council.audit import audit_verify
from meetings.voting.verify import recount_all


class Command(BaseCommand):
    help = "Verify the hash-chained audit log and recount every stored vote from its ballots."

    def handle(self, *args, **options):
        chain = audit_verify()
        if chain.ok:
            self.stdout.write(
                f"audit chain: {chain.entries} entries, intact; {chain.checkpoints} signed checkpoints verify"
            )
        else:
            where = f" at entry {chain.first_bad_id}" if chain.first_bad_id else ""
            self.stdout.write(f"audit chain: BROKEN{where}: {chain.reason}")
            for problem in chain.problems:
                if problem != chain.reason:
                    self.stdout.write(f"  - {problem}")
        bad = 0
        reports = recount_all()
        for report in reports:
            status = "ok" if report.ok else "MISMATCH"
            self.stdout.write(
                f"poll {report.poll_id} ({report.method}): {report.yes} yes, {report.no} no, "
                f"{report.outcome or 'open'} — {status}"
            )
            for problem in report.problems:
                bad += 1
                self.stdout.write(f"  - {problem}")
        self.stdout.write(f"{len(reports)} polls recounted, {bad} problems")
        if not chain.ok or bad:
            raise CommandError("the record does not verify")
