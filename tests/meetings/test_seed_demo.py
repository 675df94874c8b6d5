"""seed_demo builds the demo council and is idempotent."""

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.forms.models import model_to_dict

from council.models import AuditEntry, Body, Caucus, Council, Membership, Person
from meetings.management.commands.seed_demo import DEMO_STEPS
from meetings.models import AgendaItem, Session, Sitting

MODELS = [Council, Caucus, Person, Body, Membership, Session, Sitting, AgendaItem, User, AuditEntry]


def state():
    return {
        m.__name__: sorted((model_to_dict(o) | {"pk": o.pk} for o in m.objects.all()), key=lambda d: d["pk"])
        for m in MODELS
    }


@pytest.fixture
def seeded(db, settings):
    settings.DEMO = True
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.mark.slow  # the whole demo: every area's step, PDFs rendered and ingested
def test_demo_seed(seeded):
    """One seeding for all checks: the full seed_demo runs every area's step (documents render PDFs)."""
    check_council()
    check_session_and_sittings()
    check_second_run_changes_nothing()


def check_council():
    council = Council.objects.get(name="磐梯町議会")
    assert council.seats == 10
    councillors = Person.objects.filter(council=council, kind="councillor")
    assert sorted(councillors.values_list("seat_number", flat=True)) == list(range(1, 11))
    assert all(p.family_name_kana and p.given_name_kana for p in councillors)
    assert Caucus.objects.filter(council=council).count() >= 2
    plenary = Body.objects.get(council=council, kind="plenary")
    assert Membership.objects.get(body=plenary, role="chair").person.user.username == "giin01"
    assert Membership.objects.get(body=plenary, role="vice_chair").person.user.username == "giin02"
    committees = Body.objects.filter(council=council, kind="standing")
    assert committees.count() == 2
    remote = committees.get(allows_remote_attendance=True)
    assert Membership.objects.get(body=remote, role="chair").person.user.username == "giin03"
    titles = set(Person.objects.exclude(kind="councillor").values_list("title", flat=True))
    assert {"事務局長", "書記", "町長", "副町長", "総務課長"} <= titles
    for username in ["admin", "jimukyokucho", "shoki", "chocho", "kacho"] + [
        f"giin{n:02d}" for n in range(1, 11)
    ]:
        assert User.objects.get(username=username).check_password("demo"), username
    assert User.objects.get(username="admin").is_superuser
    assert Person.objects.get(user__username="jimukyokucho").kind == "secretariat"
    assert Person.objects.get(user__username="chocho").kind == "official"


def check_session_and_sittings():
    from django.utils import timezone

    session = Session.objects.get(number=4)  # the current session (matters add a past one, 第3回)
    assert session.title.endswith("第4回定例会")
    assert session.start_date <= timezone.localdate() <= session.end_date
    plenary_sitting = Sitting.objects.get(session=session, body__kind="plenary")
    committee_sitting = Sitting.objects.get(session=session, body__allows_remote_attendance=True)
    assert plenary_sitting.number == 1 and plenary_sitting.agenda_published_at
    bills = list(plenary_sitting.agenda_items.filter(kind="bill").values_list("bill_number", "title"))
    assert ("議案第45号", "磐梯町税条例の一部を改正する条例") in bills
    assert plenary_sitting.agenda_items.first().title == "会議録署名議員の指名"
    assert committee_sitting.agenda_items.exists()
    assert all(item.title_en for item in AgendaItem.objects.filter(sitting__session=session))


def check_second_run_changes_nothing():
    before = state()
    call_command("seed_demo", stdout=io.StringIO())
    assert state() == before


def test_without_demo_mode_passwords_are_unusable(db, settings):
    from council import demo

    settings.DEMO = False
    out = io.StringIO()
    demo.seed(stdout=out)
    assert not User.objects.get(username="giin01").has_usable_password()
    assert "no usable password" in out.getvalue()


def test_steps_contract():
    assert DEMO_STEPS[:2] == ["council.demo", "meetings.demo"]
