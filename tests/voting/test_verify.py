"""verify_record: the chain verifies and every vote recounts; tampering is found."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from meetings.voting.models import Ballot, Poll
from meetings.voting.services import ballots, motions, polls
from tests.voting.conftest import mark_all_present

pytestmark = pytest.mark.django_db


def _votes(committee):
    people = committee["people"]
    mark_all_present(committee["sitting"], people)
    motion = motions.motion_create(
        agenda_item=committee["item"], title="議案第45号", by=committee["chair_user"]
    )
    roll = polls.poll_open(motion=motion, method="roll_call", by=committee["chair_user"])
    for p, c in zip(people[1:], ["yes", "yes", "no", "yes"], strict=True):
        ballots.vote_cast(poll_id=roll.pk, user=p.user, choice=c, client_token="t")
    polls.poll_close(poll=roll, by=committee["chair_user"])
    other = motions.motion_create(
        agenda_item=committee["item"], title="秘密会", by=committee["chair_user"], preset="closed_session"
    )
    secret = polls.poll_open(motion=other, method="secret", by=committee["chair_user"])
    for p in people:
        ballots.vote_cast(poll_id=secret.pk, user=p.user, choice="yes", client_token="t")
    polls.poll_close(poll=secret, by=committee["chair_user"])
    return roll, secret


def test_verify_record_passes_on_an_honest_record(committee):
    _votes(committee)
    out = StringIO()
    call_command("verify_record", stdout=out)
    text = out.getvalue()
    assert "intact" in text and "2 polls recounted, 0 problems" in text


def test_verify_record_finds_a_changed_ballot(committee):
    roll, _secret = _votes(committee)
    Ballot.objects.filter(poll=roll, choice="no").update(choice="yes")
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_record", stdout=out)
    assert "ballots give 4 yes / 0 no, the poll says 3 / 1" in out.getvalue()


def test_verify_record_finds_changed_totals(committee):
    _roll, secret = _votes(committee)
    Poll.objects.filter(pk=secret.pk).update(yes_count=4, no_count=1)
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_record", stdout=out)
    assert "differ from those recorded in the audit chain" in out.getvalue()
