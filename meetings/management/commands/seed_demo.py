"""manage.py seed_demo: load the demo council, idempotently (a second run changes nothing).

Each area contributes one step: a module with ``seed(*, stdout) -> None`` that is idempotent on
its own. Steps run in the order listed; areas append their module to DEMO_STEPS.
"""

from __future__ import annotations

import importlib

from django.core.management.base import BaseCommand

DEMO_STEPS = [
    "council.demo",
    "meetings.demo",
    "meetings.demo_packet",  # the agenda packet (documents.demo, WeasyPrint), linked to the sittings' items
    "meetings.voting.demo",  # voting: a completed plenary sitting with its roll, floor turns and votes
    "meetings.matters.demo",  # matters: after the votes it links; before minutes, which drafts its past sittings
    "meetings.minutes.demo",  # minutes: keep after the step that records the completed sitting
]


class Command(BaseCommand):
    help = "Create (or complete) the demo council 磐梯町議会 with its people, bodies, session and sittings."

    def handle(self, *args, **options):
        for name in DEMO_STEPS:
            module = importlib.import_module(name)
            module.seed(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("seed_demo: done."))
