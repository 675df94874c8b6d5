"""Factories: plain functions building a small, valid council. One place for all apps, shared by the
tests (`tests/factories.py` re-exports them) and the benchmarks (which never import the tests)."""

from __future__ import annotations

import datetime
import itertools

from django.contrib.auth import get_user_model

from council.models import Body, Council, Membership, Person
from meetings.models import AgendaItem, Session, Sitting

_seq = itertools.count(1)
PASSWORD = "pw-for-tests-1234"


def make_user(username: str | None = None, *, superuser: bool = False, password: str = PASSWORD):
    User = get_user_model()
    username = username or f"user{next(_seq)}"
    if superuser:
        return User.objects.create_superuser(
            username=username, password=password, email=f"{username}@example.org"
        )
    return User.objects.create_user(username=username, password=password)


def make_council(**kw) -> Council:
    defaults = dict(
        name="磐梯町議会",
        municipality="磐梯町",
        seats=10,
        term_start=datetime.date(2023, 5, 1),
        term_end=datetime.date(2027, 4, 30),
    )
    defaults.update(kw)
    return Council.objects.create(**defaults)


def make_person(
    council: Council,
    *,
    kind: str = Person.Kind.COUNCILLOR,
    user=None,
    with_user: bool = True,
    seat_number: int | None = None,
    **kw,
) -> Person:
    n = next(_seq)
    if with_user and user is None:
        user = make_user(f"{kind}{n}")
    defaults = dict(
        family_name=f"山田{n}", given_name="太郎", family_name_kana="やまだ", given_name_kana="たろう"
    )
    defaults.update(kw)
    return Person.objects.create(council=council, kind=kind, user=user, seat_number=seat_number, **defaults)


def make_body(council: Council, *, kind: str = Body.Kind.PLENARY, **kw) -> Body:
    defaults = dict(
        name=f"本会議{next(_seq)}" if kind == Body.Kind.PLENARY else f"総務常任委員会{next(_seq)}"
    )
    if kind != Body.Kind.PLENARY:
        defaults["seats"] = 5
    defaults.update(kw)
    return Body.objects.create(council=council, kind=kind, **defaults)


def make_membership(
    body: Body,
    person: Person,
    *,
    role: str = Membership.Role.MEMBER,
    start: datetime.date = datetime.date(2023, 5, 1),
    end=None,
) -> Membership:
    return Membership.objects.create(body=body, person=person, role=role, start=start, end=end)


def make_session(council: Council, **kw) -> Session:
    today = datetime.date.today()
    defaults = dict(
        kind=Session.Kind.REGULAR,
        year=today.year,
        number=next(_seq),
        start_date=today - datetime.timedelta(days=3),
        end_date=today + datetime.timedelta(days=10),
    )
    defaults.update(kw)
    return Session.objects.create(council=council, **defaults)


def make_sitting(session: Session, body: Body, **kw) -> Sitting:
    defaults = dict(
        number=next(_seq),
        date=session.start_date + datetime.timedelta(days=3),
        start_time=datetime.time(10, 0),
        place="議場",
    )
    defaults.update(kw)
    return Sitting.objects.create(session=session, body=body, **defaults)


def make_agenda_item(sitting: Sitting, **kw) -> AgendaItem:
    defaults = dict(
        position=sitting.agenda_items.count() + 1,
        kind=AgendaItem.Kind.BILL,
        title="町税条例の一部改正について",
    )
    defaults.update(kw)
    return AgendaItem.objects.create(sitting=sitting, **defaults)


def _make_people(council: Council, specs: list[dict], *, password: str) -> list[Person]:
    """People, each with a user account, in two inserts instead of two saves each; named and
    numbered as ``make_person`` names them. Creating a user or a person sends no signal work
    (``council.security.signals`` only compares changes to existing rows), and the password is
    hashed once for all of them by the caller (``password``: a valid hash of ``PASSWORD``; a dozen
    PBKDF2 hashes cost seconds where the real hashers are in use)."""
    User = get_user_model()
    people, users = [], []
    for spec in specs:
        spec = dict(spec)
        n = next(_seq)
        kind = spec.pop("kind", Person.Kind.COUNCILLOR)
        users.append(User(username=User.normalize_username(f"{kind}{n}"), password=password))
        defaults = dict(
            family_name=f"山田{n}", given_name="太郎", family_name_kana="やまだ", given_name_kana="たろう"
        )
        defaults.update(spec)
        people.append(Person(council=council, kind=kind, **defaults))
    User.objects.bulk_create(users)
    for person, user in zip(people, users, strict=True):
        person.user = user
    return Person.objects.bulk_create(people)


def make_small_council(*, councillors: int = 10, committee_remote: bool = True) -> dict:
    """A council with a plenary, one committee, a chair, clerks and an official, with users."""
    from django.contrib.auth.hashers import make_password

    password = make_password(PASSWORD)
    council = make_council(seats=councillors)
    plenary = make_body(council, kind=Body.Kind.PLENARY, name="本会議")
    committee = make_body(
        council,
        kind=Body.Kind.STANDING,
        name="総務常任委員会",
        seats=5,
        allows_remote_attendance=committee_remote,
    )
    *members, clerk, official = _make_people(
        council,
        [{"seat_number": i + 1} for i in range(councillors)]
        + [
            {"kind": Person.Kind.SECRETARIAT, "title": "事務局長"},
            {"kind": Person.Kind.OFFICIAL, "title": "町長"},
        ],
        password=password,
    )
    roles = Membership.Role
    start = datetime.date(2023, 5, 1)
    plenary_roles = [roles.CHAIR, roles.VICE_CHAIR] + [roles.MEMBER] * (len(members) - 2)
    committee_roles = [roles.CHAIR, roles.VICE_CHAIR, roles.MEMBER, roles.MEMBER, roles.MEMBER]
    Membership.objects.bulk_create(
        [
            Membership(body=plenary, person=p, role=r, start=start)
            for p, r in zip(members, plenary_roles, strict=True)
        ]
        + [
            Membership(body=committee, person=p, role=r, start=start)
            for p, r in zip(members[2:7], committee_roles, strict=False)
        ]
    )
    admin = get_user_model().objects.create(
        username="admin", email="admin@example.org", is_staff=True, is_superuser=True, password=password
    )
    session = make_session(council)
    sitting = make_sitting(session, plenary)
    return dict(
        council=council,
        plenary=plenary,
        committee=committee,
        members=members,
        clerk=clerk,
        official=official,
        admin=admin,
        session=session,
        sitting=sitting,
    )
