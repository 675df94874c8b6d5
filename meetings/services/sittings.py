"""Sessions (会期) and sittings (会議): create, reschedule, cancel.

Keyword-only, atomic, audited. Any change a calendar subscriber should see (date, time, place,
status, agenda publication) bumps ``Sitting.ical_sequence`` so the iCalendar feed's SEQUENCE rises.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from council.audit import audit_record
from council.errors import Refused
from council.models import Body, Council
from meetings.models import AgendaItem, Session, Sitting
from meetings.services.agenda import AGENDA_TEMPLATES


def _validate(instance) -> None:
    try:
        instance.full_clean()
    except ValidationError as exc:
        raise Refused(exc.message_dict if hasattr(exc, "error_dict") else exc.messages) from exc


def bump_ical_sequence(*, sitting: Sitting) -> None:
    """Raise the sitting's SEQUENCE (call inside the change's transaction)."""
    Sitting.objects.filter(pk=sitting.pk).update(ical_sequence=F("ical_sequence") + 1)
    sitting.refresh_from_db(fields=["ical_sequence"])


@transaction.atomic
def session_create(
    *,
    actor,
    council: Council,
    kind: str,
    year: int,
    number: int,
    start_date: datetime.date,
    end_date: datetime.date,
) -> Session:
    session = Session(
        council=council, kind=kind, year=year, number=number, start_date=start_date, end_date=end_date
    )
    _validate(session)
    session.save()
    audit_record(
        action="session.create",
        actor=actor,
        target=session,
        data={"kind": kind, "year": year, "number": number, "start": start_date, "end": end_date},
    )
    return session


@transaction.atomic
def session_update(*, actor, session: Session, start_date: datetime.date, end_date: datetime.date) -> Session:
    """Change a session's dates; refuses dates that would leave one of its sittings outside."""
    session = Session.objects.select_for_update().get(pk=session.pk)
    session.start_date, session.end_date = start_date, end_date
    _validate(session)
    outside = session.sittings.exclude(date__range=(start_date, end_date)).exclude(
        status=Sitting.Status.CANCELLED
    )
    if outside.exists():
        raise Refused({"start_date": [_("Sittings of this session fall outside those dates.")]})
    session.save()
    audit_record(
        action="session.update", actor=actor, target=session, data={"start": start_date, "end": end_date}
    )
    return session


@transaction.atomic
def sitting_create(
    *,
    actor,
    session: Session,
    body: Body,
    number: int,
    date: datetime.date,
    start_time: datetime.time,
    place: str,
    is_public: bool = True,
    livestream_url: str = "",
    template: str = "",
) -> Sitting:
    """Schedule a sitting, optionally with the usual opening items from ``AGENDA_TEMPLATES[template]``.

    Refuses a date outside the session's dates and a body of another council.
    """
    if template and template not in AGENDA_TEMPLATES:
        raise Refused({"template": [_("Unknown template.")]})
    sitting = Sitting(
        session=session,
        body=body,
        number=number,
        date=date,
        start_time=start_time,
        place=place,
        is_public=is_public,
        livestream_url=livestream_url,
    )
    _validate(sitting)
    try:
        with transaction.atomic():
            sitting.save()
    except IntegrityError as exc:
        raise Refused(
            {"number": [_("This body already has a sitting with that number in this session.")]}
        ) from exc
    items = []
    if template:
        for position, (kind, title, title_en) in enumerate(AGENDA_TEMPLATES[template].items, start=1):
            items.append(
                AgendaItem(sitting=sitting, position=position, kind=kind, title=title, title_en=title_en)
            )
        AgendaItem.objects.bulk_create(items)
    audit_record(
        action="sitting.create",
        actor=actor,
        target=sitting,
        data={
            "session": session.pk,
            "body": body.pk,
            "number": number,
            "date": date,
            "start_time": start_time,
            "place": place,
            "template": template,
            "items": len(items),
        },
    )
    return sitting


@transaction.atomic
def sitting_update(
    *,
    actor,
    sitting: Sitting,
    date: datetime.date,
    start_time: datetime.time,
    place: str,
    is_public: bool,
    livestream_url: str = "",
) -> Sitting:
    """Reschedule or move a sitting; a change of date, time or place bumps the calendar SEQUENCE."""
    sitting = Sitting.objects.select_for_update().get(pk=sitting.pk)
    if sitting.status in (Sitting.Status.CLOSED, Sitting.Status.CANCELLED):
        raise Refused(_("A closed or cancelled sitting cannot be changed."))
    before = {"date": sitting.date, "start_time": sitting.start_time, "place": sitting.place}
    sitting.date, sitting.start_time, sitting.place = date, start_time, place
    sitting.is_public, sitting.livestream_url = is_public, livestream_url
    _validate(sitting)
    sitting.save()
    after = {"date": date, "start_time": start_time, "place": place}
    if before != after:
        bump_ical_sequence(sitting=sitting)
    audit_record(
        action="sitting.update",
        actor=actor,
        target=sitting,
        data={"before": before, "after": after, "is_public": is_public},
    )
    return sitting


@transaction.atomic
def sitting_cancel(*, actor, sitting: Sitting) -> Sitting:
    """Cancel a sitting that has not opened; calendars show it as STATUS:CANCELLED."""
    sitting = Sitting.objects.select_for_update().get(pk=sitting.pk)
    if sitting.status == Sitting.Status.CANCELLED:
        raise Refused(_("This sitting is already cancelled."))
    if sitting.status != Sitting.Status.SCHEDULED:
        raise Refused(_("Only a sitting that has not opened can be cancelled."))
    sitting.status = Sitting.Status.CANCELLED
    sitting.save(update_fields=["status", "updated_at"])
    bump_ical_sequence(sitting=sitting)
    audit_record(action="sitting.cancel", actor=actor, target=sitting)
    return sitting
