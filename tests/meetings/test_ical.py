"""The iCalendar feed per body, parsed back with the icalendar package."""

import datetime

from django.urls import reverse
from icalendar import Calendar

from meetings import services
from tests.factories import make_agenda_item, make_sitting


def events(client, body):
    response = client.get(reverse("meetings:body_calendar", args=[body.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(response.content)
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def test_feed_has_stable_uid_sequence_and_cancellation(client, org):
    sitting, clerk = org["sitting"], org["clerk"].user
    make_agenda_item(sitting, title="会議録署名議員の指名", kind="signers")
    first = events(client, org["plenary"])
    assert len(first) == 1
    uid, event = next(iter(first.items()))
    assert uid == f"sitting-{sitting.pk}@testserver"
    assert int(event["SEQUENCE"]) == 0
    assert str(event["STATUS"]) == "CONFIRMED"
    assert event.decoded("DTSTART") == datetime.datetime.combine(
        sitting.date, sitting.start_time, tzinfo=event.decoded("DTSTART").tzinfo
    )
    assert "DESCRIPTION" not in event  # the agenda is not published yet

    services.agenda_publish(actor=clerk, sitting=sitting)
    second = events(client, org["plenary"])[uid]
    assert int(second["SEQUENCE"]) == 1
    assert "日程第1 会議録署名議員の指名" in str(second["DESCRIPTION"])

    services.sitting_update(
        actor=clerk,
        sitting=sitting,
        date=sitting.date,
        start_time=datetime.time(14),
        place="議場",
        is_public=True,
    )
    third = events(client, org["plenary"])[uid]
    assert int(third["SEQUENCE"]) == 2 and third.decoded("DTSTART").hour == 14

    services.sitting_cancel(actor=clerk, sitting=sitting)
    fourth = events(client, org["plenary"])[uid]
    assert str(fourth["STATUS"]) == "CANCELLED" and int(fourth["SEQUENCE"]) == 3


def test_feed_only_lists_the_body_and_hides_closed_items(client, org):
    committee_sitting = make_sitting(org["session"], org["committee"])
    make_agenda_item(committee_sitting, title="公開の議案")
    make_agenda_item(committee_sitting, title="秘密の案件", closed_session=True)
    services.agenda_publish(actor=org["clerk"].user, sitting=committee_sitting)
    found = events(client, org["committee"])
    assert list(found) == [f"sitting-{committee_sitting.pk}@testserver"]
    description = str(found[f"sitting-{committee_sitting.pk}@testserver"]["DESCRIPTION"])
    assert "公開の議案" in description and "秘密" not in description


def test_unknown_body_is_404(client, db):
    assert client.get(reverse("meetings:body_calendar", args=[999])).status_code == 404
