"""Soak: members and public viewers follow a sitting for a while; page turns and votes go on.

    python -m bench.soak                                   # 60 members, 300 public viewers, 10 minutes
    python -m bench.soak --members 6 --public 20 --seconds 20 --votes 3

Starts daphne (two processes sharing Redis when REDIS_URL is set, else one), a council with
``--members`` councillors in an open plenary sitting, ``--members`` tablets on the members'
endpoint and ``--public`` viewers on the public one (``bench.client.Follower``: resync and
reconnect like a tablet). The clerk turns a page every ``--turn-every`` seconds; spread over the run
the chair puts ``--votes`` roll-call questions, every member casts, the chair closes.

Reported: page-turn latency (send to the LAST follower having the page) p50/p99 overall and p99 per
tenth of the run, each server process's RSS at the start and end, and missed final states:
followers not on the last page at the end, and members without a receipt for every vote.
Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path

from bench.client import Follower
from bench.fanout import free_port, start_daphne
from bench.support.crowd import rss_kb
from bench.support.stats import percentile


def setup_database(database_url: str, members: int) -> dict:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "council.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from bench.support import factories
    from bench.support.scenario import make_document, open_with_everyone_present, session_key_for
    from documents.models import Document
    from meetings.models import Sitting

    call_command("migrate", verbosity=0, interactive=False)
    org = factories.make_small_council(councillors=members)
    sitting = org["sitting"]
    Sitting.objects.filter(pk=sitting.pk).update(is_public=True)
    open_with_everyone_present(sitting, org["members"], org["clerk"].user)
    Sitting.objects.filter(pk=sitting.pk).update(opened_at=timezone.now())
    item = factories.make_agenda_item(sitting, title="議案第1号")
    doc = make_document(  # the public sees it too
        org, agenda_item=item, pages=10_000, visibility=Document.Visibility.PUBLIC
    )
    return {
        "sitting": sitting.pk,
        "item": item.pk,
        "doc": doc.pk,
        "clerk": session_key_for(org["clerk"].user),
        "chair": session_key_for(org["members"][0].user),
        "members": [session_key_for(m.user) for m in org["members"][1:]],
    }


class Tablet:
    def __init__(self, urls, cookie, index):
        self.page = None
        self.receipts: set[int] = set()
        self.replies: dict[str, dict] = {}
        self.follower = Follower(
            urls,
            headers={"Cookie": f"sessionid={cookie}"} if cookie else {},
            on_state=self.on_state,
            on_event=self.on_event,
        )
        self.follower.url_index = index

    def on_state(self, state):
        self.page = (state.get("presentation") or {}).get("page")

    def on_event(self, message):
        presentation = (message.get("payload") or {}).get("presentation")
        if presentation:
            self.page = presentation["page"]
            if self.page in TURNS and self.page not in SEEN.setdefault(id(self), {}):
                SEEN[id(self)][self.page] = time.monotonic()
        if message.get("type") == "vote.receipt":
            self.receipts.add(message["poll"])
        if message.get("re"):
            self.replies[str(message["re"])] = message


TURNS: dict[int, float] = {}
SEEN: dict[int, dict[int, float]] = {}


async def request(tablet: Tablet, message: dict, timeout: float = 20) -> dict:
    key = f"r{time.monotonic_ns()}"
    await tablet.follower.send({**message, "id": key})
    deadline = time.monotonic() + timeout
    while key not in tablet.replies and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    return tablet.replies.get(key, {})


async def run(
    *,
    members: int,
    public: int,
    seconds: float,
    votes: int,
    turn_every: float,
    urls,
    public_urls,
    scene,
    pids,
) -> dict:
    clerk = Tablet(urls[:1], scene["clerk"], 0)
    chair = Tablet(urls[:1], scene["chair"], 0)
    tablets = [Tablet(urls, cookie, i) for i, cookie in enumerate(scene["members"])]
    viewers = [Tablet(public_urls, None, i) for i in range(public)]
    everyone = [clerk, chair, *tablets, *viewers]
    tasks = [asyncio.create_task(t.follower.run()) for t in everyone]
    await asyncio.wait_for(asyncio.gather(*(t.follower.connected.wait() for t in everyone)), 120)
    await request(clerk, {"type": "document.present", "document_id": scene["doc"], "page": 1})
    rss_start = {pid: rss_kb(pid) for pid in pids}
    started = time.monotonic()
    vote_times = [started + seconds * (k + 1) / (votes + 1) for k in range(votes)]
    polls: list[int] = []
    page = 1
    followers = [*tablets, *viewers]
    while time.monotonic() - started < seconds:
        page += 1
        TURNS[page] = time.monotonic()
        await clerk.follower.send({"type": "page.turn", "page": page})
        if vote_times and time.monotonic() >= vote_times[0]:
            vote_times.pop(0)
            motion = await request(
                chair,
                {
                    "type": "motion.create",
                    "agenda_item_id": scene["item"],
                    "title": f"第{len(polls) + 1}号の表決",
                },
            )
            opened = await request(
                chair, {"type": "vote.open", "motion_id": motion["motion"], "method": "roll_call"}
            )
            poll = opened["poll"]
            polls.append(poll)
            await asyncio.gather(
                *(
                    t.follower.send(
                        {"type": "vote.cast", "poll_id": poll, "choice": "yes", "token": f"s{poll}-{i}"}
                    )
                    for i, t in enumerate(tablets)
                )
            )
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not all(poll in t.receipts for t in tablets):
                await asyncio.sleep(0.05)
            await request(chair, {"type": "vote.close", "poll_id": poll})
        await asyncio.sleep(turn_every)
    last = page
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not all(t.page == last for t in followers):
        await asyncio.sleep(0.1)
    rss_end = {pid: rss_kb(pid) for pid in pids}
    # Latency of a turn: until the LAST follower had it.
    per_turn = []
    for number, sent in TURNS.items():
        arrivals = [SEEN.get(id(t), {}).get(number) for t in followers]
        if all(a is not None for a in arrivals):
            per_turn.append((sent - started, max(arrivals) - sent))
    tenths = []
    for k in range(10):
        window = [lat for at, lat in per_turn if seconds * k / 10 <= at < seconds * (k + 1) / 10]
        tenths.append(round(percentile(window, 0.99) * 1000, 1) if window else None)
    missed_pages = sum(1 for t in followers if t.page != last)
    missed_receipts = sum(1 for t in tablets for p in polls if p not in t.receipts)
    for t in everyone:
        await t.follower.close()
    for task in tasks:
        task.cancel()
    latencies = [lat for _at, lat in per_turn]
    return {
        "members": members,
        "public": public,
        "seconds": seconds,
        "turns": len(TURNS),
        "votes": len(polls),
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "p99_ms_by_tenth": tenths,
        "turns_measured": len(per_turn),
        "rss_mb_start": [round(v / 1024, 1) for v in rss_start.values()],
        "rss_mb_end": [round(v / 1024, 1) for v in rss_end.values()],
        "missed_final_pages": missed_pages,
        "missed_receipts": missed_receipts,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=60)
    parser.add_argument("--public", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--votes", type=int, default=3)
    parser.add_argument("--turn-every", type=float, default=2.0)
    parser.add_argument("--database-url", default="", help="default: a new SQLite file")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="soak-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'soak.sqlite3'}"
    scene = setup_database(database_url, args.members + 1)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "COUNCIL_VAR_DIR": str(workdir),
        "COUNCIL_DEMO": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "MEDIA_ROOT": str(workdir / "media"),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    count = 2 if os.environ.get("REDIS_URL") else 1
    ports = [free_port() for _ in range(count)]
    procs = [start_daphne(port, env) for port in ports]
    try:
        urls = [f"ws://127.0.0.1:{p}/ws/sittings/{scene['sitting']}/" for p in ports]
        public_urls = [f"ws://127.0.0.1:{p}/ws/public/sittings/{scene['sitting']}/" for p in ports]
        result = asyncio.run(
            run(
                members=args.members,
                public=args.public,
                seconds=args.seconds,
                votes=args.votes,
                turn_every=args.turn_every,
                urls=urls,
                public_urls=public_urls,
                scene=scene,
                pids=[p.pid for p in procs],
            )
        )
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
    result["processes"] = count
    print(json.dumps(result), flush=True)
    return result


if __name__ == "__main__":
    main()
