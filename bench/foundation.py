"""Foundation pages under a heavier-than-real load, with the Django test client on a fresh database.

    python -m bench.foundation                   # embedded default: a fresh SQLite file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python -m bench.foundation
                                                 # PostgreSQL: a scratch database is created and dropped

Seeds the demo council (timing the first and the idempotent second run), adds ``--sittings`` more
sittings with ``--items`` agenda items each, then requests the councillor's start page, a sitting
page and the clerk's order-of-business page ``--requests`` times each, and times an import of
``--import-rows`` people through ``import_members``' service.

Last line: one JSON object with the timings in milliseconds (p50/p95 per page) and seconds.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import time

from bench.support.fresh_db import fresh_database, migrate_fresh
from bench.support.stats import percentile


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sittings", type=int, default=40)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--import-rows", type=int, default=300)
    args = parser.parse_args()

    with fresh_database("foundation", demo=True) as database:
        result = run(args)
    result["database"] = database
    print(json.dumps(result))


def run(args) -> dict:
    migrate_fresh()
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import override_settings

    from council.importing import import_people
    from council.models import Body, Council
    from meetings.models import AgendaItem, Session, Sitting

    devnull = open(os.devnull, "w")
    started = time.perf_counter()
    call_command("seed_demo", stdout=devnull)
    seed_first = time.perf_counter() - started
    started = time.perf_counter()
    call_command("seed_demo", stdout=devnull)
    seed_second = time.perf_counter() - started

    council = Council.objects.get(name="磐梯町議会")
    # The demo holds past sessions too: add to the newest one with published sittings.
    session = (
        Session.objects.filter(council=council, sittings__agenda_published_at__isnull=False)
        .order_by("-start_date")
        .first()
    )
    Session.objects.filter(pk=session.pk).update(
        end_date=session.start_date + datetime.timedelta(days=args.sittings)
    )
    plenary = Body.objects.get(council=council, kind=Body.Kind.PLENARY)
    for n in range(args.sittings):
        sitting = Sitting.objects.create(
            session=session,
            body=plenary,
            number=100 + n,
            date=session.start_date + datetime.timedelta(days=n),
            start_time=datetime.time(10),
            place="議場",
            agenda_published_at=session.sittings.first().agenda_published_at,
        )
        AgendaItem.objects.bulk_create(
            AgendaItem(
                sitting=sitting,
                position=i + 1,
                kind="bill",
                bill_number=f"議案第{i + 1}号",
                title=f"磐梯町条例の一部を改正する条例 {i + 1}",
                title_en=f"Ordinance {i + 1}",
            )
            for i in range(args.items)
        )
    target = Sitting.objects.filter(body=plenary).order_by("-number").first()

    def timed(client: Client, url: str) -> list[float]:
        times = []
        for _ in range(args.requests):
            t = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        return times

    with override_settings(ALLOWED_HOSTS=["testserver"]):
        member = Client()
        member.login(username="giin04", password="demo")
        clerk = Client()
        clerk.login(username="shoki", password="demo")
        pages = {
            "home": timed(member, "/"),
            "sitting": timed(member, f"/meetings/sittings/{target.pk}/"),
            "agenda_edit": timed(clerk, f"/meetings/sittings/{target.pk}/agenda/"),
        }
    rows = "family_name,given_name,kind,title\n" + "".join(
        f"職員{n},太郎,official,課長\n" for n in range(args.import_rows)
    )
    started = time.perf_counter()
    import_people(actor=None, council=council, text=rows, start=datetime.date(2026, 11, 27))
    import_seconds = time.perf_counter() - started

    result = {
        "benchmark": "foundation",
        "sittings": args.sittings + 2,
        "items_per_sitting": args.items,
        "requests": args.requests,
        "seed_seconds": round(seed_first, 2),
        "reseed_seconds": round(seed_second, 2),
        "import_rows": args.import_rows,
        "import_seconds": round(import_seconds, 2),
    }
    for name, times in pages.items():
        result[f"{name}_p50_ms"] = round(statistics.median(times), 1)
        result[f"{name}_p95_ms"] = round(percentile(times, 0.95, method="nearest"), 1)
    return result


if __name__ == "__main__":
    main()
