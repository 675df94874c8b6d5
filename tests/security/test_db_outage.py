"""The database drops its connections for a moment (PostgreSQL restarted, a failover): the member
gets an error saying nothing was changed, and the vote, sent again with the same token, counts once."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers
from django.db import connection

from meetings.live import fanout
from meetings.voting.models import Ballot
from tests import factories
from tests.security.voting_scenario import open_roll_call, open_with_everyone_present
from tests.security.ws import open_socket, receive_until, send

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _scene():
    org = factories.make_small_council()
    sitting = org["sitting"]
    open_with_everyone_present(sitting, org["members"], org["clerk"].user)
    item = factories.make_agenda_item(sitting)
    poll = open_roll_call(item=item, chair_user=org["members"][0].user)
    return org, sitting, poll


def _admin(sql: str) -> None:
    """Run SQL on the server's maintenance database (outside the test database being cut off)."""
    import psycopg

    db = connection.settings_dict
    url = f"postgres://{db.get('USER') or 'postgres'}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/postgres"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture
def main_pid(transactional_db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _database_goes_away(keep_pid: int) -> None:
    """What a database restart looks like to the server: its connections dropped, new ones refused."""
    name = connection.settings_dict["NAME"]
    _admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    _admin(
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> {keep_pid}"
    )


def _database_comes_back() -> None:
    _admin(f'ALTER DATABASE "{connection.settings_dict["NAME"]}" ALLOW_CONNECTIONS true')


async def test_vote_during_a_database_blip_errors_then_counts_once_on_retry(main_pid):
    fanout.reset_hub()
    channel_layers.backends.clear()
    org, sitting, poll = await sync_to_async(_scene)()
    member = org["members"][4]
    comm = await open_socket(f"/ws/sittings/{sitting.pk}/", member.user)
    assert comm.accepted
    await send(comm, {"type": "ping", "id": "warm"})  # the consumer's thread has its connection now
    await receive_until(comm, "pong")
    import asyncio

    await asyncio.to_thread(_database_goes_away, main_pid)
    ballot = {"type": "vote.cast", "poll_id": poll.pk, "choice": "yes", "token": "tablet-5", "id": "b1"}
    message = ""
    try:
        await send(comm, ballot)
        message = (await receive_until(comm, "error", timeout=10))["message"]
    except Exception as exc:  # noqa: BLE001 - the consumer died: under daphne the socket closes
        died = f"{type(exc).__name__}: {exc}"[:200]
    finally:
        await asyncio.to_thread(_database_comes_back)
    if not message:  # the tablet reconnects, as bench.client.Follower does
        from django.db import close_old_connections

        await sync_to_async(close_old_connections)()  # this test's worker thread shares the dead connection
        comm = await open_socket(f"/ws/sittings/{sitting.pk}/", member.user)
        assert comm.accepted
    await send(comm, {**ballot, "id": "b2"})  # the tablet sends the same ballot again
    first = await receive_until(comm, "vote.receipt", timeout=10)
    assert first["choice"] == "yes"
    await send(comm, {**ballot, "id": "again"})  # the tablet retries once more after reconnecting
    again = await receive_until(comm, "vote.receipt", timeout=10)
    assert again["receipt"] == first["receipt"]
    await comm.disconnect()
    fanout.reset_hub()
    count = await sync_to_async(Ballot.objects.filter(poll_id=poll.pk, member=member).count)()
    assert count == 1  # the retried vote counts once
    assert message, f"no message during the outage; the socket died ({died})"
    assert "try again" in message.lower() or "もう一度" in message
