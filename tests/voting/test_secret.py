"""A secret ballot (無記名投票) cannot be linked to its voter: not from any table, audit entry,
log line or live message. Two ballots with the same voters and totals but swapped choices leave
records that are identical once ids, times and random receipts are set aside."""

from __future__ import annotations

import json
import logging
import re

import pytest
from django.apps import apps

from council.models import AuditEntry
from meetings.voting.models import Ballot, Poll, SecretParticipation
from meetings.voting.services import ballots, motions, polls
from tests.voting.conftest import mark_all_present

pytestmark = pytest.mark.django_db(transaction=True)

VOLATILE = re.compile(r'"(seq|id|poll|receipt|opened_at|at|sitting|target_id|motion)":\s*("[^"]*"|\d+|null)')


def normalize(value) -> str:
    return VOLATILE.sub(r'"\1":_', json.dumps(value, ensure_ascii=False, sort_keys=True, default=str))


def snapshot(committee, choices, frames, caplog):
    voters = committee["people"][1:5]
    motion = motions.motion_create(
        agenda_item=committee["item"], title="委員長の互選", by=committee["chair_user"]
    )
    first_audit = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first()
    frames.clear()
    caplog.clear()
    poll = polls.poll_open(motion=motion, method="secret", by=committee["chair_user"])
    for person, choice in zip(voters, choices, strict=True):
        ballots.vote_cast(poll_id=poll.pk, user=person.user, choice=choice, client_token=f"tok-{person.pk}")
    polls.poll_close(poll=poll, by=committee["chair_user"])
    polls.poll_declare(poll=poll, by=committee["chair_user"])
    poll.refresh_from_db()
    row = {
        f.name: getattr(poll, f.attname)
        for f in Poll._meta.concrete_fields
        if f.name
        not in ("id", "motion", "opened_at", "closed_at", "declared_at", "seal_public_key", "seal_key_name")
    }
    participations = sorted(
        SecretParticipation.objects.filter(poll=poll).values_list("member_id", "client_token")
    )
    audit = [
        (e.action, e.actor_id, e.target_type, e.data)
        for e in AuditEntry.objects.filter(id__gt=first_audit).order_by("id")
    ]
    return {
        "poll": normalize(row),
        "participations": participations,
        "audit": normalize(audit),
        "frames": [normalize(json.loads(t)) for t in frames],
        "logs": [r.getMessage() for r in caplog.records],
    }


def test_swapped_choices_leave_identical_records(committee, sent_frames, caplog):
    caplog.set_level(logging.DEBUG)
    frames = sent_frames
    mark_all_present(committee["sitting"], committee["people"])
    a = snapshot(committee, ["yes", "no", "yes", "yes"], frames, caplog)
    b = snapshot(committee, ["no", "yes", "yes", "yes"], frames, caplog)
    assert a["frames"] and a["audit"]
    assert a == b
    assert Ballot.objects.filter(poll__method="secret").count() == 0


def test_no_table_holds_a_choice_beside_a_secret_voter():
    """The only model with a choice beside a member is the named Ballot, never used for secret
    ballots; the participation row has nothing but the poll, the member and the retry token."""
    participation = {f.name for f in SecretParticipation._meta.concrete_fields}
    assert participation == {"id", "poll", "member", "client_token", "receipt"}
    with_choice = [m for m in apps.get_models() if any(f.name in ("choice", "vote") for f in m._meta.fields)]
    # Named ballots (roll call) and the names the clerk records for a standing or show-of-hands
    # count (matters); the service behind the latter refuses every other method.
    from meetings.matters.models import CountedName

    assert set(with_choice) == {Ballot, CountedName}
    assert not any(
        f.name.endswith("_at")
        for f in Poll._meta.fields
        if f.name not in ("opened_at", "closed_at", "declared_at")
    )
