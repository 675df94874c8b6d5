"""iCalendar feed of a body's sittings (RFC 5545, via the ``icalendar`` package).

UID is stable per sitting; SEQUENCE is ``Sitting.ical_sequence``, raised by the services on every
change a subscriber should see; cancelled sittings stay in the feed with STATUS:CANCELLED so
calendars remove them. Agenda titles appear only once the order of business is published, and
never for closed-session items.
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse
from icalendar import Calendar, Event

from council.models import Body
from meetings.models import Sitting
from meetings.selectors import body_calendar_sittings

DEFAULT_DURATION = datetime.timedelta(hours=3)


def sitting_uid(sitting: Sitting, *, domain: str) -> str:
    return f"sitting-{sitting.pk}@{domain}"


def body_calendar(body: Body, *, domain: str, base_url: str = "") -> bytes:
    tz = ZoneInfo(settings.TIME_ZONE)
    cal = Calendar()
    cal.add("prodid", "-//gikai//council sittings//JA")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"{body.council.name} {body.name}")
    cal.add("x-wr-timezone", settings.TIME_ZONE)
    for sitting in body_calendar_sittings(body):
        event = Event()
        event.add("uid", sitting_uid(sitting, domain=domain))
        event.add("sequence", sitting.ical_sequence)
        start = datetime.datetime.combine(sitting.date, sitting.start_time, tzinfo=tz)
        event.add("dtstart", start)
        event.add("dtend", start + DEFAULT_DURATION)
        event.add("dtstamp", sitting.updated_at)
        event.add("last-modified", sitting.updated_at)
        event.add("summary", f"{sitting.session.title} {body.name} 第{sitting.number}号")
        event.add("location", sitting.place)
        cancelled = sitting.status == Sitting.Status.CANCELLED
        event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        if sitting.agenda_published_at:
            lines = [f"日程第{item.position} {item.title}" for item in sitting.agenda_items.all()]
            event.add("description", "\n".join(lines))
        if base_url:
            event.add("url", base_url + reverse("meetings:sitting_detail", args=[sitting.pk]))
        cal.add_component(event)
    return cal.to_ical()
