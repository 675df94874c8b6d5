"""The secret ballot (無記名投票) against the attacks of a review done with only the product and
its database (``pytest -k secret_ballot``):

1. an administrator watching the poll (admin page, console events) while it is open;
2. PostgreSQL's dead row versions read with ``pageinspect`` and joined on ``xmin`` with the
   voters' participation rows;
3. SQLite's raw database and WAL pages;
4. a clerk casting a secret ballot for a member.

After a poll of several voters with different choices, none of them recovers a choice.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.db import connection

from meetings.attendance.models import Attendance
from meetings.voting import sealing
from meetings.voting.errors import VotingError
from meetings.voting.models import Poll, SealedBallot, SecretParticipation
from meetings.voting.services import ballots, motions, polls
from tests.voting.conftest import mark_all_present

CHOICES = ["yes", "no", "no", "yes", "no"]


def _run_poll(committee, *, close=True, observe=None):
    mark_all_present(committee["sitting"], committee["people"])
    motion = motions.motion_create(
        agenda_item=committee["item"], title="委員長の互選", by=committee["chair_user"]
    )
    poll = polls.poll_open(motion=motion, method="secret", by=committee["chair_user"])
    voters = committee["people"]
    assert len(poll.entitled) == 4  # the chair does not vote under the ordinary rule
    entitled = [p for p in voters if p.pk in poll.entitled]
    for person, choice in zip(entitled, CHOICES, strict=False):
        ballots.vote_cast(poll_id=poll.pk, user=person.user, choice=choice, client_token=f"t{person.pk}")
        if observe:
            observe(poll)
    sealed = [bytes(s) for s in SealedBallot.objects.filter(poll=poll).values_list("sealed", flat=True)]
    if close:
        poll = polls.poll_close(poll=poll, by=committee["chair_user"])
    return poll, entitled, sealed


@pytest.mark.django_db(transaction=True)
def test_secret_ballot_no_running_count_in_rows_admin_or_events(committee, client, admin_user, sent_frames):
    frames = sent_frames
    client.force_login(admin_user)
    seen = []

    def observe(poll):
        row = Poll.objects.get(pk=poll.pk)
        seen.append((row.yes_count, row.no_count))
        response = client.get(f"/admin/voting/poll/{poll.pk}/change/")
        assert response.status_code == 200
        page = response.content.decode()
        assert "委員長の互選" in page
        assert "yes_count" not in page and "no_count" not in page
        assert "Yes count" not in page and "No count" not in page

    poll, entitled, sealed = _run_poll(committee, close=False, observe=observe)
    assert seen == [(0, 0)] * 4  # an observer reloading after each ballot learns nothing
    assert len(sealed) == 4 and len(set(sealed)) == 4 and len({len(s) for s in sealed}) == 1
    for text in frames:
        frame = json.loads(text)
        body = json.dumps(frame, ensure_ascii=False)
        assert '"yes"' not in body and '"no"' not in body and "yes_count" not in body, body
    polls.poll_close(poll=poll, by=committee["chair_user"])
    poll.refresh_from_db()
    assert (poll.yes_count, poll.no_count) == (2, 2)
    assert not SealedBallot.objects.filter(poll=poll).exists()
    assert sealing.key_store().get(poll.seal_key_name) is None  # destroyed after commit


@pytest.mark.django_db(transaction=True)
def test_secret_ballot_postgres_dead_row_versions_link_nothing(committee):
    if connection.vendor != "postgresql":
        pytest.skip("DATABASE_URL is not set to PostgreSQL")
    with connection.cursor() as cur:
        cur.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
    poll, entitled, sealed = _run_poll(committee)
    assert (poll.yes_count, poll.no_count) == (2, 2)

    def versions(table: str) -> list[tuple[int, list]]:
        with connection.cursor() as cur:
            cur.execute("SELECT pg_relation_size(%s::regclass) / current_setting('block_size')::int", [table])
            pages = cur.fetchone()[0]
            rows = []
            for page in range(pages):
                cur.execute(
                    "SELECT t_xmin::text::bigint, t_attrs FROM heap_page_item_attrs("
                    "get_raw_page(%s, %s), %s::regclass) WHERE t_attrs IS NOT NULL",
                    [table, page, table],
                )
                rows += [
                    (xmin, [bytes(a) if a is not None else None for a in attrs])
                    for xmin, attrs in cur.fetchall()
                ]
            return rows

    def attnum(table: str, column: str) -> int:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT attnum FROM pg_attribute WHERE attrelid = %s::regclass AND attname = %s",
                [table, column],
            )
            return cur.fetchone()[0]

    yes_i, no_i = attnum("voting_poll", "yes_count") - 1, attnum("voting_poll", "no_count") - 1
    id_i = attnum("voting_poll", "id") - 1
    member_i = attnum("voting_secretparticipation", "member_id") - 1
    participation_poll_i = attnum("voting_secretparticipation", "poll_id") - 1
    poll_versions = versions("voting_poll")
    # This poll's participations (the heap may still hold dead rows of earlier tests' polls).
    participation_xmins = {
        xmin: int.from_bytes(attrs[member_i], "little")
        for xmin, attrs in versions("voting_secretparticipation")
        if int.from_bytes(attrs[participation_poll_i], "little") == poll.pk
    }
    assert len(participation_xmins) == 4
    # The review's attack: each voter's transaction also wrote a version of the poll row; the
    # counters in it, compared with the version before, told the choice. Now they say nothing.
    recovered = {}
    for xmin, member in participation_xmins.items():
        mine = [a for x, a in poll_versions if x == xmin and int.from_bytes(a[id_i], "little") == poll.pk]
        assert mine, "the attack's join still finds the voter's poll-row version"
        for attrs in mine:
            counts = (int.from_bytes(attrs[yes_i], "little"), int.from_bytes(attrs[no_i], "little"))
            assert counts == (0, 0), f"a running count {counts} sits beside member {member}'s participation"
            recovered[member] = None
    # The sealed choices written in the same transactions are ciphertext under a destroyed key.
    sealed_i = attnum("voting_sealedballot", "sealed") - 1
    dead_sealed = [
        attrs[sealed_i] for x, attrs in versions("voting_sealedballot") if x in participation_xmins
    ]
    assert dead_sealed, "the sealed rows' dead versions are there to attack"
    assert sealing.key_store().get(poll.seal_key_name) is None
    assert all(b"yes" not in s and b"no\x00" not in s for s in dead_sealed)
    assert all(choice is None for choice in recovered.values())


@pytest.mark.django_db(transaction=True)
def test_secret_ballot_sqlite_raw_pages_hold_no_choice(committee):
    if connection.vendor != "sqlite":
        pytest.skip("the embedded default only")
    poll, entitled, sealed = _run_poll(committee)
    assert (poll.yes_count, poll.no_count) == (2, 2)
    path = Path(connection.settings_dict["NAME"])
    raw = path.read_bytes() + (Path(f"{path}-wal").read_bytes() if Path(f"{path}-wal").exists() else b"")
    # The sealed rows were deleted, but their bytes may linger in free pages and the WAL: they
    # are ciphertext, and the key that opens them no longer exists anywhere.
    assert any(s in raw for s in sealed), "the attacker does find the sealed bytes"
    assert sealing.key_store().get(poll.seal_key_name) is None
    for choice in ("yes", "no"):
        assert sealing._pad(choice) not in raw  # no plaintext choice anywhere on disk


@pytest.mark.django_db
def test_secret_ballot_clerk_cannot_cast_for_a_member_but_may_in_roll_call(committee):
    mark_all_present(committee["sitting"], committee["people"])
    motion = motions.motion_create(agenda_item=committee["item"], title="選挙", by=committee["chair_user"])
    poll = polls.poll_open(motion=motion, method="secret", by=committee["chair_user"])
    member = next(p for p in committee["people"] if p.pk in poll.entitled)
    with pytest.raises(VotingError, match="every member casts their own ballot") as exc:
        ballots.vote_cast(
            poll_id=poll.pk, user=committee["clerk_user"], choice="yes", client_token="c", member=member
        )
    assert exc.value.code == "secret_own_ballot"
    assert not SecretParticipation.objects.filter(poll=poll).exists()
    # the member's own ballot still counts
    ballots.vote_cast(poll_id=poll.pk, user=member.user, choice="yes", client_token="own")
    assert SecretParticipation.objects.filter(poll=poll, member=member).exists()
    polls.poll_close(poll=poll, by=committee["chair_user"])
    # In a roll-call ballot the clerk may record a room member's ballot (a tablet that fails).
    motion2 = motions.motion_create(agenda_item=committee["item"], title="記名", by=committee["chair_user"])
    poll2 = polls.poll_open(motion=motion2, method="roll_call", by=committee["chair_user"])
    receipt = ballots.vote_cast(
        poll_id=poll2.pk, user=committee["clerk_user"], choice="no", client_token="k", member=member
    )
    assert receipt.choice == "no"
    assert poll2.ballots.get(member=member).recorded_by == committee["clerk_user"]


@pytest.mark.django_db
def test_secret_ballot_with_a_lost_key_is_voided_and_put_again(committee, django_capture_on_commit_callbacks):
    poll, entitled, sealed = _run_poll(committee, close=False)
    sealing.key_store().clear()  # every process restarted: the key is gone
    with django_capture_on_commit_callbacks(execute=True):
        poll = polls.poll_close(poll=poll, by=committee["chair_user"])
    assert poll.outcome == Poll.Outcome.VOIDED and (poll.yes_count, poll.no_count) == (0, 0)
    assert not SealedBallot.objects.filter(poll=poll).exists()
    # The chair puts the question again.
    again = polls.poll_open(motion=poll.motion, method="secret", by=committee["chair_user"])
    assert again.state == Poll.State.OPEN
    assert Attendance.objects.filter(sitting=committee["sitting"]).exists()
