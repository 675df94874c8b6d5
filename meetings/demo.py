"""Demo data, step 2: 令和8年第4回定例会 with a plenary sitting (第1号) and a committee sitting.

The session starts on the day the demo is first seeded, so its sittings are "today"; later runs
find everything in place and change nothing.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from council.audit import audit_record
from council.demo import COUNCIL_NAME
from council.formats import era_year
from council.models import Body, Council
from meetings.models import AgendaItem, Session, Sitting

K = AgendaItem.Kind
SESSION_NUMBER = 4


def _plenary_items(year: int) -> list[tuple]:
    fy = era_year(year)
    return [
        (K.SIGNERS, "", "会議録署名議員の指名", "Nomination of members to sign the minutes", ""),
        (K.SESSION_LENGTH, "", "会期の決定", "Decision on the length of the session", ""),
        (K.REPORT, "", "諸般の報告", "Reports on various matters", ""),
        (K.REPORT, "", "町長の行政報告", "The mayor's administrative report", ""),
        (
            K.BILL,
            "議案第45号",
            "磐梯町税条例の一部を改正する条例",
            "Ordinance partially amending the Bandai Town Tax Ordinance",
            "地方税法の改正に伴い、個人町民税の扶養控除等の規定を整備するもの。",
        ),
        (
            K.BILL,
            "議案第46号",
            f"{fy}度磐梯町一般会計補正予算(第5号)",
            f"Bandai Town general account supplementary budget for FY{year} (No. 5)",
            "歳入歳出それぞれ4,820万円を追加し、総額を52億3,410万円とするもの。",
        ),
        (
            K.BILL,
            "議案第47号",
            "磐梯町職員の給与に関する条例の一部を改正する条例",
            "Ordinance partially amending the ordinance on the pay of Bandai Town staff",
            "",
        ),
        (
            K.BILL,
            "議案第48号",
            "指定管理者の指定について(磐梯町農村環境改善センター)",
            "Designation of the manager of the Bandai Town Rural Environment Improvement Centre",
            "",
        ),
        (
            K.PETITION,
            "請願第2号",
            "少人数学級の推進を求める請願",
            "Petition for smaller school classes",
            "紹介議員 渡辺美咲",
        ),
    ]


COMMITTEE_ITEMS = [
    (
        K.BILL,
        "議案第45号",
        "磐梯町税条例の一部を改正する条例",
        "Ordinance partially amending the Bandai Town Tax Ordinance",
        "本会議から付託",
    ),
    (
        K.BILL,
        "議案第47号",
        "磐梯町職員の給与に関する条例の一部を改正する条例",
        "Ordinance partially amending the ordinance on the pay of Bandai Town staff",
        "本会議から付託",
    ),
    (
        K.PETITION,
        "請願第2号",
        "少人数学級の推進を求める請願",
        "Petition for smaller school classes",
        "本会議から付託",
    ),
]


def _items(sitting: Sitting, rows: list[tuple]) -> int:
    if sitting.agenda_items.exists():
        return 0
    AgendaItem.objects.bulk_create(
        AgendaItem(
            sitting=sitting,
            position=n,
            kind=kind,
            bill_number=bill,
            title=title,
            title_en=title_en,
            description=description,
        )
        for n, (kind, bill, title, title_en, description) in enumerate(rows, start=1)
    )
    return len(rows)


@transaction.atomic
def seed(*, stdout) -> None:
    council = Council.objects.get(name=COUNCIL_NAME)
    today = timezone.localdate()
    session = (
        Session.objects.filter(council=council, number=SESSION_NUMBER, kind=Session.Kind.REGULAR)
        .order_by("-year")
        .first()
    )
    created: list[str] = []
    if session is None:
        session = Session.objects.create(
            council=council,
            kind=Session.Kind.REGULAR,
            year=today.year,
            number=SESSION_NUMBER,
            start_date=today,
            end_date=today + datetime.timedelta(days=14),
        )
        created.append("session")
    plenary = Body.objects.get(council=council, kind=Body.Kind.PLENARY)
    committee = Body.objects.get(council=council, name="総務文教常任委員会")
    now = timezone.now()
    plan = [
        (plenary, datetime.time(10, 0), "議場", _plenary_items(session.year)),
        (committee, datetime.time(13, 30), "第1委員会室", COMMITTEE_ITEMS),
    ]
    for body, start_time, place, rows in plan:
        sitting, made = Sitting.objects.get_or_create(
            session=session,
            body=body,
            number=1,
            defaults=dict(
                date=session.start_date,
                start_time=start_time,
                place=place,
                agenda_published_at=now,
                ical_sequence=1,
            ),
        )
        if made:
            created.append(f"sitting:{body.name}")
        if _items(sitting, rows):
            created.append(f"agenda:{body.name}")
    if created:
        audit_record(action="demo.seed", target=session, data={"step": "meetings.demo", "created": created})
    stdout.write(f"meetings.demo: {session.title}, {len(created)} records created.")
