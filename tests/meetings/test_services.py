"""Sessions, sittings and the order of business: services change state, audit it, refuse bad input."""

import datetime

import pytest
from django.utils import translation

from council.errors import Refused
from council.models import AuditEntry
from meetings import services
from meetings.models import AgendaItem, Session, Sitting
from tests.factories import make_agenda_item, make_body, make_council


def titles(sitting):
    return [(i.position, i.title) for i in sitting.agenda_items.order_by("position")]


@pytest.fixture
def clerk(org):
    return org["clerk"].user


def test_sitting_from_opening_template(org, clerk):
    session = org["session"]
    sitting = services.sitting_create(
        actor=clerk,
        session=session,
        body=org["plenary"],
        number=7,
        date=session.start_date,
        start_time=datetime.time(10),
        place="議場",
        template="opening",
    )
    assert titles(sitting)[:3] == [(1, "会議録署名議員の指名"), (2, "会期の決定"), (3, "諸般の報告")]
    assert sitting.agenda_items.first().kind == AgendaItem.Kind.SIGNERS
    assert AuditEntry.objects.filter(action="sitting.create", target_id=str(sitting.pk)).exists()


def test_sitting_outside_session_refused(org, clerk):
    session = org["session"]
    with translation.override("ja"), pytest.raises(Refused) as refused:
        services.sitting_create(
            actor=clerk,
            session=session,
            body=org["plenary"],
            number=8,
            date=session.end_date + datetime.timedelta(days=1),
            start_time=datetime.time(10),
            place="議場",
            template="opening",
        )
    assert "会期中" in str(refused.value.message_dict["date"])
    assert not Sitting.objects.filter(number=8).exists()
    assert not AgendaItem.objects.filter(sitting__number=8).exists()


def test_body_of_other_council_refused(org, clerk):
    other = make_body(make_council(name="別町議会"), kind="plenary", name="本会議")
    session = org["session"]
    with translation.override("en"), pytest.raises(Refused) as refused:
        services.sitting_create(
            actor=clerk,
            session=session,
            body=other,
            number=9,
            date=session.start_date,
            start_time=datetime.time(10),
            place="議場",
        )
    assert "another council" in str(refused.value)


def test_duplicate_sitting_number_refused(org, clerk):
    existing = org["sitting"]
    with translation.override("en"), pytest.raises(Refused) as refused:
        services.sitting_create(
            actor=clerk,
            session=existing.session,
            body=existing.body,
            number=existing.number,
            date=existing.date,
            start_time=datetime.time(13),
            place="議場",
        )
    assert "already has a sitting with that number" in str(refused.value)


def test_add_move_reorder_delete_renumber(org, clerk):
    sitting = org["sitting"]
    a = services.agenda_item_add(actor=clerk, sitting=sitting, kind="signers", title="A")
    b = services.agenda_item_add(
        actor=clerk, sitting=sitting, kind="bill", title="B", bill_number="議案第1号"
    )
    c = services.agenda_item_add(actor=clerk, sitting=sitting, kind="report", title="C", position=1)
    assert titles(sitting) == [(1, "C"), (2, "A"), (3, "B")]
    services.agenda_item_move(actor=clerk, item=c, direction="down")
    assert titles(sitting) == [(1, "A"), (2, "C"), (3, "B")]
    services.agenda_item_move(actor=clerk, item=a, direction="up")  # already first: nothing changes
    assert titles(sitting) == [(1, "A"), (2, "C"), (3, "B")]
    services.agenda_reorder(actor=clerk, sitting=sitting, item_ids=[b.pk, a.pk, c.pk])
    assert titles(sitting) == [(1, "B"), (2, "A"), (3, "C")]
    services.agenda_item_delete(actor=clerk, item=a)
    assert titles(sitting) == [(1, "B"), (2, "C")]
    services.agenda_item_update(actor=clerk, item=c, title="C2", title_en="C in English")
    assert titles(sitting) == [(1, "B"), (2, "C2")]
    actions = list(AuditEntry.objects.filter(action__startswith="agenda.").values_list("action", flat=True))
    assert (
        actions.count("agenda.item_add") == 3
        and "agenda.reorder" in actions
        and "agenda.item_delete" in actions
    )


def test_reorder_with_stale_list_refused(org, clerk):
    sitting = org["sitting"]
    a = make_agenda_item(sitting, title="A")
    b = make_agenda_item(sitting, title="B")
    with translation.override("ja"), pytest.raises(Refused) as refused:
        services.agenda_reorder(actor=clerk, sitting=sitting, item_ids=[b.pk])
    assert "再読み込み" in str(refused.value)
    with pytest.raises(Refused):
        services.agenda_reorder(actor=clerk, sitting=sitting, item_ids=[a.pk, a.pk])
    assert titles(sitting) == [(1, "A"), (2, "B")]


def test_publish_bumps_sequence_and_empty_refused(org, clerk):
    sitting = org["sitting"]
    with translation.override("en"), pytest.raises(Refused, match="empty order of business"):
        services.agenda_publish(actor=clerk, sitting=sitting)
    make_agenda_item(sitting)
    before = Sitting.objects.get(pk=sitting.pk).ical_sequence
    published = services.agenda_publish(actor=clerk, sitting=sitting)
    assert published.agenda_published_at is not None
    assert published.ical_sequence == before + 1
    services.agenda_item_add(actor=clerk, sitting=sitting, kind="report", title="追加")
    assert Sitting.objects.get(pk=sitting.pk).ical_sequence == before + 2  # a published agenda changed
    services.agenda_unpublish(actor=clerk, sitting=sitting)
    assert Sitting.objects.get(pk=sitting.pk).agenda_published_at is None


def test_sitting_update_bumps_sequence_only_on_schedule_change(org, clerk):
    sitting = org["sitting"]
    seq = sitting.ical_sequence
    services.sitting_update(
        actor=clerk,
        sitting=sitting,
        date=sitting.date,
        start_time=sitting.start_time,
        place=sitting.place,
        is_public=False,
    )
    assert Sitting.objects.get(pk=sitting.pk).ical_sequence == seq
    services.sitting_update(
        actor=clerk,
        sitting=sitting,
        date=sitting.date,
        start_time=datetime.time(13, 30),
        place="第1委員会室",
        is_public=True,
    )
    updated = Sitting.objects.get(pk=sitting.pk)
    assert updated.ical_sequence == seq + 1 and updated.place == "第1委員会室"


def test_cancel(org, clerk):
    sitting = org["sitting"]
    services.sitting_cancel(actor=clerk, sitting=sitting)
    sitting.refresh_from_db()
    assert sitting.status == Sitting.Status.CANCELLED and sitting.ical_sequence == 1
    with translation.override("en"), pytest.raises(Refused, match="already cancelled"):
        services.sitting_cancel(actor=clerk, sitting=sitting)
    with translation.override("en"), pytest.raises(Refused, match="cannot be changed"):
        services.agenda_item_add(actor=clerk, sitting=sitting, kind="report", title="x")


def test_session_create_and_bad_dates(org, clerk):
    council = org["council"]
    session = services.session_create(
        actor=clerk,
        council=council,
        kind="extraordinary",
        year=2026,
        number=9,
        start_date=datetime.date(2026, 12, 20),
        end_date=datetime.date(2026, 12, 20),
    )
    assert session.title == "令和8年第9回臨時会"
    with translation.override("ja"), pytest.raises(Refused) as refused:
        services.session_create(
            actor=clerk,
            council=council,
            kind="regular",
            year=2026,
            number=10,
            start_date=datetime.date(2026, 12, 20),
            end_date=datetime.date(2026, 12, 1),
        )
    assert "会期の最終日は初日より前にできません" in str(refused.value)
    assert not Session.objects.filter(number=10).exists()


def test_session_update_refuses_leaving_sittings_outside(org, clerk):
    session = org["session"]
    with translation.override("en"), pytest.raises(Refused, match="fall outside"):
        services.session_update(
            actor=clerk, session=session, start_date=session.start_date, end_date=session.start_date
        )


def test_published_agenda_change_notifies_the_members(org, clerk, django_capture_on_commit_callbacks):
    from documents.notices.models import Notice

    sitting = org["sitting"]
    make_agenda_item(sitting)
    with django_capture_on_commit_callbacks(execute=True):
        services.agenda_item_add(actor=clerk, sitting=sitting, kind="report", title="下書き中")
    assert not Notice.objects.filter(kind=Notice.Kind.AGENDA_CHANGED).exists()  # a draft tells nobody
    with django_capture_on_commit_callbacks(execute=True):
        services.agenda_publish(actor=clerk, sitting=sitting)
    notice = Notice.objects.get(kind=Notice.Kind.AGENDA_CHANGED)
    member = org["members"][4].user
    assert notice.receipts.filter(user=member, opened_at__isnull=True).exists()
    notice.receipts.update(opened_at=notice.created_at)
    with django_capture_on_commit_callbacks(execute=True):
        services.agenda_item_add(actor=clerk, sitting=sitting, kind="report", title="追加議案")
    # Coalesced into the same notice, which is unread again.
    assert Notice.objects.filter(kind=Notice.Kind.AGENDA_CHANGED).count() == 1
    assert notice.receipts.filter(user=member, opened_at__isnull=True).exists()
