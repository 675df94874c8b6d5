"""Who may do what in the organisation. Used by views, consumers, templates and admin alike.

Roles: anonymous/public, councillor (member of bodies; chair of some), secretariat (clerk),
executive official, administrator (superuser). Each check has an async twin (``a``-prefix)
for consumers, so no ORM call runs on the event loop.
"""

from __future__ import annotations

import datetime

from asgiref.sync import sync_to_async
from django.utils import timezone

from council.models import Body, Membership, Person


def person_of(user) -> Person | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.person
    except Person.DoesNotExist:
        return None


def is_admin(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_superuser)


def is_clerk(user) -> bool:
    """Secretariat staff (事務局) or an administrator: runs sittings, manages documents."""
    if is_admin(user):
        return True
    person = person_of(user)
    return bool(person and person.active and person.kind == Person.Kind.SECRETARIAT)


def is_councillor(user) -> bool:
    person = person_of(user)
    return bool(person and person.active and person.kind == Person.Kind.COUNCILLOR)


def is_official(user) -> bool:
    person = person_of(user)
    return bool(person and person.active and person.kind == Person.Kind.OFFICIAL)


def role_of(user) -> str:
    """One word for the user's role: anonymous, admin, clerk, councillor, official, public."""
    if not getattr(user, "is_authenticated", False):
        return "anonymous"
    if is_admin(user):
        return "admin"
    person = person_of(user)
    if person is None or not person.active:
        return "public"
    return {
        Person.Kind.SECRETARIAT: "clerk",
        Person.Kind.COUNCILLOR: "councillor",
        Person.Kind.OFFICIAL: "official",
    }.get(person.kind, "public")


def is_member_of(user, body: Body, *, on: datetime.date | None = None) -> bool:
    person = person_of(user)
    if person is None or not person.active:
        return False
    if body.is_plenary and person.kind == Person.Kind.COUNCILLOR and body.council_id == person.council_id:
        return True
    return Membership.objects.filter(body=body, person=person).active(on=on).exists()


def is_chair_of(user, body: Body, *, on: datetime.date | None = None) -> bool:
    person = person_of(user)
    if person is None:
        return False
    return (
        Membership.objects.filter(body=body, person=person, role=Membership.Role.CHAIR).active(on=on).exists()
    )


def can_manage_organisation(user) -> bool:
    return is_clerk(user)


def can_view_body(user, body: Body) -> bool:
    return is_clerk(user) or is_member_of(user, body) or is_official(user)


def bodies_for(user):
    """The bodies whose sittings a user follows as a member (plenary included for councillors)."""
    person = person_of(user)
    if is_clerk(user):
        return Body.objects.all()
    if person is None:
        return Body.objects.none()
    today = timezone.localdate()
    ids = set(Membership.objects.filter(person=person).active(on=today).values_list("body_id", flat=True))
    if person.kind == Person.Kind.COUNCILLOR:
        ids |= set(
            Body.objects.filter(council=person.council, kind=Body.Kind.PLENARY).values_list("id", flat=True)
        )
    return Body.objects.filter(id__in=ids)


ais_clerk = sync_to_async(is_clerk)
ais_councillor = sync_to_async(is_councillor)
ais_official = sync_to_async(is_official)
ais_member_of = sync_to_async(is_member_of)
ais_chair_of = sync_to_async(is_chair_of)
arole_of = sync_to_async(role_of)
