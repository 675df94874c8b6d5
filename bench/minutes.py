"""Render the minutes of a synthetic 4-hour sitting to PDF/A and time it.

    python -m bench.minutes [--speeches 300] [--votes 20] [--out /tmp/minutes.pdf]

A plenary of 12 members, 10 agenda items, about 300 turns at the floor with typed speeches,
20 votes (a quarter of them roll-call ballots), two recesses. The record goes through the
same drafting and template as real minutes (with the chair's suggested lines, about 356 speech
blocks). Last line: a JSON object with ``pages``, ``seconds`` (render + write, wall clock),
``cpu_seconds`` (this process's CPU time, which other load on the machine does not inflate)
and the 1-minute load average.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import sys
import time


def synthetic_record(*, speeches: int, votes: int, seed: int = 7):
    from meetings.minutes.record import (
        AgendaEntry,
        AttendanceRow,
        BallotRow,
        PersonRef,
        SittingRecord,
        StatusEvent,
        Turn,
        VoteRecord,
    )

    rnd = random.Random(seed)
    tz = datetime.timezone(datetime.timedelta(hours=9))
    start = datetime.datetime(2026, 11, 27, 10, 0, tzinfo=tz)
    families = [
        "佐藤",
        "鈴木",
        "高橋",
        "田中",
        "伊藤",
        "渡辺",
        "山本",
        "中村",
        "小林",
        "加藤",
        "吉田",
        "山田",
    ]
    givens = ["一郎", "花子", "健", "美咲", "誠", "陽子", "大輔", "由美", "翔", "恵", "浩二", "直子"]
    members = [
        PersonRef(id=i + 1, name=families[i] + givens[i], kana="さとう", seat_number=i + 1, caucus="無所属")
        for i in range(12)
    ]
    chair = members[0]
    mayor = PersonRef(id=100, name="五十嵐 正", title="町長")
    officials = [mayor] + [
        PersonRef(id=101 + i, name=f"斎藤{givens[i]}", title=t)
        for i, t in enumerate(["副町長", "総務課長", "政策課長", "教育長"])
    ]
    agenda = [AgendaEntry(id=1, position=1, title="会議録署名議員の指名", kind="signers")]
    agenda += [
        AgendaEntry(
            id=i,
            position=i,
            title=f"磐梯町{t}の一部を改正する条例について",
            bill_number=f"議案第{40 + i}号",
            kind="bill",
        )
        for i, t in zip(
            range(2, 11),
            [
                "税条例",
                "手数料条例",
                "職員給与条例",
                "介護保険条例",
                "国民健康保険税条例",
                "水道事業給水条例",
                "下水道条例",
                "公民館条例",
                "情報公開条例",
            ],
            strict=True,
        )
    ]
    sentence = (
        "議長のお許しを得ましたので、通告に従い質問いたします。本町の財政運営と住民サービスの維持について、"
        "町長の見解を伺います。"
    )
    clock = start + datetime.timedelta(minutes=1)
    turns = []
    per_item = speeches // len(agenda)
    span = datetime.timedelta(hours=4) / speeches
    events = [StatusEvent("open", start)]
    for n in range(speeches):
        item = agenda[min(n // per_item, len(agenda) - 1)]
        if n % 3 == 0:
            person, role, position = chair, "議長", "議長"
        elif n % 3 == 1:
            person = members[1 + n % 11]
            role, position = f"{person.seat_number}番", "議員"
        else:
            person = rnd.choice(officials)
            role, position = person.title, person.title
        turns.append(
            Turn(
                id=n + 1,
                person=person,
                role=role,
                granted_at=clock,
                ended_at=clock + span * 0.9,
                agenda_item_id=item.id,
                position=position,
            )
        )
        if n in (speeches // 3, 2 * speeches // 3):
            events.append(StatusEvent("recess", clock + span * 0.92))
            events.append(StatusEvent("resume", clock + span * 0.97))
        clock += span
    events.append(StatusEvent("close", clock + datetime.timedelta(minutes=1)))
    vote_list = []
    for v in range(votes):
        item = agenda[1 + v % (len(agenda) - 1)]
        roll_call = v % 4 == 0
        ballots = [BallotRow(person=m, choice="yes" if rnd.random() < 0.7 else "no") for m in members[1:]]
        yes = sum(b.choice == "yes" for b in ballots)
        item_turns = [t for t in turns if t.agenda_item_id == item.id]
        vote_list.append(
            VoteRecord(
                id=v + 1,
                agenda_item_id=item.id,
                motion=f"{item.bill_number} 原案可決",
                method="roll_call" if roll_call else "standing",
                result="adopted" if yes * 2 > len(ballots) else "rejected",
                yes=yes,
                no=len(ballots) - yes,
                present=len(ballots),
                requirement="出席議員の過半数",
                declared_at=item_turns[-1].ended_at + datetime.timedelta(seconds=v),
                ballots=ballots if roll_call else [],
            )
        )
    record = SittingRecord(
        sitting_id=1,
        council="磐梯町議会",
        municipality="磐梯町",
        body="本会議",
        is_plenary=True,
        title="令和8年第4回磐梯町議会定例会会議録(第2号)",
        date=start.date(),
        place="磐梯町議会議場",
        chair=chair,
        members=[AttendanceRow(m, "present_room") for m in members[:11]]
        + [AttendanceRow(members[11], "absent", reason="病気")],
        officials=[AttendanceRow(o, "present_room") for o in officials],
        secretariat=[AttendanceRow(PersonRef(id=200, name="星 和夫", title="議会事務局長"), "present_room")],
        agenda=agenda,
        turns=turns,
        votes=vote_list,
        events=events,
    )
    texts = {}
    for t in turns:
        texts[t.id] = sentence * rnd.randint(3, 11)
    return record, texts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speeches", type=int, default=300)
    parser.add_argument("--votes", type=int, default=20)
    parser.add_argument("--out", default="")
    args = parser.parse_args(argv)
    sys.path.insert(0, os.getcwd())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "council.settings")
    import django

    django.setup()
    from meetings.minutes import drafting, rendering

    t0 = time.monotonic()
    record, texts = synthetic_record(speeches=args.speeches, votes=args.votes)
    header = drafting.build_header(record)
    blocks = drafting.build_blocks(record)
    for b in blocks:
        if b.kind == "speech" and b.source.startswith("turn:"):
            b.text = texts[int(b.source.split(":")[1])]
    signatories = [
        {"role": "chair", "name": record.chair.name, "seat_number": 1, "signed_label": "2026-12-10 10:00"},
        {"role": "signer", "name": record.members[4].person.name, "seat_number": 5, "signed_label": ""},
        {"role": "signer", "name": record.members[5].person.name, "seat_number": 6, "signed_label": ""},
    ]
    html = rendering.document_html(
        {
            "header": header,
            "blocks": blocks,
            "signatories": signatories,
            "has_remote": False,
            "text_sha256": "0" * 64,
        }
    )
    t1 = time.monotonic()
    cpu1 = time.process_time()
    rendered = rendering.render_pdf(html)
    t2 = time.monotonic()
    cpu = time.process_time() - cpu1
    if args.out:
        with open(args.out, "wb") as f:
            f.write(rendered.data)
    speeches = sum(1 for b in blocks if b.kind == "speech")
    turns = sum(1 for b in blocks if b.source.startswith("turn:"))
    print(
        f"turns={turns} speeches={speeches} votes={len(record.votes)} pages={rendered.pages} "
        f"html={t1 - t0:.2f}s pdf={t2 - t1:.2f}s bytes={len(rendered.data)} refused={len(rendered.refused)}"
    )
    print(
        json.dumps(
            {
                "benchmark": "minutes",
                "turns": turns,
                "speeches": speeches,
                "votes": len(record.votes),
                "pages": rendered.pages,
                "seconds": round(t2 - t1, 2),
                "cpu_seconds": round(cpu, 2),
                "load_average_1m": round(os.getloadavg()[0], 2),
                "draft_seconds": round(t1 - t0, 2),
                "pages_per_second": round(rendered.pages / (t2 - t1), 1),
                "bytes": len(rendered.data),
                "pdf_variant": rendering.PDF_VARIANT,
                "target_seconds": 15,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
