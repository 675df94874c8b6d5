"""Services of live sessions: status changes with quorum, audit, the publish choke point, state parts."""

from __future__ import annotations

import pytest
from django.db import transaction

from council.models import AuditEntry
from meetings.attendance.models import Attendance
from meetings.events import publish
from meetings.live import services
from meetings.live.errors import Refused
from meetings.live.models import LiveState, StatusChange
from meetings.live.state import build_state, register_state_part, registered_parts
from meetings.models import Sitting
from meetings.voting.services import roll

pytestmark = pytest.mark.django_db


def mark_present(org, people):
    for person in people:
        roll.attendance_mark(
            sitting=org["sitting"], person=person, status=Attendance.Status.PRESENT_ROOM, by=org["clerk"].user
        )


def test_opening_needs_a_quorum_and_says_why(org, settings):
    settings.LANGUAGE_CODE = "en"
    clerk = org["clerk"].user
    mark_present(org, org["members"][:4])  # 4 of 10 seats: quorum is 5
    with pytest.raises(Refused) as refused:
        services.sitting_open(sitting=org["sitting"], actor=clerk)
    assert refused.value.text.startswith(
        "The sitting cannot open without a quorum: No quorum: 4 present, 5 needed."
    )
    org["sitting"].refresh_from_db()
    assert org["sitting"].status == Sitting.Status.SCHEDULED
    assert not StatusChange.objects.exists()


def test_open_recess_resume_close_are_recorded_with_times_and_actor(org, django_capture_on_commit_callbacks):
    clerk = org["clerk"].user
    mark_present(org, org["members"][:6])
    sitting = org["sitting"]
    before = LiveState.objects.get(sitting=sitting)  # the roll has published attendance already
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.sitting_open(sitting=sitting, actor=clerk)
    assert len(callbacks) == 2  # members and public: sent after commit, once each
    services.sitting_recess(sitting=sitting, actor=clerk)
    services.sitting_resume(sitting=sitting, actor=org["members"][0].user)  # the chair
    services.sitting_close(sitting=sitting, actor=clerk)
    sitting.refresh_from_db()
    assert sitting.status == Sitting.Status.CLOSED and sitting.opened_at and sitting.closed_at
    changes = list(
        StatusChange.objects.filter(sitting=sitting).values_list(
            "action", "from_status", "to_status", "actor"
        )
    )
    assert changes == [
        ("open", "scheduled", "open", clerk.pk),
        ("recess", "open", "recess", clerk.pk),
        ("resume", "recess", "open", org["members"][0].user.pk),
        ("close", "open", "closed", clerk.pk),
    ]
    actions = list(AuditEntry.objects.filter(action__startswith="live.").values_list("action", flat=True))
    assert actions == [
        "live.sitting_open",
        "live.sitting_recess",
        "live.sitting_resume",
        "live.sitting_close",
    ]
    live = LiveState.objects.get(sitting=sitting)
    assert (live.seq - before.seq, live.public_seq - before.public_seq) == (4, 4)


def test_a_councillor_cannot_open_the_sitting(org, settings):
    settings.LANGUAGE_CODE = "en"
    mark_present(org, org["members"][:6])
    with pytest.raises(Refused, match="Only the secretariat or the chair can run this sitting."):
        services.sitting_open(sitting=org["sitting"], actor=org["members"][3].user)


def test_resume_needs_a_quorum_too(org, settings):
    settings.LANGUAGE_CODE = "en"
    clerk = org["clerk"].user
    mark_present(org, org["members"][:5])
    services.sitting_open(sitting=org["sitting"], actor=clerk)
    services.sitting_recess(sitting=org["sitting"], actor=clerk)
    roll.attendance_mark(
        sitting=org["sitting"], person=org["members"][4], status=Attendance.Status.LEFT, by=clerk
    )
    with pytest.raises(Refused, match="The sitting cannot resume without a quorum"):
        services.sitting_resume(sitting=org["sitting"], actor=clerk)


@pytest.mark.django_db(transaction=True)
def test_publish_must_run_inside_a_transaction(org):
    with pytest.raises(RuntimeError, match="inside transaction.atomic"):
        publish(sitting_id=org["sitting"].pk, type="session.page", payload={})


def test_publish_numbers_each_audience_separately_and_rolls_back_with_the_change(org):
    sid = org["sitting"].pk
    with transaction.atomic():
        assert publish(sitting_id=sid, type="session.page", payload={}) == 1
        assert publish(sitting_id=sid, type="session.page", payload={}) == 2
        assert publish(sitting_id=sid, type="session.page", payload={}, audience="public") == 1
        assert publish(sitting_id=sid, type="presence.changed", payload={}, audience="clerks") == 1
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        publish(sitting_id=sid, type="session.page", payload={})
        raise ZeroDivisionError
    live = LiveState.objects.get(sitting_id=sid)
    assert (live.seq, live.public_seq, live.clerk_seq) == (2, 1, 1)
    with pytest.raises(ValueError), transaction.atomic():
        publish(sitting_id=sid, type="Bad Type", payload={})
    with pytest.raises(ValueError), transaction.atomic():
        publish(sitting_id=sid, type="session.page", payload={}, audience="everyone")


def test_state_parts_are_added_and_a_broken_part_is_skipped(org):
    calls = []

    def part(*, sitting, audience, user):
        calls.append(audience)
        return {"hello": sitting.pk}

    def broken(*, sitting, audience, user):
        raise RuntimeError("boom")

    saved = registered_parts()
    try:
        register_state_part("test_hello", part)
        register_state_part("test_broken", broken)
        state = build_state(sitting_id=org["sitting"].pk, audience="public", user=None)
        assert state["parts"]["test_hello"] == {"hello": org["sitting"].pk}
        assert "test_broken" not in state["parts"]
        assert calls == ["public"]
    finally:
        from meetings.live import state as state_module

        state_module._parts.clear()
        state_module._parts.update(saved)


def test_agenda_move_stops_presenting_a_document_not_on_the_new_item(org):
    from tests import factories
    from tests.live.conftest import make_document

    clerk = org["clerk"].user
    Sitting.objects.filter(pk=org["sitting"].pk).update(status=Sitting.Status.OPEN)
    first = factories.make_agenda_item(org["sitting"])
    second = factories.make_agenda_item(org["sitting"], title="補正予算")
    doc = make_document(org, agenda_item=first)
    services.agenda_move(sitting=org["sitting"], actor=clerk, agenda_item=first)
    services.document_present(sitting=org["sitting"], actor=clerk, document_id=doc.pk, page=2)
    services.agenda_move(sitting=org["sitting"], actor=clerk, agenda_item=second)
    live = LiveState.objects.get(sitting=org["sitting"])
    assert live.agenda_item_id == second.pk and live.document_id is None and live.page == 1


def test_only_documents_every_follower_may_read_can_be_presented(org, settings):
    """Everyone on the members' stream receives what is presented: not another body's members-only
    paper, not a closed-session paper (by visibility, or by belonging to a closed-session item)
    outside a closed-session item; a paper withdrawn after it was put up vanishes from the state."""
    from documents.models import Document
    from meetings.models import AgendaItemDocument
    from tests import factories
    from tests.live.conftest import make_document

    settings.LANGUAGE_CODE = "en"
    clerk = org["clerk"].user
    sitting = org["sitting"]
    sitting.status = Sitting.Status.OPEN
    sitting.save()
    item = factories.make_agenda_item(sitting)
    closed_item = factories.make_agenda_item(sitting, title="人事案件", closed_session=True)
    committee_paper = make_document(org, title="委員会資料", body=org["committee"])
    secret = make_document(org, title="秘密会資料", visibility=Document.Visibility.CLOSED_SESSION)
    linked = make_document(org, title="人事案件資料")  # members-only, but on the closed-session item
    AgendaItemDocument.objects.create(agenda_item=closed_item, document=linked)
    plenary_paper = make_document(org, title="本会議資料")
    services.agenda_move(sitting=sitting, actor=clerk, agenda_item=item)

    def present(doc):
        return services.document_present(sitting=sitting, actor=clerk, document_id=doc.pk)

    for doc, text in [
        (committee_paper, "belongs to another body"),
        (secret, "only during a closed-session item"),
        (linked, "only during a closed-session item"),
    ]:
        with pytest.raises(Refused) as refused:
            present(doc)
        assert refused.value.code == "not_presentable" and text in refused.value.text, doc.title
    assert LiveState.objects.get(sitting=sitting).document_id is None
    services.agenda_move(sitting=sitting, actor=clerk, agenda_item=closed_item)
    present(secret)
    present(linked)
    # A committee may show the plenary's papers (every councillor reads them), not the reverse.
    committee_sitting = factories.make_sitting(org["session"], org["committee"], status=Sitting.Status.OPEN)
    services.document_present(sitting=committee_sitting, actor=clerk, document_id=plenary_paper.pk)

    services.agenda_move(sitting=sitting, actor=clerk, agenda_item=item)
    present(plenary_paper)
    state = build_state(sitting_id=sitting.pk, audience="members", user=org["members"][4].user)
    assert state["presentation"]["title"] == "本会議資料"
    Document.objects.filter(pk=plenary_paper.pk).update(release_state=Document.Release.WITHDRAWN)
    from meetings.live.state import clear_state_cache

    clear_state_cache()
    state = build_state(sitting_id=sitting.pk, audience="members", user=org["members"][4].user)
    assert state["presentation"] is None  # neither its title, nor its page, nor its version
    with pytest.raises(Refused) as refused:
        services.page_turn(sitting=sitting, actor=clerk, page=2)
    assert refused.value.code == "not_presentable"
