"""Public matters pages for a whole four-year term, with the Django test client on a fresh database.

    python -m bench.matters                      # embedded default: a fresh SQLite file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python -m bench.matters
                                                 # PostgreSQL: a scratch database is created and dropped

Seeds a ten-seat council with two committees and a four-year term: ``--sessions`` sessions (16:
four 定例会 a year), ``--matters`` matters each (25: about 400 in all), each matter placed, referred,
examined and decided, with three declared votes (a committee show of hands and two plenary
roll-call ballots with every member's ballot: about 1,200 votes and 7,000 ballots), all published.
The rows are bulk-inserted (the services are exercised by the tests; this measures the reads).
Then requests, anonymously, ``--requests`` times each across the sessions: the results page
(会期日程・議決結果一覧), the per-member votes page (議員別賛否一覧) and the results CSV export.

Last line: one JSON object with p50/p95 in milliseconds per page (wall clock, and the p95 of this
process's CPU time, which other load on the machine inflates less), the row counts and the 1-minute load.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import time
import uuid

from bench.support.fresh_db import fresh_database, migrate_fresh
from bench.support.stats import percentile


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=16)
    parser.add_argument("--matters", type=int, default=25)
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()

    with fresh_database("matters") as database:
        result = run(args)
    result["database"] = database
    result["load_1min"] = round(os.getloadavg()[0], 2)
    print(json.dumps(result))


def seed(args) -> dict:
    from django.db import transaction
    from django.utils import timezone

    from council.models import Body, Council, Membership, Person
    from meetings.matters import rules
    from meetings.matters.models import Matter, MatterItem, MatterMotion, MatterStep
    from meetings.models import AgendaItem, Session, Sitting
    from meetings.voting.models import Ballot, Motion, Poll

    families = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤"]
    now = timezone.now()
    with transaction.atomic():
        council = Council.objects.create(
            name="ベンチ町議会",
            municipality="ベンチ町",
            seats=10,
            term_start=datetime.date(2023, 5, 1),
            term_end=datetime.date(2027, 4, 30),
        )
        members = [
            Person.objects.create(
                council=council,
                kind=Person.Kind.COUNCILLOR,
                family_name=f,
                given_name="太郎",
                seat_number=n + 1,
            )
            for n, f in enumerate(families)
        ]
        plenary = Body.objects.create(council=council, name="本会議", kind=Body.Kind.PLENARY)
        committees = [
            Body.objects.create(council=council, name=name, kind=Body.Kind.STANDING, seats=5, order=n + 1)
            for n, name in enumerate(["総務文教常任委員会", "産業厚生常任委員会"])
        ]
        start = datetime.date(2023, 5, 1)
        for n, person in enumerate(members):
            Membership.objects.create(
                body=plenary,
                person=person,
                start=start,
                role="chair" if n == 0 else "vice_chair" if n == 1 else "member",
            )
            Membership.objects.create(
                body=committees[n % 2], person=person, start=start, role="chair" if n < 2 else "member"
            )
        chair, voters = members[0], members[1:]
        counts = {"matters": 0, "polls": 0, "ballots": 0}
        number = 0
        for s in range(args.sessions):
            year, quarter = 2023 + (s + 1) // 4, (s + 1) % 4
            day = datetime.date(year, 3 * quarter + 3 if quarter < 3 else 12, 1)
            session = Session.objects.create(
                council=council,
                kind=Session.Kind.REGULAR,
                year=year,
                number=quarter + 1 + 10 * (s // 4),
                start_date=day,
                end_date=day + datetime.timedelta(days=14),
            )
            first = Sitting.objects.create(
                session=session,
                body=plenary,
                number=1,
                date=day,
                start_time=datetime.time(10),
                place="議場",
                status="closed",
                agenda_published_at=now,
            )
            last = Sitting.objects.create(
                session=session,
                body=plenary,
                number=2,
                date=day + datetime.timedelta(days=14),
                start_time=datetime.time(10),
                place="議場",
                status="closed",
                agenda_published_at=now,
            )
            csits = [
                Sitting.objects.create(
                    session=session,
                    body=c,
                    number=1,
                    date=day + datetime.timedelta(days=5),
                    start_time=datetime.time(10),
                    place="委員会室",
                    status="closed",
                    agenda_published_at=now,
                )
                for c in committees
            ]
            for m in range(args.matters):
                number += 1
                committee, csit = committees[m % 2], csits[m % 2]
                matter = Matter.objects.create(
                    council=council,
                    session=session,
                    kind="bill",
                    number=number,
                    number_scope=str(year),
                    title=f"ベンチ町条例の一部を改正する条例(その{number})",
                    submitter_kind="mayor",
                    submitted_on=day - datetime.timedelta(days=7),
                    referred_to=committee,
                    committee_decision=rules.SHOULD_PASS,
                    result=rules.PASSED if m % 7 else rules.REJECTED,
                    decided_on=last.date,
                    published_at=now,
                )
                items = [
                    AgendaItem.objects.create(
                        sitting=sit,
                        position=m + 1,
                        kind="bill",
                        title=matter.title,
                        bill_number=matter.label_ja,
                    )
                    for sit in (first, csit, last)
                ]
                MatterItem.objects.bulk_create(MatterItem(matter=matter, agenda_item=i) for i in items)
                MatterStep.objects.bulk_create(
                    [
                        MatterStep(matter=matter, kind=rules.SUBMITTED, date=matter.submitted_on),
                        MatterStep(
                            matter=matter, kind=rules.PLACED, sitting=first, body=plenary, date=first.date
                        ),
                        MatterStep(
                            matter=matter,
                            kind=rules.REFERRED,
                            sitting=first,
                            body=plenary,
                            date=first.date,
                            note=committee.name,
                        ),
                        MatterStep(
                            matter=matter,
                            kind=rules.EXAMINED,
                            sitting=csit,
                            body=committee,
                            date=csit.date,
                            outcome=rules.SHOULD_PASS,
                        ),
                        MatterStep(
                            matter=matter,
                            kind=rules.DECIDED,
                            sitting=last,
                            body=plenary,
                            date=last.date,
                            outcome=matter.result,
                        ),
                    ]
                )
                for item, method, sit in (
                    (items[1], "hands", csit),
                    (items[2], "roll_call", last),
                    (items[2], "roll_call", last),
                ):
                    motion = Motion.objects.create(
                        agenda_item=item, title=matter.title, bill_number=matter.label_ja
                    )
                    MatterMotion.objects.create(matter=matter, motion=motion)
                    no = [p for k, p in enumerate(voters) if (k + m) % 5 == 0]
                    poll = Poll.objects.create(
                        motion=motion,
                        sitting=sit,
                        method=method,
                        state="declared",
                        seats=10,
                        quorum_required=5,
                        present_count=10,
                        entitled=[p.pk for p in voters],
                        chair=chair,
                        yes_count=9 - len(no),
                        no_count=len(no),
                        voted_count=9,
                        outcome="carried",
                        declared_at=now,
                    )
                    counts["polls"] += 1
                    if method == "roll_call":
                        Ballot.objects.bulk_create(
                            Ballot(
                                poll=poll,
                                member=p,
                                choice="no" if p in no else "yes",
                                client_token=uuid.uuid4().hex,
                                receipt=uuid.uuid4().hex[:12],
                            )
                            for p in voters
                        )
                        counts["ballots"] += len(voters)
                counts["matters"] += 1
    counts["sessions"] = args.sessions
    return counts


def run(args) -> dict:
    migrate_fresh()
    from django.test import Client
    from django.test.utils import override_settings

    from meetings.models import Session

    started = time.perf_counter()
    counts = seed(args)
    seed_seconds = time.perf_counter() - started
    sessions = list(Session.objects.order_by("start_date").values_list("pk", flat=True))
    pages = {
        "results": "/meetings/matters/sessions/{}/",
        "votes": "/meetings/matters/sessions/{}/votes/",
        "results_csv": "/meetings/matters/sessions/{}/results.csv",
    }
    out: dict = {"counts": counts, "seed_seconds": round(seed_seconds, 1)}
    with override_settings(ALLOWED_HOSTS=["testserver"]):
        client = Client()
        for name, pattern in pages.items():
            client.get(pattern.format(sessions[0]))  # warm up (templates, translations)
            times, cpu = [], []
            for n in range(args.requests):
                url = pattern.format(sessions[n % len(sessions)])
                t, c = time.perf_counter(), time.process_time()
                response = client.get(url)
                times.append((time.perf_counter() - t) * 1000)
                cpu.append((time.process_time() - c) * 1000)
                assert response.status_code == 200, (url, response.status_code)
            out[name] = {
                "p50_ms": round(percentile(times, 0.5, method="nearest"), 1),
                "p95_ms": round(percentile(times, 0.95, method="nearest"), 1),
                "cpu_p95_ms": round(percentile(cpu, 0.95, method="nearest"), 1),
            }
    return out


if __name__ == "__main__":
    main()
