"""State changes of the organisation: bodies, people, memberships, officers.

Every function is keyword-only, runs in one transaction, validates with the models' own
rules (``full_clean``) and appends one audit entry. Refusals raise ``council.errors.Refused``
with a translated message and change nothing.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from council.audit import audit_record
from council.errors import Refused
from council.models import Body, Caucus, Council, Membership, Person

BODY_FIELDS = [
    "name",
    "name_en",
    "kind",
    "seats",
    "quorum_basis",
    "quorum_fixed",
    "allows_remote_attendance",
    "jitsi_server",
    "meeting_url",
    "order",
]
PERSON_FIELDS = [
    "kind",
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "title",
    "seat_number",
    "caucus",
    "active",
]


def _validate(instance) -> None:
    try:
        instance.full_clean()
    except ValidationError as exc:
        raise Refused(exc.message_dict if hasattr(exc, "error_dict") else exc.messages) from exc


def _snapshot(instance, fields: list[str]) -> dict[str, Any]:
    out = {}
    for name in fields:
        value = getattr(instance, name if name != "caucus" else "caucus_id")
        out[name] = value
    return out


@transaction.atomic
def body_save(*, actor, council: Council, body: Body | None = None, **fields: Any) -> Body:
    """Create a body (``body=None``) or change one. Refuses e.g. a quorum larger than the body."""
    unknown = set(fields) - set(BODY_FIELDS)
    if unknown:
        raise TypeError(f"unknown body fields: {sorted(unknown)}")
    creating = body is None
    if creating:
        body = Body(council=council)
    elif body.council_id != council.pk:
        raise Refused(_("The body belongs to another council."))
    else:
        body = Body.objects.select_for_update().get(pk=body.pk)
    for name, value in fields.items():
        setattr(body, name, value)
    _validate(body)
    body.save()
    audit_record(
        action="body.create" if creating else "body.update",
        actor=actor,
        target=body,
        data=_snapshot(body, BODY_FIELDS),
    )
    return body


@transaction.atomic
def person_save(*, actor, council: Council, person: Person | None = None, user=None, **fields: Any) -> Person:
    """Create or change a person. Refuses a duplicate seat number or a seat for a non-councillor."""
    unknown = set(fields) - set(PERSON_FIELDS)
    if unknown:
        raise TypeError(f"unknown person fields: {sorted(unknown)}")
    creating = person is None
    if creating:
        person = Person(council=council, user=user)
    elif person.council_id != council.pk:
        raise Refused(_("The person belongs to another council."))
    else:
        person = Person.objects.select_for_update().get(pk=person.pk)
    for name, value in fields.items():
        setattr(person, name, value)
    _validate(person)
    try:
        with transaction.atomic():
            person.save()
    except IntegrityError as exc:  # a concurrent change took the seat between check and save
        raise Refused({"seat_number": [_("This seat number is already taken.")]}) from exc
    audit_record(
        action="person.create" if creating else "person.update",
        actor=actor,
        target=person,
        data=_snapshot(person, PERSON_FIELDS),
    )
    return person


@transaction.atomic
def caucus_get_or_create(*, actor, council: Council, name: str) -> Caucus:
    caucus, created = Caucus.objects.get_or_create(council=council, name=name)
    if created:
        audit_record(action="caucus.create", actor=actor, target=caucus, data={"name": name})
    return caucus


@transaction.atomic
def membership_add(
    *,
    actor,
    body: Body,
    person: Person,
    role: str = Membership.Role.MEMBER,
    start: datetime.date,
    end: datetime.date | None = None,
) -> Membership:
    """Seat a councillor on a body from ``start``. Refuses non-councillors, overlaps, a second chair."""
    if role not in Membership.Role.values:
        raise Refused(_("Unknown role: %(role)s") % {"role": role})
    if person.council_id != body.council_id:
        raise Refused(_("The person belongs to another council."))
    Body.objects.select_for_update().filter(pk=body.pk).first()  # serialize changes to one body
    membership = Membership(body=body, person=person, role=role, start=start, end=end)
    _validate(membership)
    membership.save()
    audit_record(
        action="membership.add",
        actor=actor,
        target=membership,
        data={"body": body.pk, "person": person.pk, "role": role, "start": start, "end": end},
    )
    return membership


@transaction.atomic
def membership_end(*, actor, membership: Membership, end: datetime.date) -> Membership:
    """Close a membership on ``end`` (the last day). Past sittings keep their composition."""
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if end < membership.start:
        raise Refused(_("A membership cannot end before it starts."))
    membership.end = end
    membership.save(update_fields=["end"])
    audit_record(action="membership.end", actor=actor, target=membership, data={"end": end})
    return membership


def _change_role(*, membership: Membership, role: str, on: datetime.date) -> Membership:
    """Give a membership a new role from ``on``, keeping the old role for the days before."""
    if membership.role == role:
        return membership
    if membership.start >= on:
        membership.role = role
        membership.save(update_fields=["role"])
        return membership
    old_end = membership.end
    membership.end = on - datetime.timedelta(days=1)
    membership.save(update_fields=["end"])
    return Membership.objects.create(
        body=membership.body, person=membership.person, role=role, start=on, end=old_end
    )


@transaction.atomic
def body_set_officer(
    *, actor, body: Body, person: Person, role: str, on: datetime.date | None = None
) -> Membership:
    """Make a member the body's chair or vice-chair from ``on``; the previous holder stays a member.

    The officer must already be a member of the body on that day (a committee chair is one of its members).
    """
    if role not in (Membership.Role.CHAIR, Membership.Role.VICE_CHAIR):
        raise Refused(_("Unknown role: %(role)s") % {"role": role})
    day = on or timezone.localdate()
    Body.objects.select_for_update().filter(pk=body.pk).first()
    current = Membership.objects.filter(body=body, person=person).active(on=day).first()
    if current is None:
        if body.is_plenary:
            raise Refused(_("%(person)s is not a member of the plenary on that day.") % {"person": person})
        raise Refused(
            _("The chair or vice-chair must be a member of the committee: %(person)s is not.")
            % {"person": person}
        )
    for holder in Membership.objects.filter(body=body, role=role).active(on=day).exclude(pk=current.pk):
        _change_role(membership=holder, role=Membership.Role.MEMBER, on=day)
    if current.role != Membership.Role.MEMBER and current.role != role:
        current = _change_role(membership=current, role=Membership.Role.MEMBER, on=day)
    membership = _change_role(membership=current, role=role, on=day)
    audit_record(
        action="body.set_officer",
        actor=actor,
        target=body,
        data={"person": person.pk, "role": role, "on": day},
    )
    return membership


@transaction.atomic
def person_text_size_set(*, person: Person, text_size: str, actor) -> Person:
    """The member's own reading size (文字の大きさ), kept with the person so it follows them to any
    device and across sign-ins. Only the person themselves changes it."""
    if text_size not in Person.TextSize.values:
        raise Refused(_("Choose a text size from the list."))
    if getattr(actor, "pk", None) != person.user_id:
        raise Refused(_("Only the member themselves can change their text size."))
    person = Person.objects.select_for_update().get(pk=person.pk)
    before = person.text_size
    if before == text_size:
        return person
    person.text_size = text_size
    person.save(update_fields=["text_size"])
    audit_record(
        action="person.text_size", actor=actor, target=person, data={"from": before, "to": text_size}
    )
    return person
