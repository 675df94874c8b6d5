"""The published general-question order becomes the sitting's floor queue (idempotent, audited,
shown in order on the chair's console), and the clerk's list follows new notices live."""

from __future__ import annotations

import datetime

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.utils import timezone

from council.errors import Refused
from council.models import AuditEntry
from meetings.live.state import build_state, clear_state_cache
from meetings.matters import questions
from meetings.matters.models import QuestionCall
from meetings.voting.models import FloorTurn
from meetings.voting.services import floor

TOPIC = {"subject": "防災対策について", "points": "避難所の備蓄の状況は。", "answerers": ["町長"]}


def _call(world) -> QuestionCall:
    deadline = timezone.now() + datetime.timedelta(hours=2)
    return questions.call_open(actor=world["clerk_user"], session=world["session"], deadline=deadline)


def _fixed(world, people) -> QuestionCall:
    call = _call(world)
    for person in people:
        questions.question_submit(user=person.user, call=call, topics=[dict(TOPIC, subject=person.full_name)])
    QuestionCall.objects.filter(pk=call.pk).update(deadline=timezone.now() - datetime.timedelta(seconds=1))
    call.refresh_from_db()
    questions.order_fix(actor=world["clerk_user"], call=call, method="receipt")
    return call


def _console_queue(world, sitting) -> list[int]:
    """The floor queue as the chair's console receives it (the live state's floor part)."""
    clear_state_cache()
    state = build_state(
        sitting_id=sitting.pk, audience="members", user=world["clerk_user"], streams=("members", "clerks")
    )
    return [turn["person"]["id"] for turn in state["parts"]["floor"]["queue"]]


@pytest.mark.django_db
def test_matters_questions_published_order_becomes_the_floor_queue(world):
    members = world["members"]
    people = [members[6], members[3], members[8], members[5]]
    call = _fixed(world, people)
    sitting = world["plenary1"]
    published = questions.publish(actor=world["clerk_user"], call=call, sitting=sitting)
    turns = FloorTurn.objects.filter(sitting=sitting, agenda_item=published.agenda_item)
    assert [t.person_id for t in turns.order_by("requested_at", "id")] == [p.pk for p in people]
    assert all(t.status == "waiting" for t in turns)
    assert _console_queue(world, sitting) == [p.pk for p in people]
    schedule = AuditEntry.objects.get(action="floor.schedule")
    assert schedule.data["order"] == [p.pk for p in people] and schedule.data["created"] == [
        p.pk for p in people
    ]
    assert AuditEntry.objects.get(action="questions.publish").data["floor"]["order"] == [p.pk for p in people]

    # Publishing again without a change queues nobody twice.
    questions.publish(actor=world["clerk_user"], call=call, sitting=sitting)
    assert turns.count() == 4 and _console_queue(world, sitting) == [p.pk for p in people]

    # The first questioner speaks; then the order changes (the last moves up) and one notice is
    # struck with the chair's leave. Publishing again keeps the turn taken, moves and withdraws.
    first = turns.get(person=people[0])
    floor.floor_grant(turn=first, by=world["clerk_user"])
    floor.floor_end(sitting=sitting, by=world["clerk_user"])
    last = call.questions.get(member=people[3])
    questions.order_move(actor=world["clerk_user"], question=last, direction="up")
    questions.question_strike(actor=world["clerk_user"], question=call.questions.get(member=people[1]))
    assert [q.member for q in call.questions.order_by("order")] == [people[0], people[3], people[2]]
    questions.publish(actor=world["clerk_user"], call=call, sitting=sitting)
    assert FloorTurn.objects.filter(sitting=sitting, person=people[0]).count() == 1
    assert FloorTurn.objects.get(sitting=sitting, person=people[0]).status == "done"
    assert FloorTurn.objects.get(sitting=sitting, person=people[1]).status == "withdrawn"
    assert _console_queue(world, sitting) == [people[3].pk, people[2].pk]
    again = AuditEntry.objects.filter(action="floor.schedule").order_by("-id").first()
    assert again.data["kept"] == [people[0].pk] and again.data["withdrawn"] == [people[1].pk]
    assert again.data["moved"] == [people[3].pk] and again.data["created"] == []


@pytest.mark.django_db
def test_matters_questions_floor_keeps_a_members_own_request(world):
    """A questioner already waiting on another item keeps that one request (reported as busy)."""
    from meetings.models import Sitting
    from tests import factories
    from tests.matters.conftest import open_sitting

    members = world["members"]
    sitting = world["plenary1"]
    other = factories.make_agenda_item(sitting, title="報告第1号")
    open_sitting(sitting, [members[3], members[4]], world["clerk_user"])
    floor.floor_request(sitting=sitting, user=members[4].user, agenda_item=other)
    call = _fixed(world, [members[3], members[4]])
    questions.publish(actor=world["clerk_user"], call=call, sitting=Sitting.objects.get(pk=sitting.pk))
    assert FloorTurn.objects.filter(sitting=sitting, person=members[4]).count() == 1
    assert AuditEntry.objects.get(action="floor.schedule").data["busy"] == [members[4].pk]


@pytest.mark.django_db
def test_matters_questions_closed_sitting_queues_nobody(world):
    from meetings.models import Sitting
    from tests import factories

    members = world["members"]
    call = _fixed(world, [members[3], members[4]])
    item = factories.make_agenda_item(world["plenary1"], title="一般質問", kind="general_questions")
    Sitting.objects.filter(pk=world["plenary1"].pk).update(status=Sitting.Status.CLOSED)
    closed = Sitting.objects.get(pk=world["plenary1"].pk)
    with pytest.raises(Refused):
        questions.publish(actor=world["clerk_user"], call=call, sitting=closed)
    report = floor.floor_schedule(
        sitting=closed, agenda_item=item, people=[members[3], members[4]], by=world["clerk_user"]
    )
    assert report["created"] == [] and not FloorTurn.objects.exists()
    assert AuditEntry.objects.get(action="floor.schedule").data["closed"] is True


@pytest.mark.django_db
def test_matters_questions_order_changes_after_fixing_are_checked(world):
    members = world["members"]
    call = _fixed(world, [members[3], members[4]])
    first = call.questions.get(member=members[3])
    with pytest.raises(Refused, match="already at that end"):
        questions.order_move(actor=world["clerk_user"], question=first, direction="up")
    clerk = Client()
    clerk.force_login(world["clerk_user"])
    url = f"/meetings/matters/manage/sessions/{world['session'].pk}/questions/"
    response = clerk.post(url, {"action": "down", "question": first.pk})
    assert response.status_code == 302
    assert [q.member for q in call.questions.order_by("order")] == [members[4], members[3]]
    member = Client()
    member.force_login(members[3].user)
    assert member.post(url, {"action": "strike", "question": first.pk}).status_code in (302, 403)
    assert call.questions.count() == 2


@pytest.fixture
def fresh_hub():
    from channels.layers import channel_layers

    from meetings.live import fanout

    fanout.reset_hub()
    channel_layers.backends.clear()
    yield
    fanout.reset_hub()
    channel_layers.backends.clear()
    from asgiref.sync import SyncToAsync
    from django.db import connections

    SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=10)


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_matters_questions_clerks_list_hears_new_notices_live(world, fresh_hub):
    """A notice arriving reaches the clerks' stream of the list's sitting after commit, and the
    clerk's page follows that stream (no reload)."""
    from tests.live.conftest import connect, receive_until

    call = await sync_to_async(_call)(world)
    sitting = await sync_to_async(questions.live_sitting)(call)
    assert sitting is not None
    clerk = await connect(f"/ws/sittings/{sitting.pk}/", world["clerk_user"])
    member = world["members"][4]
    await sync_to_async(questions.question_submit)(user=member.user, call=call, topics=[TOPIC])
    event = await receive_until(clerk, "questions.changed", timeout=5)
    assert event["stream"] == "clerks"
    assert event["payload"] == {"questions_call": call.pk, "questions_count": 1}
    # A member's tablet on the same sitting does not get the clerks' notice.
    tablet = await connect(f"/ws/sittings/{sitting.pk}/", world["members"][5].user)
    await sync_to_async(questions.question_submit)(user=world["members"][6].user, call=call, topics=[TOPIC])
    event = await receive_until(clerk, "questions.changed", timeout=5)
    assert event["payload"]["questions_count"] == 2
    assert await tablet.receive_nothing(timeout=0.5)
    await clerk.disconnect()
    await tablet.disconnect()

    def page() -> str:
        client = Client()
        client.force_login(world["clerk_user"])
        return client.get(
            f"/meetings/matters/manage/sessions/{world['session'].pk}/questions/"
        ).content.decode()

    html = await sync_to_async(page)()
    assert f'data-live-sitting="{sitting.pk}"' in html and "js/matters/questions_live.js" in html


@pytest.mark.django_db
def test_matters_questions_waiting_time_counts_from_the_real_opening_or_the_queueing(world):
    """The chair's "waiting" for a questioner queued days ahead by the published list starts when
    the sitting really opens (here 25 minutes late), not at its scheduled start; a turn queued
    after the opening waits from its queueing; reordering keeps a waiting turn's time."""
    import time_machine

    from meetings.attendance.models import Attendance
    from meetings.live.services import sitting_open
    from meetings.voting.selectors import floor_part
    from meetings.voting.services import roll
    from tests import factories

    members = world["members"]
    people = [members[3], members[4], members[5]]
    sitting = world["plenary1"]
    zone = timezone.get_current_timezone()
    scheduled = datetime.datetime.combine(sitting.date, sitting.start_time, tzinfo=zone)
    other = factories.make_agenda_item(sitting, title="報告第1号")

    def queue():
        fresh = type(sitting).objects.select_related("body").get(pk=sitting.pk)
        return {t["person"]["id"]: t for t in floor_part(sitting=fresh, audience="members")["queue"]}

    with time_machine.travel(scheduled - datetime.timedelta(days=2), tick=False):
        call = _fixed(world, people)
        questions.publish(actor=world["clerk_user"], call=call, sitting=sitting)
    with time_machine.travel(scheduled + datetime.timedelta(minutes=5), tick=False):
        # Scheduled start passed, sitting not opened yet: nobody is waiting yet.
        assert [t["waiting_since"] for t in queue().values()] == [None, None, None]
        assert all(t["waiting_s"] is None for t in queue().values())
    opened = scheduled + datetime.timedelta(minutes=25)
    with time_machine.travel(opened, tick=False):
        for person in [*members[:8]]:
            roll.attendance_mark(
                sitting=sitting, person=person, status=Attendance.Status.PRESENT_ROOM, by=world["clerk_user"]
            )
        sitting_open(sitting=type(sitting).objects.get(pk=sitting.pk), actor=world["clerk_user"])
    with time_machine.travel(opened + datetime.timedelta(minutes=15), tick=False):
        sitting.refresh_from_db()
        floor.floor_request(sitting=sitting, user=members[7].user, agenda_item=other)
    with time_machine.travel(opened + datetime.timedelta(minutes=40), tick=False):
        turns = queue()
        for person in people:
            assert turns[person.pk]["waiting_since"] == opened.isoformat()
            assert turns[person.pk]["waiting_s"] == 40 * 60  # not 65 minutes from the scheduled start
        assert turns[members[7].pk]["waiting_s"] == 25 * 60
        # The order changes with the chair's leave and the list is published again: the order
        # of the queue follows, the time already waited stays.
        questions.order_move(
            actor=world["clerk_user"], question=call.questions.get(member=people[2]), direction="up"
        )
        questions.publish(actor=world["clerk_user"], call=call, sitting=sitting)
        turns = queue()
        assert [pid for pid in turns if pid != members[7].pk] == [people[0].pk, people[2].pk, people[1].pk]
        assert all(turns[p.pk]["waiting_s"] == 40 * 60 for p in people)
