"""manage.py import_members FILE: import people from a CSV file, all rows or none."""

from __future__ import annotations

import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from council.importing import KNOWN, ImportRefused, import_people
from council.models import Council


class Command(BaseCommand):
    help = (
        "Import councillors, secretariat staff and officials from a CSV file (columns: "
        + ", ".join(KNOWN)
        + ")."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file, UTF-8 with or without BOM")
        parser.add_argument("--council", help="council name or id (needed only when there are several)")
        parser.add_argument("--start", help="first day of the memberships, YYYY-MM-DD (default: today)")

    def handle(self, *args, file: str, council: str | None = None, start: str | None = None, **options):
        path = Path(file)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise CommandError(
                _("Cannot read %(file)s: %(error)s") % {"file": file, "error": exc.strerror}
            ) from exc
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CommandError(
                _("%(file)s is not UTF-8 text (save it as UTF-8, with or without BOM).") % {"file": file}
            ) from exc
        target = self._council(council)
        try:
            first_day = datetime.date.fromisoformat(start) if start else timezone.localdate()
        except ValueError as exc:
            raise CommandError(_("--start must be a date like 2026-05-01.")) from exc
        try:
            result = import_people(actor=None, council=target, text=text, start=first_day)
        except ImportRefused as exc:
            lines = [_("Nothing was imported. Fix these rows and run the import again:")] + exc.messages
            raise CommandError("\n".join(lines)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                _("Imported %(people)s people and %(memberships)s memberships into %(council)s.")
                % {"people": len(result.people), "memberships": result.memberships, "council": target.name}
            )
        )

    def _council(self, ref: str | None) -> Council:
        councils = Council.objects.all()
        if ref:
            match = councils.filter(pk=int(ref)) if ref.isdigit() else councils.filter(name=ref)
            found = match.first()
            if found is None:
                raise CommandError(_("No council named %(council)s.") % {"council": ref})
            return found
        count = councils.count()
        if count == 1:
            return councils.get()
        if count == 0:
            raise CommandError(_("There is no council yet: create one first (for example with seed_demo)."))
        raise CommandError(_("There are several councils: choose one with --council."))
