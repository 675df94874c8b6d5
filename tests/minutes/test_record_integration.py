"""The minutes read the record as the voting services write it: a roll-call ballot taken through
meetings.voting.services appears in the draft with the same names, choices and counts."""

from __future__ import annotations

import pytest

from meetings.attendance.models import Attendance
from meetings.minutes import services as minutes_services
from meetings.minutes.models import Block
from meetings.models import Sitting
from meetings.voting.models import Ballot, Poll
from meetings.voting.services import ballots, floor, motions, polls, roll
from tests.factories import make_agenda_item

pytestmark = pytest.mark.django_db


def test_a_roll_call_taken_through_the_voting_services_is_in_the_draft(org):
    sitting, members, clerk = org["sitting"], org["members"], org["clerk"].user
    chair = members[0].user
    item = make_agenda_item(
        sitting, bill_number="議案第45号", title="磐梯町税条例の一部を改正する条例について"
    )
    Sitting.objects.filter(pk=sitting.pk).update(status=Sitting.Status.OPEN)
    sitting.refresh_from_db()
    roll.roll_prepare(sitting=sitting, by=clerk)
    for person in members[:9]:
        roll.attendance_mark(sitting=sitting, person=person, status=Attendance.Status.PRESENT_ROOM, by=clerk)
    floor.floor_give(sitting=sitting, person=members[2], by=chair, agenda_item=item)
    floor.floor_end(sitting=sitting, by=chair)
    motion = motions.motion_create(agenda_item=item, title="原案可決", bill_number="議案第45号", by=chair)
    poll = polls.poll_open(motion=motion, method=Poll.Method.ROLL_CALL, by=chair)
    choices = {}
    for n, person in enumerate(members[1:9]):
        choice = "no" if n in (2, 5) else "yes"
        ballots.vote_cast(poll_id=poll.pk, user=person.user, choice=choice, client_token=f"tok-{n}")
        choices[person.pk] = choice
    poll = polls.poll_close(poll=poll, by=chair)
    poll = polls.poll_declare(poll=poll, by=chair)
    Sitting.objects.filter(pk=sitting.pk).update(status=Sitting.Status.CLOSED)

    minutes = minutes_services.draft_generate(sitting=sitting, actor=clerk)
    vote = minutes.blocks.get(kind=Block.Kind.VOTE)
    assert (vote.data["yes"], vote.data["no"]) == (poll.yes_count, poll.no_count) == (6, 2)
    assert vote.data["result"] == "adopted" and vote.data["method"] == "roll_call"
    recorded = {b.member_id: b.choice for b in Ballot.objects.filter(poll=poll)}
    assert {v["person_id"]: v["choice"] for v in vote.data["ballots"]} == recorded == choices
    speech = minutes.blocks.get(kind=Block.Kind.SPEECH, source__startswith="turn:")
    assert speech.heading == f"3番({members[2].family_name}{members[2].given_name}君)"
    assert [m["seat_number"] for m in minutes.header["present"]] == list(range(1, 10))
    assert [m["seat_number"] for m in minutes.header["absent"]] == [10]
