"""Sixty members cast their ballots at the same moment, over WebSockets, against a real daphne.

    python -m bench.voting                       # embedded default: a fresh SQLite file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python -m bench.voting
                                                 # PostgreSQL: a scratch database is created and dropped

Sets up a council with 61 members (the chair does not vote under §116), opens a roll-call vote,
connects the 60 voters and the clerk's console, and has every voter send ``vote.cast`` at once.
For each ballot it measures the time from send to the voter's receipt (``ack``) and to the first
tally update on the console that counts it (``tally``). Several rounds (a new vote each) give the
percentiles. Afterwards every acknowledged ballot is checked to be in the database.

Last line: one JSON object with ``voters``, ``acked``, ``p50_ack_ms``, ``p99_ack_ms``,
``p50_tally_ms``, ``p99_tally_ms``, ``max_ack_ms``, ``rounds`` and ``database``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.fanout import free_port, start_daphne
from bench.support.stats import percentile

ROOT = Path(__file__).resolve().parent.parent


def setup_database(database_url: str, voters: int) -> dict:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "council.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import override_settings
    from django.utils import timezone

    from bench.support import factories
    from bench.support.scenario import session_key_for
    from meetings.attendance.models import Attendance
    from meetings.models import Sitting

    call_command("migrate", verbosity=0, interactive=False)
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        org = factories.make_small_council(councillors=voters + 1)
    sitting = org["sitting"]
    Sitting.objects.filter(pk=sitting.pk).update(status=Sitting.Status.OPEN, opened_at=timezone.now())
    item = factories.make_agenda_item(sitting)
    Attendance.objects.bulk_create(
        [
            Attendance(
                sitting=sitting, person=p, status=Attendance.Status.PRESENT_ROOM, arrived_at=timezone.now()
            )
            for p in org["members"]
        ]
    )
    return {
        "sitting": sitting.pk,
        "item": item.pk,
        "chair": session_key_for(org["members"][0].user),
        "voters": [session_key_for(m.user) for m in org["members"][1:]],
    }


async def run(url: str, data: dict, rounds: int, method: str = "roll_call") -> dict:
    from websockets.asyncio.client import connect

    origin = "http://" + url.split("//", 1)[1].split("/", 1)[0]

    async def open_socket(cookie: str):
        ws = await connect(
            url,
            additional_headers={"Cookie": f"sessionid={cookie}"},
            origin=origin,
            ping_interval=None,
            compression=None,
            proxy=None,
            max_size=2**22,
            open_timeout=60,
        )
        first = json.loads(await ws.recv())
        assert first["type"] == "state", first
        return ws

    chair = await open_socket(data["chair"])
    voters = [await open_socket(c) for c in data["voters"]]
    chair_replies: asyncio.Queue = asyncio.Queue()
    tallies: list[tuple[float, int, int]] = []  # (time, poll, voted)

    async def chair_reader():
        async for text in chair:
            now = time.perf_counter()
            message = json.loads(text)
            if message.get("type") == "voting.tally" and message.get("stream") == "clerks":
                tallies.append((now, message["payload"]["poll"], message["payload"]["voted"]))
            elif "re" in message:
                await chair_replies.put(message)

    reader = asyncio.create_task(chair_reader())

    async def chair_call(message: dict) -> dict:
        message["id"] = uuid.uuid4().hex[:12]
        await chair.send(json.dumps(message))
        while True:
            reply = await asyncio.wait_for(chair_replies.get(), 30)
            if reply.get("re") == message["id"]:
                if reply.get("type") == "error":
                    raise SystemExit(f"chair request refused: {reply}")
                return reply

    async def cast(ws, poll_id: int, i: int) -> tuple[float, dict]:
        message = {
            "type": "vote.cast",
            "poll_id": poll_id,
            "choice": "yes" if i % 3 else "no",
            "token": uuid.uuid4().hex,
            "id": f"v{i}",
        }
        t0 = time.perf_counter()
        await ws.send(json.dumps(message))
        while True:
            reply = json.loads(await asyncio.wait_for(ws.recv(), 60))
            if reply.get("re") == f"v{i}":
                return t0, time.perf_counter(), reply

    # One ballot at a time first: the cost of a single ballot with nothing queued before it.
    motion = await chair_call({"type": "motion.create", "agenda_item_id": data["item"], "title": "予備投票"})
    opened = await chair_call({"type": "vote.open", "motion_id": motion["motion"], "method": method})
    await asyncio.sleep(0.3)
    for ws in voters:
        while True:
            try:
                await asyncio.wait_for(ws.recv(), 0.05)
            except TimeoutError:
                break
    single_ms = []
    for i, ws in enumerate(voters[:10]):
        t0, t1, reply = await cast(ws, opened["poll"], i)
        single_ms.append((t1 - t0) * 1000)
    await chair_call({"type": "vote.close", "poll_id": opened["poll"]})
    polls: list[int] = [opened["poll"]]

    ack_ms: list[float] = []
    tally_ms: list[float] = []
    acked = refused = 0
    for r in range(rounds):
        motion = await chair_call(
            {"type": "motion.create", "agenda_item_id": data["item"], "title": f"議案第{r + 1}号"}
        )
        opened = await chair_call({"type": "vote.open", "motion_id": motion["motion"], "method": method})
        poll_id = opened["poll"]
        polls.append(poll_id)
        # Let the "vote opened" broadcast settle, then everyone votes at the same moment.
        await asyncio.sleep(0.3)
        for ws in voters:
            while True:
                try:
                    await asyncio.wait_for(ws.recv(), 0.05)
                except TimeoutError:
                    break
        results = await asyncio.gather(*(cast(ws, poll_id, i) for i, ws in enumerate(voters)))
        await asyncio.sleep(0.3)
        for t0, t1, reply in results:
            if reply.get("type") != "vote.receipt":
                refused += 1
                print(f"refused: {reply}", file=sys.stderr)
                continue
            acked += 1
            ack_ms.append((t1 - t0) * 1000)
            seen = next((t for t, p, voted in tallies if p == poll_id and voted >= reply["voted"]), None)
            if seen is not None:
                tally_ms.append((seen - t0) * 1000)
        await chair_call({"type": "vote.close", "poll_id": poll_id})
    reader.cancel()
    for ws in [chair, *voters]:
        await ws.close()
    return {
        "ack_ms": ack_ms,
        "tally_ms": tally_ms,
        "acked": acked,
        "refused": refused,
        "polls": polls,
        "single_ms": single_ms,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--voters", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--method",
        choices=["roll_call", "secret"],
        default="roll_call",
        help="roll_call (named ballots) or secret (sealed ballots, opened and counted at the close)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="default: a fresh SQLite file; a PostgreSQL URL gets a scratch database",
    )
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="bench-voting-"))
    scratch_db = None
    database_url = args.database_url
    if database_url.startswith("postgres"):
        import psycopg

        scratch_db = f"bench_voting_{os.getpid()}"
        base, _slash, _name = database_url.rpartition("/")
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{scratch_db}"')
        database_url = f"{base}/{scratch_db}"
    elif not database_url:
        database_url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    env = os.environ.copy()
    env.update(
        COUNCIL_VAR_DIR=str(tmp),
        DATABASE_URL=database_url,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        COUNCIL_DEMO="0",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        MEDIA_ROOT=str(tmp / "media"),
    )
    env.pop("REDIS_URL", None)
    os.environ.pop("REDIS_URL", None)
    os.environ["COUNCIL_VAR_DIR"] = str(tmp)
    os.environ["MEDIA_ROOT"] = str(tmp / "media")
    try:
        data = setup_database(database_url, args.voters)
        port = free_port()
        server = start_daphne(port, env)
        try:
            url = f"ws://127.0.0.1:{port}/ws/sittings/{data['sitting']}/"
            result = asyncio.run(run(url, data, args.rounds, args.method))
        finally:
            server.terminate()
            try:
                server.wait(5)
            except subprocess.TimeoutExpired:
                server.kill()
        from meetings.voting.models import Ballot, Poll, SecretParticipation

        rounds_polls = result["polls"][1:]  # the rounds, not the warm-up
        if args.method == "secret":
            stored = SecretParticipation.objects.filter(poll_id__in=rounds_polls).count()
            counted = sum(p.yes_count + p.no_count for p in Poll.objects.filter(pk__in=rounds_polls))
        else:
            stored = Ballot.objects.filter(poll_id__in=rounds_polls).count()
            counted = stored
        from django.db import connection

        engine = connection.vendor
        connection.close()
    finally:
        if scratch_db:
            import psycopg

            with psycopg.connect(args.database_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{scratch_db}" WITH (FORCE)')
    summary = {
        "voters": args.voters,
        "rounds": args.rounds,
        "method": args.method,
        "database": engine,
        "ballots_sent": args.voters * args.rounds,
        "acked": result["acked"],
        "refused": result["refused"],
        "stored": stored,
        "lost": result["acked"] - stored,
        "counted_at_close": counted,
        "p50_ack_ms": round(percentile(result["ack_ms"], 0.5), 1),
        "p99_ack_ms": round(percentile(result["ack_ms"], 0.99), 1),
        "max_ack_ms": round(max(result["ack_ms"]), 1) if result["ack_ms"] else None,
        "p50_tally_ms": round(percentile(result["tally_ms"], 0.5), 1),
        "p99_tally_ms": round(percentile(result["tally_ms"], 0.99), 1),
        "tally_samples": len(result["tally_ms"]),
        "single_ballot_median_ms": round(percentile(result["single_ms"], 0.5), 1),
    }
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
