"""Demo data for matters: a completed 定例会 three months back (令和○年第3回定例会) with eleven
matters taken all the way (a referred bill, an amended budget, a petition left 継続審査, roll-call
ballots, committee reports, general questions from four members, published), and the current
session's matters on the agenda items already seeded (referred bills and petitions, the committee's
decisions from the votes the voting demo took), with general-question notices arriving.

Everything goes through the services (so the audit chain holds it). Idempotent: each part is
skipped when its matters exist.
"""

from __future__ import annotations

import datetime
import random
import uuid

from django.db import transaction
from django.utils import timezone

from council.models import Body, Council, Person
from meetings.attendance.models import Attendance
from meetings.matters import questions, rules, services
from meetings.matters.models import Matter, QuestionCall
from meetings.models import AgendaItem, Session, Sitting
from meetings.voting.models import Poll
from meetings.voting.services import ballots, polls, roll

COUNCIL_NAME = "磐梯町議会"
PAST_NUMBER = 3
CURRENT_NUMBER = 4
GENERAL = "総務文教常任委員会"
INDUSTRY = "産業厚生常任委員会"


def _people(council: Council) -> dict[str, Person]:
    return {
        p.user.username: p
        for p in Person.objects.filter(council=council, user__isnull=False).select_related("user")
    }


def _clerk_user(people: dict[str, Person]):
    return people["jimukyokucho"].user if "jimukyokucho" in people else None


def _open(sitting: Sitting, people: list[Person], clerk) -> None:
    roll.roll_prepare(sitting=sitting, by=clerk)
    for person in people:
        roll.attendance_mark(sitting=sitting, person=person, status=Attendance.Status.PRESENT_ROOM, by=clerk)
    Sitting.objects.filter(pk=sitting.pk).update(status=Sitting.Status.OPEN, opened_at=timezone.now())
    sitting.refresh_from_db()


def _close(sitting: Sitting) -> None:
    Sitting.objects.filter(pk=sitting.pk).update(status=Sitting.Status.CLOSED, closed_at=timezone.now())


def _vote(
    matter: Matter, sitting: Sitting, clerk, chair_user, *, method: str, no: tuple[str, ...] = ()
) -> Poll:
    """A real vote: ``no`` names the members voting against (user names); everyone else entitled votes yes."""
    motion = services.matter_motion_create(actor=clerk, matter=matter, sitting=sitting)
    poll = polls.poll_open(motion=motion, method=method, by=chair_user)
    entitled = list(Person.objects.filter(pk__in=poll.entitled).select_related("user"))
    if method in (Poll.Method.ROLL_CALL, Poll.Method.SECRET):
        for person in entitled:
            ballots.vote_cast(
                poll_id=poll.pk,
                user=person.user,
                client_token=uuid.uuid4().hex,
                choice="no" if person.user.username in no else "yes",
            )
        poll = polls.poll_close(poll=poll, by=chair_user)
    elif method == Poll.Method.NO_OBJECTION:
        poll = polls.poll_close(poll=poll, by=chair_user)
    else:
        against = sum(1 for p in entitled if p.user.username in no)
        poll = polls.poll_enter_counts(poll=poll, yes=len(entitled) - against, no=against, by=clerk)
    return polls.poll_declare(poll=poll, by=chair_user)


def _sitting(
    session: Session, body: Body, number: int, day: int, time: tuple[int, int], place: str
) -> Sitting:
    sitting, _made = Sitting.objects.get_or_create(
        session=session,
        body=body,
        number=number,
        defaults=dict(
            date=session.start_date + datetime.timedelta(days=day),
            start_time=datetime.time(*time),
            place=place,
        ),
    )
    return sitting


PAST_MATTERS = [
    # key, kind, number, title, submitter, extra
    ("report", "report", 5, "専決処分の報告について(損害賠償の額を定めることについて)", "mayor", {}),
    (
        "approval",
        "approval",
        2,
        "専決処分の承認を求めることについて(令和8年度磐梯町一般会計補正予算(第3号))",
        "mayor",
        {},
    ),
    ("consent", "consent", 1, "磐梯町教育委員会委員の任命につき同意を求めることについて", "mayor", {}),
    ("fees", "bill", 30, "磐梯町手数料条例の一部を改正する条例", "mayor", {}),
    ("budget", "bill", 31, "令和8年度磐梯町一般会計補正予算(第4号)", "mayor", {}),
    ("sewer", "bill", 32, "磐梯町下水道事業の設置等に関する条例の一部を改正する条例", "mayor", {}),
    ("road", "bill", 33, "町道路線の認定について", "mayor", {}),
    ("accounts", "certification", 1, "令和7年度磐梯町一般会計歳入歳出決算の認定について", "mayor", {}),
    (
        "petition",
        "petition",
        1,
        "学校給食費の無償化を求める請願",
        "petitioner",
        {
            "petitioner": "磐梯町の子育てを考える会 代表 佐々木 直子",
            "sponsors": [("giin04", "introducer"), ("giin06", "introducer")],
        },
    ),
    (
        "snow",
        "representation",
        2,
        "町道の除雪体制の充実を求める陳情",
        "petitioner",
        {"petitioner": "磐梯町大字更科区長 斎藤 正"},
    ),
    (
        "opinion",
        "opinion",
        2,
        "地方財政の充実・強化を求める意見書",
        "members",
        {"sponsors": [("giin05", "proposer"), ("giin07", "seconder"), ("giin09", "seconder")]},
    ),
]

PAST_TITLES_EN = {
    "report": "Report on an action taken by the mayor (fixing the amount of damages)",
    "approval": "Approval of an action taken by the mayor (FY2026 general account supplementary budget No. 3)",
    "consent": "Consent to the appointment of a member of the Bandai Town Board of Education",
    "fees": "Ordinance partially amending the Bandai Town Fees Ordinance",
    "budget": "FY2026 Bandai Town general account supplementary budget (No. 4)",
    "sewer": "Ordinance partially amending the ordinance on the Bandai Town sewerage service",
    "road": "Designation of town road routes",
    "accounts": "Certification of the FY2025 Bandai Town general account settlement",
    "petition": "Petition for free school lunches",
    "snow": "Representation asking for better snow clearing of town roads",
    "opinion": "Draft written opinion calling for stronger local public finances",
}

PAST_QUESTIONS = [
    (
        "giin04",
        [
            {
                "subject": "子育て支援の拡充について",
                "points": "1 学童保育の待機児童の現状と対策は。\n2 第2子以降の保育料無償化の考えは。",
                "answerers": ["町長"],
            }
        ],
    ),
    (
        "giin06",
        [
            {
                "subject": "町営バスの利便性向上について",
                "points": "高齢者の通院・買い物の足の確保について、デマンド交通導入の考えを問う。",
                "answerers": ["町長"],
            },
            {
                "subject": "学校のICT環境について",
                "points": "1人1台端末の更新計画と費用負担は。",
                "answerers": ["教育長"],
            },
        ],
    ),
    (
        "giin07",
        [
            {
                "subject": "有害鳥獣対策について",
                "points": "ツキノワグマの出没が増えている。緊急時の連絡体制と電気柵補助の拡充を問う。",
                "answerers": ["町長"],
            }
        ],
    ),
    (
        "giin10",
        [
            {
                "subject": "防災対策について",
                "points": "1 避難所の備蓄の状況は。\n2 要支援者の個別避難計画の策定状況は。",
                "answerers": ["町長", "教育長"],
            }
        ],
    ),
]


def _seed_past(council: Council, people: dict[str, Person], stdout) -> int:
    today = timezone.localdate()
    start = today - datetime.timedelta(days=91)
    session = Session.objects.filter(
        council=council, kind=Session.Kind.REGULAR, number=PAST_NUMBER, year=start.year
    ).first()
    if session is None:
        session = Session.objects.create(
            council=council,
            kind=Session.Kind.REGULAR,
            year=start.year,
            number=PAST_NUMBER,
            start_date=start,
            end_date=start + datetime.timedelta(days=9),
        )
    if Matter.objects.filter(session=session).exists():
        return 0
    clerk = _clerk_user(people)
    plenary = Body.objects.get(council=council, kind=Body.Kind.PLENARY)
    general = Body.objects.get(council=council, name=GENERAL)
    industry = Body.objects.get(council=council, name=INDUSTRY)
    p1 = _sitting(session, plenary, 1, 0, (10, 0), "議場")
    p2 = _sitting(session, plenary, 2, 1, (10, 0), "議場")
    c_general = _sitting(session, general, 1, 3, (10, 0), "第1委員会室")
    c_industry = _sitting(session, industry, 1, 3, (13, 30), "第2委員会室")
    p3 = _sitting(session, plenary, 3, 9, (10, 0), "議場")
    chair = people["giin01"].user
    councillors = [people[f"giin{n:02d}"] for n in range(1, 11)]

    # General questions: notices before the deadline, order by lot, published for 第2号.
    call = questions.call_open(
        actor=clerk,
        session=session,
        deadline=timezone.make_aware(datetime.datetime.combine(start, datetime.time(12, 0))),
    )
    QuestionCall.objects.filter(pk=call.pk).update(deadline=timezone.now() + datetime.timedelta(minutes=5))
    call.refresh_from_db()
    for username, topics in PAST_QUESTIONS:
        questions.question_submit(user=people[username].user, call=call, topics=topics)
    QuestionCall.objects.filter(pk=call.pk).update(deadline=timezone.now() - datetime.timedelta(seconds=1))
    call.refresh_from_db()
    questions.order_fix(actor=clerk, call=call, method=QuestionCall.Order.LOT, rng=random.Random(3))
    questions.publish(actor=clerk, call=call, sitting=p2)

    m: dict[str, Matter] = {}
    for key, kind, number, title, submitter, extra in PAST_MATTERS:
        sponsors = [(people[u], role) for u, role in extra.get("sponsors", [])]
        m[key] = services.matter_submit(
            actor=clerk,
            session=session,
            kind=kind,
            number=number,
            title=title,
            title_en=PAST_TITLES_EN[key],
            submitter_kind=submitter,
            petitioner=extra.get("petitioner", ""),
            sponsors=sponsors,
            submitted_on=start - datetime.timedelta(days=7),
        )
    m["amendment"] = services.matter_submit(
        actor=clerk,
        session=session,
        kind="amendment",
        amends=m["budget"],
        title="議案第31号 令和8年度磐梯町一般会計補正予算(第4号)に対する修正案",
        title_en="Amendment to Bill No. 31 (FY2026 general account supplementary budget No. 4)",
        submitter_kind="members",
        sponsors=[(people["giin06"], "proposer"), (people["giin10"], "seconder")],
        submitted_on=start + datetime.timedelta(days=9),
    )

    # 第1号: everything is put on the agenda, explained; the short ones decided at once (即決).
    _open(p1, councillors, clerk)
    first_day = [
        "report",
        "approval",
        "consent",
        "fees",
        "budget",
        "sewer",
        "road",
        "accounts",
        "petition",
        "snow",
    ]
    for key in first_day:
        services.matter_place(actor=clerk, matter=m[key], sitting=p1)
        services.matter_step_record(actor=clerk, matter=m[key], kind=rules.EXPLAINED, sitting=p1)
    services.matter_decide(actor=clerk, matter=m["report"], result=rules.RECEIVED, sitting=p1)
    for key, method, no in (
        ("approval", Poll.Method.STANDING, ("giin10",)),
        ("consent", Poll.Method.ROLL_CALL, ()),
    ):
        services.matter_step_record(actor=clerk, matter=m[key], kind=rules.QUESTIONED, sitting=p1)
        services.matter_step_record(actor=clerk, matter=m[key], kind=rules.REFERRAL_OMITTED, sitting=p1)
        _vote(m[key], p1, clerk, chair, method=method, no=no)
    for key, committee in (
        ("fees", general),
        ("accounts", general),
        ("petition", general),
        ("sewer", industry),
        ("snow", industry),
    ):
        services.matter_step_record(actor=clerk, matter=m[key], kind=rules.QUESTIONED, sitting=p1)
        services.matter_refer(actor=clerk, matter=m[key], committee=committee, sitting=p1)
    for key in ("budget", "road"):
        services.matter_step_record(actor=clerk, matter=m[key], kind=rules.QUESTIONED, sitting=p1)
        services.matter_step_record(actor=clerk, matter=m[key], kind=rules.REFERRAL_OMITTED, sitting=p1)
    _close(p1)

    # Committees (第1号 each): show of hands, as committees usually vote.
    general_members = [people[u] for u in ("giin03", "giin04", "giin05", "giin06", "giin07")]
    _open(c_general, general_members, clerk)
    for key, no in (("fees", ("giin06",)), ("accounts", ())):
        services.matter_place(actor=clerk, matter=m[key], sitting=c_general)
        _vote(m[key], c_general, clerk, people["giin03"].user, method=Poll.Method.HANDS, no=no)
    services.matter_place(actor=clerk, matter=m["petition"], sitting=c_general)
    services.matter_examine(
        actor=clerk,
        matter=m["petition"],
        decision=rules.SHOULD_CONTINUE,
        sitting=c_general,
        remarks="財源の確保について、なお調査を要するため。",
    )
    _close(c_general)
    industry_members = [people[u] for u in ("giin08", "giin09", "giin10", "giin02", "giin01")]
    _open(c_industry, industry_members, clerk)
    for key in ("sewer", "snow"):
        services.matter_place(actor=clerk, matter=m[key], sitting=c_industry)
        _vote(m[key], c_industry, clerk, people["giin08"].user, method=Poll.Method.HANDS)
    _close(c_industry)

    # 第3号 (最終日): committee chairs report, debate, roll-call ballots; the amendment first.
    _open(p3, councillors, clerk)
    for key in ("fees", "accounts", "petition", "sewer", "snow", "budget", "road", "opinion"):
        services.matter_place(actor=clerk, matter=m[key], sitting=p3)
    services.matter_place(actor=clerk, matter=m["amendment"], sitting=p3)
    for key in ("fees", "accounts", "petition", "sewer", "snow"):
        services.matter_chair_report(actor=clerk, matter=m[key], sitting=p3)
    services.matter_step_record(actor=clerk, matter=m["fees"], kind=rules.DEBATED, sitting=p3)
    _vote(m["fees"], p3, clerk, chair, method=Poll.Method.ROLL_CALL, no=("giin06", "giin10"))
    _vote(m["accounts"], p3, clerk, chair, method=Poll.Method.ROLL_CALL, no=("giin06",))
    services.matter_decide(actor=clerk, matter=m["petition"], result=rules.CONTINUED, sitting=p3)
    _vote(m["sewer"], p3, clerk, chair, method=Poll.Method.STANDING)
    _vote(m["snow"], p3, clerk, chair, method=Poll.Method.NO_OBJECTION)
    services.matter_step_record(actor=clerk, matter=m["amendment"], kind=rules.EXPLAINED, sitting=p3)
    services.matter_step_record(actor=clerk, matter=m["budget"], kind=rules.DEBATED, sitting=p3)
    _vote(m["amendment"], p3, clerk, chair, method=Poll.Method.ROLL_CALL, no=("giin03", "giin05", "giin08"))
    _vote(m["budget"], p3, clerk, chair, method=Poll.Method.ROLL_CALL, no=("giin05",))
    _vote(m["road"], p3, clerk, chair, method=Poll.Method.STANDING)
    services.matter_step_record(actor=clerk, matter=m["opinion"], kind=rules.EXPLAINED, sitting=p3)
    services.matter_step_record(actor=clerk, matter=m["opinion"], kind=rules.REFERRAL_OMITTED, sitting=p3)
    _vote(m["opinion"], p3, clerk, chair, method=Poll.Method.ROLL_CALL, no=("giin08",))
    _close(p3)
    # 第2号 was the general-questions day: each questioner had the floor in the published order.
    from meetings.voting.models import FloorTurn
    from meetings.voting.services import floor

    for turn in FloorTurn.objects.filter(sitting=p2, status=FloorTurn.Status.WAITING).order_by(
        "requested_at"
    ):
        floor.floor_grant(turn=turn, by=chair)
        floor.floor_end(sitting=p2, by=chair)
    Sitting.objects.filter(pk=p2.pk).update(status=Sitting.Status.CLOSED)
    Sitting.objects.filter(session=session).update(agenda_published_at=timezone.now())
    services.session_publish(actor=clerk, session=session)
    return len(m)


CURRENT_MATTERS = [
    # bill number on the seeded agenda, kind, number, submitter, referred to, extra
    ("議案第45号", "bill", 45, "mayor", GENERAL, {}),
    ("議案第46号", "bill", 46, "mayor", None, {}),
    ("議案第47号", "bill", 47, "mayor", GENERAL, {}),
    ("議案第48号", "bill", 48, "mayor", INDUSTRY, {}),
    ("議案第49号", "bill", 49, "mayor", INDUSTRY, {}),
    (
        "請願第2号",
        "petition",
        2,
        "petitioner",
        GENERAL,
        {"petitioner": "磐梯町PTA連絡協議会 会長 山口 健", "sponsors": [("giin04", "introducer")]},
    ),
    (
        "陳情第3号",
        "representation",
        3,
        "petitioner",
        INDUSTRY,
        {"petitioner": "磐梯町農業振興会 会長 遠藤 勉"},
    ),
]

CURRENT_QUESTIONS = [
    (
        "giin04",
        [
            {
                "subject": "少人数学級の推進について",
                "points": "町独自の加配教員の配置について考えを問う。",
                "answerers": ["教育長"],
            }
        ],
    ),
    (
        "giin06",
        [
            {
                "subject": "空き家対策について",
                "points": "1 空き家バンクの登録と成約の実績は。\n2 解体補助の創設の考えは。",
                "answerers": ["町長"],
            }
        ],
    ),
    (
        "giin09",
        [{"subject": "観光振興について", "points": "磐梯山観光の冬季誘客策を問う。", "answerers": ["町長"]}],
    ),
    (
        "giin10",
        [
            {
                "subject": "除雪体制について",
                "points": "陳情を受けた除雪体制の見直しの進捗は。",
                "answerers": ["町長"],
            }
        ],
    ),
]


def _seed_current(council: Council, people: dict[str, Person], stdout) -> int:
    session = (
        Session.objects.filter(council=council, kind=Session.Kind.REGULAR, number=CURRENT_NUMBER)
        .order_by("-year")
        .first()
    )
    if session is None or Matter.objects.filter(session=session).exists():
        return 0
    clerk = _clerk_user(people)
    plenary_item = {
        i.bill_number: i
        for i in AgendaItem.objects.filter(sitting__session=session, sitting__body__kind=Body.Kind.PLENARY)
    }
    made = 0
    for label, kind, number, submitter, committee_name, extra in CURRENT_MATTERS:
        sponsors = [(people[u], role) for u, role in extra.get("sponsors", [])]
        item = plenary_item.get(label)
        matter = services.matter_submit(
            actor=clerk,
            session=session,
            kind=kind,
            number=number,
            submitter_kind=submitter,
            title=item.title if item else label,
            title_en=item.title_en if item else "",
            summary=item.description if item and not item.description.startswith("紹介議員") else "",
            petitioner=extra.get("petitioner", ""),
            sponsors=sponsors,
            submitted_on=session.start_date - datetime.timedelta(days=7),
        )
        made += 1
        if item is None:
            continue
        services.matter_place(actor=clerk, matter=matter, sitting=item.sitting, agenda_item=item)
        for link in item.document_links.select_related(
            "document"
        ):  # the packet's bill text, from documents.demo
            services.matter_document_add(actor=clerk, matter=matter, document=link.document)
        services.matter_step_record(actor=clerk, matter=matter, kind=rules.EXPLAINED, sitting=item.sitting)
        if committee_name:
            committee = Body.objects.get(council=council, name=committee_name)
            services.matter_refer(actor=clerk, matter=matter, committee=committee, sitting=item.sitting)
            for committee_item in AgendaItem.objects.filter(
                sitting__session=session, sitting__body=committee, bill_number=label
            ):
                services.matter_place(
                    actor=clerk, matter=matter, sitting=committee_item.sitting, agenda_item=committee_item
                )
                # The voting demo already took the committee's vote: its report is drafted from it.
                poll = (
                    Poll.objects.filter(
                        motion__agenda_item=committee_item,
                        state=Poll.State.DECLARED,
                        outcome__in=[Poll.Outcome.CARRIED, Poll.Outcome.REJECTED],
                    )
                    .order_by("-declared_at")
                    .first()
                )
                if poll is not None:
                    carried = poll.outcome == Poll.Outcome.CARRIED
                    services.matter_examine(
                        actor=clerk,
                        matter=matter,
                        sitting=committee_item.sitting,
                        poll=poll,
                        decision=rules.committee_decision_for_vote(kind, carried=carried),
                    )
        else:
            services.matter_step_record(
                actor=clerk, matter=matter, kind=rules.REFERRAL_OMITTED, sitting=item.sitting
            )
    services.session_publish(actor=clerk, session=session)

    # General questions: the window is open; four members have given notice.
    deadline = timezone.make_aware(
        datetime.datetime.combine(
            min(session.start_date + datetime.timedelta(days=5), session.end_date), datetime.time(17, 0)
        )
    )
    call = questions.call_open(actor=clerk, session=session, deadline=deadline)
    if timezone.now() < deadline:
        for username, topics in CURRENT_QUESTIONS:
            questions.question_submit(user=people[username].user, call=call, topics=topics)
    return made


def seed(*, stdout) -> None:
    council = Council.objects.filter(name=COUNCIL_NAME).first()
    if council is None:
        stdout.write("meetings.matters.demo: no demo council, skipped.")
        return
    people = _people(council)
    with transaction.atomic():
        past = _seed_past(council, people, stdout)
    with transaction.atomic():
        current = _seed_current(council, people, stdout)
    stdout.write(f"meetings.matters.demo: {past} past and {current} current matters created.")
