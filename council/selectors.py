"""Reads for the organisation pages."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from council.models import Body, Council, Membership, Person


def people(council: Council) -> QuerySet[Person]:
    return Person.objects.filter(council=council).select_related("caucus", "user")


def body_memberships(body: Body) -> list[Membership]:
    """Every membership of a body, current ones marked ``is_current``, chair first."""
    today = timezone.localdate()
    rank = {Membership.Role.CHAIR: 0, Membership.Role.VICE_CHAIR: 1, Membership.Role.MEMBER: 2}
    memberships = list(Membership.objects.filter(body=body).select_related("person", "person__caucus"))
    for m in memberships:
        m.is_current = m.start <= today and (m.end is None or m.end >= today)
    memberships.sort(
        key=lambda m: (not m.is_current, rank.get(m.role, 3), m.person.seat_number or 999, m.start)
    )
    return memberships
