"""Recount every vote in the current database with the voting app's own recount.

Used by the backup test against a restored copy: prints the number of polls recounted and
exits non-zero when any recount disagrees with the stored result or the audit chain."""

from __future__ import annotations


def recount_all() -> int:
    from meetings.voting.verify import recount_all as voting_recount_all

    reports = voting_recount_all()
    bad = [r for r in reports if not r.ok]
    if bad:
        raise SystemExit("recount disagrees: " + "; ".join(f"poll {r.poll_id}: {r.problems}" for r in bad))
    return len(reports)
