"""kill -9 of one of two daphne processes in the middle of a roll-call vote: members on the dead
process reconnect to the other and cast again with the same token; every ballot that was
acknowledged is in the result, none counts twice, and the recount agrees.

Page turns under kill -9 are covered by tests/live/test_servers.py (also selected by -k kill)."""

from __future__ import annotations

import asyncio
import time

import pytest
from asgiref.sync import sync_to_async

from bench.client import Follower
from meetings.voting.models import Ballot, Poll
from meetings.voting.verify import recount
from tests import factories
from tests.security.voting_scenario import open_roll_call, open_with_everyone_present
from tests.security.ws import session_key_for
from tests.servers import start_daphne

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


class Voter:
    """One member's tablet: follows the sitting, casts one ballot, re-sends it after a reconnect."""

    def __init__(self, person, urls: list[str], cookie: str, prefer: int, choice: str):
        self.person, self.choice = person, choice
        self.token = f"tablet-{person.pk}"
        self.receipt: dict | None = None
        self.errors: list[dict] = []
        self.reconnects = 0
        self.follower = Follower(
            urls, headers={"Cookie": f"sessionid={cookie}"}, on_event=self.on_event, on_note=self.on_note
        )
        self.follower.url_index = prefer
        self.task = asyncio.create_task(self.follower.run())

    def on_event(self, message: dict) -> None:
        if message.get("re") == self.token:
            if message.get("type") == "vote.receipt":
                self.receipt = message
            else:
                self.errors.append(message)

    def on_note(self, kind: str, data: dict) -> None:
        if kind == "reconnect":
            self.reconnects += 1

    async def cast(self, poll_id: int, *, patience: float = 20.0) -> None:
        deadline = time.monotonic() + patience
        while self.receipt is None and time.monotonic() < deadline:
            try:
                await asyncio.wait_for(self.follower.connected.wait(), 5)
                await self.follower.ws.send(
                    f'{{"type":"vote.cast","poll_id":{poll_id},"choice":"{self.choice}","token":"{self.token}",'
                    f'"id":"{self.token}"}}'
                )
            except Exception:  # noqa: BLE001 - the socket died under us: wait for the reconnect
                await asyncio.sleep(0.2)
                continue
            for _ in range(40):
                if self.receipt is not None or self.errors:
                    break
                await asyncio.sleep(0.05)
            if self.errors:
                raise AssertionError(f"{self.person}: refused {self.errors}")

    async def close(self):
        await self.follower.close()
        self.task.cancel()


def _scene():
    org = factories.make_small_council()
    sitting = org["sitting"]
    members = org["members"]
    open_with_everyone_present(sitting, members, org["clerk"].user)
    item = factories.make_agenda_item(sitting, title="議案第7号")
    poll = open_roll_call(item=item, chair_user=members[0].user)
    voters = [(m, session_key_for(m.user)) for m in members[1:]]
    return org, sitting, poll, voters


async def test_kill_9_during_a_vote_keeps_every_acknowledged_ballot():
    org, sitting, poll, voters = await sync_to_async(_scene)()
    servers = [await sync_to_async(start_daphne)() for _ in range(2)]
    tablets: list[Voter] = []
    try:
        urls = [f"{s.ws_url}/ws/sittings/{sitting.pk}/" for s in servers]
        for i, (person, cookie) in enumerate(voters):
            tablets.append(Voter(person, urls, cookie, prefer=i % 2, choice="no" if i % 4 == 0 else "yes"))
        await asyncio.wait_for(asyncio.gather(*(t.follower.connected.wait() for t in tablets)), 20)
        on_killed = [t for t in tablets if t.follower.url_index % 2 == 0]
        assert on_killed, "some tablets follow the process that will be killed"
        first, rest = tablets[:3], tablets[3:]
        await asyncio.gather(*(t.cast(poll.pk) for t in first))
        # kill -9 while the rest are casting.
        casting = [asyncio.create_task(t.cast(poll.pk)) for t in rest]
        await asyncio.sleep(0.02)
        servers[0].kill()
        await asyncio.wait_for(asyncio.gather(*casting), 40)
        acknowledged = {t.person.pk: t.receipt for t in tablets if t.receipt}
        assert len(acknowledged) == len(tablets), (
            "every tablet got a receipt, after reconnecting if it had to"
        )
        assert all(t.reconnects for t in on_killed), "the killed process's tablets moved to the other one"
    finally:
        for t in tablets:
            await t.close()
        for s in servers:
            s.stop()

    def check():
        ballots = dict(Ballot.objects.filter(poll_id=poll.pk).values_list("member_id", "choice"))
        for person_id, receipt in acknowledged.items():
            assert ballots.get(person_id) == receipt["choice"], f"acknowledged ballot of {person_id} missing"
        assert len(ballots) == len(acknowledged)  # and nothing counted twice
        from meetings.voting.services import polls

        closed = polls.poll_close(poll=Poll.objects.get(pk=poll.pk), by=org["members"][0].user)
        assert closed.yes_count + closed.no_count == len(acknowledged)
        report = recount(closed)
        assert report.ok, report.problems

    await sync_to_async(check)()
