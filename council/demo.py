"""Demo data, step 1: 磐梯町議会 with its people, bodies, memberships and sign-ins.

Idempotent: everything is looked up by its natural key and created only when missing, so a
second run changes nothing. Demo passwords ("demo") are set only when settings.DEMO is true.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from council.audit import audit_record
from council.models import Body, Caucus, Council, Membership, Person

COUNCIL_NAME = "磐梯町議会"
DEMO_PASSWORD = "demo"
TERM_START = datetime.date(2023, 9, 1)
TERM_END = datetime.date(2027, 8, 31)

CAUCUSES = ["新生ばんだい", "町民クラブ", "無会派"]

# (username, family, given, family kana, given kana, seat, caucus, title)
COUNCILLORS = [
    ("giin01", "佐藤", "一郎", "さとう", "いちろう", 1, "新生ばんだい", "議長"),
    ("giin02", "鈴木", "花子", "すずき", "はなこ", 2, "町民クラブ", "副議長"),
    ("giin03", "高橋", "健二", "たかはし", "けんじ", 3, "新生ばんだい", "総務文教常任委員長"),
    ("giin04", "渡辺", "美咲", "わたなべ", "みさき", 4, "町民クラブ", ""),
    ("giin05", "伊藤", "誠", "いとう", "まこと", 5, "新生ばんだい", ""),
    ("giin06", "山本", "和子", "やまもと", "かずこ", 6, "無会派", ""),
    ("giin07", "中村", "博", "なかむら", "ひろし", 7, "町民クラブ", ""),
    ("giin08", "小林", "直樹", "こばやし", "なおき", 8, "新生ばんだい", "産業厚生常任委員長"),
    ("giin09", "加藤", "由美", "かとう", "ゆみ", 9, "町民クラブ", ""),
    ("giin10", "吉田", "隆", "よしだ", "たかし", 10, "無会派", ""),
]
# (username or None, kind, family, given, family kana, given kana, title)
STAFF = [
    ("jimukyokucho", Person.Kind.SECRETARIAT, "長谷川", "浩", "はせがわ", "ひろし", "事務局長"),
    ("shoki", Person.Kind.SECRETARIAT, "松本", "あゆみ", "まつもと", "あゆみ", "書記"),
    ("chocho", Person.Kind.OFFICIAL, "五十嵐", "正", "いがらし", "ただし", "町長"),
    (None, Person.Kind.OFFICIAL, "星", "孝之", "ほし", "たかゆき", "副町長"),
    ("kacho", Person.Kind.OFFICIAL, "渡部", "聡", "わたなべ", "さとし", "総務課長"),
]
# (name, English name, kind, seats, remote, order, [(username, role)])
BODIES = [
    (
        "本会議",
        "Plenary",
        Body.Kind.PLENARY,
        None,
        False,
        0,
        [("giin01", "chair"), ("giin02", "vice_chair")] + [(f"giin{n:02d}", "member") for n in range(3, 11)],
    ),
    (
        "総務文教常任委員会",
        "General Affairs and Education Committee",
        Body.Kind.STANDING,
        5,
        True,
        1,
        [
            ("giin03", "chair"),
            ("giin04", "vice_chair"),
            ("giin05", "member"),
            ("giin06", "member"),
            ("giin07", "member"),
        ],
    ),
    (
        "産業厚生常任委員会",
        "Industry and Welfare Committee",
        Body.Kind.STANDING,
        5,
        False,
        2,
        [
            ("giin08", "chair"),
            ("giin09", "vice_chair"),
            ("giin10", "member"),
            ("giin02", "member"),
            ("giin01", "member"),
        ],
    ),
]


class _Users:
    """Creates users; all demo users share one password hash so seeding stays fast."""

    def __init__(self, stdout):
        self.stdout = stdout
        self.demo = bool(getattr(settings, "DEMO", False))
        self._hash = make_password(DEMO_PASSWORD) if self.demo else None
        self.created: list[str] = []

    def get(self, username: str, *, superuser: bool = False):
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "email": f"{username}@example.invalid",
                "is_staff": superuser,
                "is_superuser": superuser,
            },
        )
        if created:
            self.created.append(username)
            if self.demo:
                user.password = self._hash
            else:
                user.set_unusable_password()
            user.save(update_fields=["password"])
        elif self.demo and not user.has_usable_password():
            user.password = self._hash
            user.save(update_fields=["password"])
            self.created.append(username)
        return user


@transaction.atomic
def seed(*, stdout) -> None:
    users = _Users(stdout)
    created: list[str] = []
    council, made = Council.objects.get_or_create(
        name=COUNCIL_NAME,
        defaults={"municipality": "磐梯町", "seats": 10, "term_start": TERM_START, "term_end": TERM_END},
    )
    if made:
        created.append("council")
    caucuses = {}
    for name in CAUCUSES:
        caucuses[name], made = Caucus.objects.get_or_create(council=council, name=name)
        if made:
            created.append(f"caucus:{name}")
    users.get("admin", superuser=True)

    people: dict[str, Person] = {}
    for username, family, given, fkana, gkana, seat, caucus, title in COUNCILLORS:
        user = users.get(username)
        person, made = Person.objects.get_or_create(
            council=council,
            user=user,
            defaults=dict(
                kind=Person.Kind.COUNCILLOR,
                family_name=family,
                given_name=given,
                family_name_kana=fkana,
                given_name_kana=gkana,
                seat_number=seat,
                caucus=caucuses[caucus],
                title=title,
            ),
        )
        people[username] = person
        if made:
            created.append(f"person:{username}")
    for username, kind, family, given, fkana, gkana, title in STAFF:
        user = users.get(username) if username else None
        lookup = (
            {"user": user} if user else {"user__isnull": True, "family_name": family, "given_name": given}
        )
        person = Person.objects.filter(council=council, **lookup).first()
        if person is None:
            person = Person.objects.create(
                council=council,
                user=user,
                kind=kind,
                family_name=family,
                given_name=given,
                family_name_kana=fkana,
                given_name_kana=gkana,
                title=title,
            )
            created.append(f"person:{username or title}")

    for name, name_en, kind, seats, remote, order, members in BODIES:
        body, made = Body.objects.get_or_create(
            council=council,
            name=name,
            defaults=dict(
                name_en=name_en, kind=kind, seats=seats, allows_remote_attendance=remote, order=order
            ),
        )
        if made:
            created.append(f"body:{name}")
        for username, role in members:
            _membership, made = Membership.objects.get_or_create(
                body=body,
                person=people[username],
                defaults={"role": role, "start": TERM_START},
            )
            if made:
                created.append(f"membership:{name}:{username}")

    if created or users.created:
        audit_record(
            action="demo.seed",
            target=council,
            data={"step": "council.demo", "created": created, "users": users.created},
        )
    if users.demo:
        stdout.write(
            f"council.demo: {len(created)} records created; demo sign-ins use the password “{DEMO_PASSWORD}”."
        )
    else:
        stdout.write(
            f"council.demo: {len(created)} records created. Demo mode is off (COUNCIL_DEMO), so the "
            "users have no usable password: set them with `manage.py changepassword USER`."
        )
