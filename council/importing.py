"""CSV import of people (members, secretariat, officials): all rows or none.

Columns (header row, UTF-8 with or without BOM): family_name, given_name, family_name_kana,
given_name_kana, seat_number, caucus, kind, title, username, email, bodies. ``bodies`` lists body
names separated by ``;``, each optionally with a role: ``総務常任委員会:chair``. Every row is checked
before anything is written; one bad row refuses the whole file with a message per bad row.
"""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from council.audit import audit_record
from council.errors import Refused
from council.models import Body, Caucus, Council, Membership, Person

REQUIRED = ["family_name", "given_name", "kind"]
KNOWN = [
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "seat_number",
    "caucus",
    "kind",
    "title",
    "username",
    "email",
    "bodies",
]
# Japanese spellings accepted beside the English values.
KIND_ALIASES = {"議員": "councillor", "事務局": "secretariat", "執行部": "official", "職員": "secretariat"}
ROLE_ALIASES = {
    "議長": "chair",
    "委員長": "chair",
    "副議長": "vice_chair",
    "副委員長": "vice_chair",
    "委員": "member",
    "議員": "member",
}


class ImportRefused(Refused):
    """The file was refused; ``row_errors`` holds (line number, message) pairs."""

    def __init__(self, row_errors: list[tuple[int, str]]):
        self.row_errors = row_errors
        super().__init__(
            [_("Row %(row)s: %(reason)s") % {"row": row, "reason": reason} for row, reason in row_errors]
        )


@dataclass
class PlannedPerson:
    line: int
    fields: dict
    caucus: str
    username: str
    email: str
    bodies: list[tuple[Body, str]] = field(default_factory=list)


@dataclass
class ImportResult:
    people: list[Person]
    memberships: int
    caucuses_created: int


def _read(text: str) -> tuple[list[str], list[tuple[int, dict]]]:
    text = text.removeprefix("\ufeff")
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in (reader.fieldnames or [])]
    reader.fieldnames = header
    rows = []
    for raw in reader:
        values = {key: (value or "").strip() for key, value in raw.items() if key is not None}
        if None in raw:
            values["__extra__"] = "x"
        rows.append((reader.line_num, values))
    return header, rows


def plan_import(*, council: Council, text: str) -> list[PlannedPerson]:
    """Check every row; raise ``ImportRefused`` listing every bad row, or return the plan."""
    try:
        header, rows = _read(text)
    except csv.Error as exc:
        raise ImportRefused([(0, _("The file is not valid CSV (%(error)s).") % {"error": exc})]) from exc
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise ImportRefused(
            [(1, _("The header lacks the column(s): %(columns)s.") % {"columns": ", ".join(missing)})]
        )
    unknown_columns = [name for name in header if name not in KNOWN]
    if unknown_columns:
        raise ImportRefused(
            [(1, _("Unknown column(s): %(columns)s.") % {"columns": ", ".join(unknown_columns)})]
        )
    if not rows:
        raise ImportRefused([(1, _("The file has no rows to import."))])

    bodies = {body.name: body for body in Body.objects.filter(council=council)}
    bodies.update({body.name_en: body for body in bodies.values() if body.name_en})
    taken_seats = set(
        Person.objects.filter(council=council, active=True, seat_number__isnull=False).values_list(
            "seat_number", flat=True
        )
    )
    User = get_user_model()
    seen_seats: dict[int, int] = {}
    seen_users: dict[str, int] = {}
    errors: list[tuple[int, str]] = []
    plan: list[PlannedPerson] = []

    for line, row in rows:
        if not any(value for key, value in row.items() if key != "__extra__"):
            continue  # blank line
        row_errors: list[str] = []
        if "__extra__" in row:
            row_errors.append(_("more values than columns"))
        for name in REQUIRED:
            if not row.get(name):
                row_errors.append(_("%(column)s is empty") % {"column": name})
        kind = KIND_ALIASES.get(row.get("kind", ""), row.get("kind", ""))
        if row.get("kind") and kind not in (
            Person.Kind.COUNCILLOR,
            Person.Kind.SECRETARIAT,
            Person.Kind.OFFICIAL,
        ):
            row_errors.append(
                _("unknown kind “%(kind)s” (use councillor, secretariat or official)") % {"kind": row["kind"]}
            )
        seat = None
        if row.get("seat_number"):
            try:
                seat = int(row["seat_number"])
                if seat < 1:
                    raise ValueError
            except ValueError:
                row_errors.append(
                    _("seat number “%(seat)s” is not a positive whole number") % {"seat": row["seat_number"]}
                )
                seat = None
        if seat is not None:
            if kind in (Person.Kind.SECRETARIAT, Person.Kind.OFFICIAL):
                row_errors.append(_("only councillors have seat numbers"))
            elif seat in taken_seats:
                row_errors.append(_("seat number %(seat)s is already taken") % {"seat": seat})
            elif seat in seen_seats:
                row_errors.append(
                    _("seat number %(seat)s is also given in row %(other)s")
                    % {"seat": seat, "other": seen_seats[seat]}
                )
            elif seat > council.seats:
                row_errors.append(
                    _("seat number %(seat)s is larger than the council's %(seats)s seats")
                    % {"seat": seat, "seats": council.seats}
                )
            else:
                seen_seats[seat] = line
        for name, limit in (
            ("family_name", 50),
            ("given_name", 50),
            ("family_name_kana", 50),
            ("given_name_kana", 50),
            ("title", 50),
            ("caucus", 100),
        ):
            if len(row.get(name, "")) > limit:
                row_errors.append(
                    _("%(column)s is longer than %(limit)s characters") % {"column": name, "limit": limit}
                )
        username = row.get("username", "")
        if username:
            if User.objects.filter(username=username).exists():
                row_errors.append(_("user name “%(username)s” already exists") % {"username": username})
            elif username in seen_users:
                row_errors.append(
                    _("user name “%(username)s” is also given in row %(other)s")
                    % {"username": username, "other": seen_users[username]}
                )
            else:
                seen_users[username] = line
            try:
                User.username_validator(username)
            except ValidationError:
                row_errors.append(
                    _("user name “%(username)s” has characters that are not allowed") % {"username": username}
                )
        email = row.get("email", "")
        if email:
            try:
                validate_email(email)
            except ValidationError:
                row_errors.append(_("“%(email)s” is not an e-mail address") % {"email": email})
            if not username:
                row_errors.append(_("an e-mail address needs a user name"))
        planned_bodies: list[tuple[Body, str]] = []
        for entry in [part.strip() for part in row.get("bodies", "").split(";") if part.strip()]:
            name, _sep, role = entry.partition(":")
            name, role = name.strip(), ROLE_ALIASES.get(role.strip(), role.strip() or "member")
            body = bodies.get(name)
            if body is None:
                row_errors.append(_("unknown body “%(body)s”") % {"body": name})
                continue
            if role not in Membership.Role.values:
                row_errors.append(
                    _("unknown role “%(role)s” (use chair, vice_chair or member)")
                    % {"role": entry.partition(":")[2]}
                )
                continue
            if kind in (Person.Kind.SECRETARIAT, Person.Kind.OFFICIAL):
                row_errors.append(_("only councillors can be members of a body"))
                continue
            planned_bodies.append((body, role))
        if row_errors:
            errors.extend((line, message) for message in row_errors)
            continue
        plan.append(
            PlannedPerson(
                line=line,
                fields=dict(
                    kind=kind,
                    family_name=row["family_name"],
                    given_name=row["given_name"],
                    family_name_kana=row.get("family_name_kana", ""),
                    given_name_kana=row.get("given_name_kana", ""),
                    title=row.get("title", ""),
                    seat_number=seat,
                ),
                caucus=row.get("caucus", ""),
                username=username,
                email=email,
                bodies=planned_bodies,
            )
        )
    if errors:
        raise ImportRefused(errors)
    if not plan:
        raise ImportRefused([(1, _("The file has no rows to import."))])
    return plan


@transaction.atomic
def import_people(*, actor, council: Council, text: str, start: datetime.date) -> ImportResult:
    """Import every row or none. Memberships start on ``start``."""
    plan = plan_import(council=council, text=text)
    User = get_user_model()
    people: list[Person] = []
    memberships = 0
    caucuses_created = 0
    errors: list[tuple[int, str]] = []
    for planned in plan:
        caucus = None
        if planned.caucus:
            caucus, created = Caucus.objects.get_or_create(council=council, name=planned.caucus)
            caucuses_created += created
        user = None
        if planned.username:
            user = User(username=planned.username, email=planned.email)
            user.set_unusable_password()
            user.save()
        person = Person(council=council, user=user, caucus=caucus, **planned.fields)
        try:
            person.full_clean()
        except ValidationError as exc:
            errors.extend((planned.line, message) for message in exc.messages)
            continue
        person.save()
        for body, role in planned.bodies:
            membership = Membership(body=body, person=person, role=role, start=start)
            try:
                membership.full_clean()
            except ValidationError as exc:
                errors.extend((planned.line, message) for message in exc.messages)
                continue
            membership.save()
            memberships += 1
        people.append(person)
    if errors:
        # Raising leaves the atomic block, which rolls back everything written so far.
        raise ImportRefused(errors)
    audit_record(
        action="people.import",
        actor=actor,
        target=council,
        data={
            "people": [p.pk for p in people],
            "memberships": memberships,
            "caucuses_created": caucuses_created,
            "start": start,
        },
    )
    return ImportResult(people=people, memberships=memberships, caucuses_created=caucuses_created)
