"""A double vote is impossible and no acknowledged ballot is lost, with real concurrent
transactions (threads with their own database connections) on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from council.models import AuditEntry
from meetings.attendance.models import Attendance
from meetings.voting.errors import VotingError
from meetings.voting.models import Ballot, Poll
from meetings.voting.services import ballots, motions, polls
from tests import factories
from tests.voting.conftest import open_sitting

pytestmark = pytest.mark.django_db(transaction=True)


def run_threads(target, args_list, workers: int | None = None):
    """Run ``target(*args)`` for every args, on ``workers`` threads (each with its own database
    connection) released together. PostgreSQL's connection limit is shared on this machine, so
    the pool is smaller than the number of jobs there; the jobs still race each other."""
    workers = min(workers or len(args_list), len(args_list))
    barrier = threading.Barrier(workers)
    results: list = [None] * len(args_list)
    lock = threading.Lock()
    next_job = iter(range(len(args_list)))

    def worker():
        try:
            barrier.wait()
            while True:
                with lock:
                    i = next(next_job, None)
                if i is None:
                    return
                try:
                    results[i] = ("ok", target(*args_list[i]))
                except VotingError as exc:
                    results[i] = ("refused", exc.code)
                except Exception as exc:  # surfaced by the assertions below
                    results[i] = ("crash", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


POOL = 100 if connection.vendor == "sqlite" else 24


def big_plenary(n_members: int):
    org = factories.make_small_council(councillors=n_members)
    sitting = open_sitting(org["sitting"])
    item = factories.make_agenda_item(sitting)
    Attendance.objects.bulk_create(
        [Attendance(sitting=sitting, person=p, status=Attendance.Status.PRESENT_ROOM) for p in org["members"]]
    )
    chair = org["members"][0]
    motion = motions.motion_create(agenda_item=item, title="議案第1号", by=chair.user)
    poll = polls.poll_open(motion=motion, method="roll_call", by=chair.user)
    return org, poll


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.slow  # fifty threads racing on the database
def test_fifty_parallel_votes_by_one_member_give_one_ballot():
    org, poll = big_plenary(6)
    member = org["members"][3]

    def cast(token):
        return ballots.vote_cast(poll_id=poll.pk, user=member.user, choice="yes", client_token=token)

    results = run_threads(cast, [(f"token-{i}",) for i in range(50)], workers=POOL)
    assert [r for r in results if r[0] == "crash"] == []
    oks = [r for r in results if r[0] == "ok"]
    assert len(oks) == 1
    assert {r[1] for r in results if r[0] == "refused"} == {"already_voted"}
    assert Ballot.objects.filter(poll=poll).count() == 1
    poll.refresh_from_db()
    assert poll.voted_count == poll.yes_count == 1
    assert AuditEntry.objects.filter(action="vote.refused").count() == 49

    # The same client token, fifty times at once: one ballot, fifty identical receipts.
    other = org["members"][4]
    same = run_threads(
        lambda: ballots.vote_cast(poll_id=poll.pk, user=other.user, choice="no", client_token="same"),
        [()] * 50,
        workers=POOL,
    )
    assert {r[0] for r in same} == {"ok"}
    assert len({r[1].receipt for r in same}) == 1
    assert Ballot.objects.filter(poll=poll, member=other).count() == 1


@pytest.mark.slow  # a hundred threads racing on the database
def test_hundred_members_voting_while_the_chair_closes_keep_exactly_the_acknowledged_ballots():
    org, poll = big_plenary(101)
    voters = [p for p in org["members"] if p.pk in poll.entitled]
    assert len(voters) == 100
    chair = org["members"][0]
    started = threading.Semaphore(0)

    def cast(person):
        started.release()
        return ballots.vote_cast(
            poll_id=poll.pk,
            user=person.user,
            choice="yes" if person.pk % 2 else "no",
            client_token=f"t{person.pk}",
        )

    def close():
        for _ in range(10):  # let a few ballots through first, then close amid the rest
            started.acquire(timeout=10)
        return polls.poll_close(poll=Poll.objects.get(pk=poll.pk), by=chair.user)

    jobs = [(cast, (p,)) for p in voters]
    jobs.insert(len(jobs) // 3, (close, ()))
    results = run_threads(lambda f, a: f(*a), jobs, workers=POOL)
    assert [r for r in results if r[0] == "crash"] == []
    closed = [r for (f, _a), r in zip(jobs, results, strict=True) if f is close]
    assert closed[0][0] == "ok"
    acked = {r[1].member_id for (f, _a), r in zip(jobs, results, strict=True) if f is cast and r[0] == "ok"}
    refused = [r[1] for (f, _a), r in zip(jobs, results, strict=True) if f is cast and r[0] == "refused"]
    assert set(refused) <= {"poll_closed"}
    assert len(acked) + len(refused) == 100
    poll.refresh_from_db()
    stored = set(Ballot.objects.filter(poll=poll).values_list("member_id", flat=True))
    assert stored == acked
    assert poll.voted_count == len(acked) == poll.yes_count + poll.no_count
    assert poll.state == Poll.State.CLOSED
