"""Public tables and exports, as an anonymous visitor: only published matters, only public votes,
never a secret ballot's names; the committee report PDF; the Atom feed."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import jsonschema
import pytest
from django.test import Client

from council.errors import Refused
from meetings.matters import rules, services
from meetings.voting.models import Ballot
from tests.matters.conftest import matters_world, open_sitting, submit_bill, take_vote
from tests.shared_data import built_once, fresh_copy

pytestmark = pytest.mark.django_db

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "matters.schema.json").read_text())


@pytest.fixture(scope="module")
def _decided_once(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once for the module (tests/shared_data.py): real votes through the services cost
    about a second a test."""
    from django.utils import translation

    from tests import factories

    with built_once(django_db_blocker, tmp_path_factory.mktemp("decided")), translation.override("en"):
        world = matters_world(factories.make_small_council())
        yield _decide(world, lambda **kw: submit_bill(world, **kw))


@pytest.fixture
def decided(db, _decided_once):
    return fresh_copy(_decided_once)


def _decide(world, submit):
    """Three matters decided in the plenary: a roll call, a secret ballot, a standing vote; one
    unpublished matter; and one vote in a closed sitting (秘密会 item)."""
    clerk, members = world["clerk_user"], world["members"]
    sitting = world["plenary1"]
    named = submit(title="手数料条例の一部を改正する条例")
    secret = submit(kind="consent", title="副町長の選任につき同意を求めることについて")
    standing = submit(title="町道路線の認定について")
    hidden = submit(title="未公開の議案")
    for matter in (named, secret, standing, hidden):
        services.matter_place(actor=clerk, matter=matter, sitting=sitting)
        services.matter_step_record(actor=clerk, matter=matter, kind=rules.REFERRAL_OMITTED, sitting=sitting)
    open_sitting(sitting, members, clerk)
    take_vote(
        motion=services.matter_motion_create(actor=clerk, matter=named, sitting=sitting),
        people=members,
        clerk_user=clerk,
        method="roll_call",
        yes=6,
    )
    take_vote(
        motion=services.matter_motion_create(actor=clerk, matter=secret, sitting=sitting),
        people=members,
        clerk_user=clerk,
        secret=True,
        yes=5,
    )
    take_vote(
        motion=services.matter_motion_create(actor=clerk, matter=standing, sitting=sitting),
        people=members,
        clerk_user=clerk,
        method="standing",
        yes=9,
    )
    take_vote(
        motion=services.matter_motion_create(actor=clerk, matter=hidden, sitting=sitting),
        people=members,
        clerk_user=clerk,
        method="roll_call",
        yes=9,
    )
    for matter in (named, secret, standing):
        services.matter_publish(actor=clerk, matter=matter)
    return dict(world, named=named, secret=secret, standing=standing, hidden=hidden)


def test_matters_results_page_shows_published_matters_only(decided):
    client = Client()
    session = decided["session"]
    page = client.get(f"/meetings/matters/sessions/{session.pk}/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "手数料条例の一部を改正する条例" in page and "原案可決" in page and "同意" in page
    assert "未公開の議案" not in page
    assert "議案第1号" in page
    index = client.get("/meetings/matters/").content.decode()
    assert session.title in index or session.title_en in index


def test_matters_votes_page_names_only_roll_calls(decided):
    client = Client()
    session = decided["session"]
    page = client.get(f"/meetings/matters/sessions/{session.pk}/votes/").content.decode()
    members = decided["members"]
    assert members[3].full_name in page  # a column per member
    assert page.count('title="Against">●') + page.count('title="反対">●') == 3  # the roll call's three noes
    data = client.get(f"/meetings/matters/sessions/{session.pk}/votes.json").json()
    jsonschema.validate(data, {"$ref": "#/$defs/votes", "$defs": SCHEMA["$defs"]})
    by_matter = {v["matter"]: v for v in data["votes"]}
    assert set(by_matter) == {"議案第1号", "同意第1号", "議案第2号"}  # not the unpublished 議案第3号
    named = by_matter["議案第1号"]
    assert named["named"] and named["counts"] == {"yes": 6, "no": 3}
    choices = {v["member"]: v["choice"] for v in named["votes"]}
    ballots = dict(Ballot.objects.filter(poll_id=named["poll"]).values_list("member_id", "choice"))
    assert {k: v for k, v in choices.items() if v != "chair"} == ballots
    assert choices[members[0].pk] == "chair"
    secret = by_matter["同意第1号"]
    assert not secret["named"] and "votes" not in secret and secret["counts"] == {"yes": 5, "no": 4}
    assert not by_matter["議案第2号"]["named"]
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(f"/meetings/matters/sessions/{session.pk}/votes.csv").content.decode("utf-8-sig")
            )
        )
    )
    header, lines = rows[0], {r[0]: r for r in rows[1:]}
    seat4 = header.index(members[3].full_name)
    assert lines["議案第1号"][seat4] in ("賛成", "反対")
    assert lines["同意第1号"][7:] == [""] * len(header[7:])  # nothing from a secret ballot but totals


def test_matters_closed_session_and_private_sitting_votes_are_not_public(decided):
    from meetings.models import Sitting

    client = Client()
    session = decided["session"]
    Sitting.objects.filter(pk=decided["plenary1"].pk).update(is_public=False)
    data = client.get(f"/meetings/matters/sessions/{session.pk}/votes.json").json()
    assert data["votes"] == []


def test_matters_results_exports_follow_the_schema(decided):
    client = Client()
    session = decided["session"]
    data = client.get(f"/meetings/matters/sessions/{session.pk}/results.json").json()
    jsonschema.validate(data, SCHEMA)
    assert [m["label"] for m in data["matters"]] == ["議案第1号", "議案第2号", "同意第1号"]
    assert data["matters"][0]["resultLabel"] == "原案可決"
    text = client.get(f"/meetings/matters/sessions/{session.pk}/results.csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "番号" and rows[1][:2] == ["議案第1号", "手数料条例の一部を改正する条例"]
    assert "未公開の議案" not in text


def test_matters_unpublished_things_are_not_found(decided):
    client = Client()
    assert client.get(f"/meetings/matters/{decided['hidden'].pk}/").status_code == 404
    assert client.get(f"/meetings/matters/{decided['named'].pk}/").status_code == 200
    from meetings.matters.models import Matter

    Matter.objects.filter(session=decided["session"]).update(published_at=None)
    assert client.get(f"/meetings/matters/sessions/{decided['session'].pk}/").status_code == 404
    assert client.get(f"/meetings/matters/sessions/{decided['session'].pk}/results.csv").status_code == 404


def test_matters_public_matter_page_shows_its_road_and_votes(decided):
    client = Client()
    page = client.get(f"/meetings/matters/{decided['named'].pk}/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    for text in ("上程", "委員会付託省略", "採決", "原案可決", "記名投票"):
        assert text in page, text


def test_matters_atom_feed_lists_new_matters_and_decisions(decided):
    body = Client().get("/meetings/matters/feed/").content.decode()
    assert body.startswith("<?xml") and "http://www.w3.org/2005/Atom" in body
    assert "議案第1号 手数料条例の一部を改正する条例: 原案可決" in body
    assert "未公開の議案" not in body


def test_matters_standing_vote_names_only_when_recorded_and_the_council_publishes_them(decided):
    from meetings.matters.models import MatterSettings
    from meetings.voting.models import Poll

    clerk, members = decided["clerk_user"], decided["members"]
    session = decided["session"]
    standing = Poll.objects.get(motion__matter_link__matter=decided["standing"])
    secret = Poll.objects.get(motion__matter_link__matter=decided["secret"])
    entitled = [m for m in members if m.pk in standing.entitled]
    with pytest.raises(Refused, match="do not match the count"):
        services.counted_names_record(actor=clerk, poll=standing, yes_members=entitled[:8])
    with pytest.raises(Refused, match="only for standing and show-of-hands"):
        services.counted_names_record(actor=clerk, poll=secret, yes_members=[])
    services.counted_names_record(actor=clerk, poll=standing, yes_members=entitled)  # 9 of 9 stood
    with pytest.raises(Refused, match="already recorded"):
        services.counted_names_record(actor=clerk, poll=standing, yes_members=entitled)

    def vote(label):
        data = Client().get(f"/meetings/matters/sessions/{session.pk}/votes.json").json()
        return {v["matter"]: v for v in data["votes"]}[label]

    assert not vote("議案第2号")["named"]  # recorded, but the council does not publish them
    MatterSettings.objects.create(council=session.council, publish_counted_names=True)
    named = vote("議案第2号")
    assert named["named"] and {v["member"] for v in named["votes"] if v["choice"] == "yes"} == {
        m.pk for m in entitled
    }
    assert not vote("同意第1号")["named"] and "votes" not in vote("同意第1号")


def test_matters_clerk_records_names_from_the_matter_page(decided):
    from meetings.matters.models import CountedName
    from meetings.voting.models import Poll

    clerk = Client()
    clerk.force_login(decided["clerk_user"])
    matter = decided["standing"]
    standing = Poll.objects.get(motion__matter_link__matter=matter)
    page = clerk.get(f"/meetings/matters/manage/{matter.pk}/").content.decode()
    assert 'name="action" value="names"' in page
    response = clerk.post(
        f"/meetings/matters/manage/{matter.pk}/act/",
        {"action": "names", "poll": standing.pk, "yes": standing.entitled},
    )
    assert response.status_code == 302
    assert CountedName.objects.filter(poll=standing, choice="yes").count() == 9


def test_matters_public_page_lists_only_public_released_documents(decided, tmp_path):
    from bench.support.hostile_pdfs import valid
    from documents.models import Document
    from documents.services import document_create

    clerk = decided["clerk_user"]
    pdf = tmp_path / "a.pdf"
    pdf.write_bytes(valid())
    public = document_create(
        body=decided["plenary"],
        title="議案書(公開)",
        path=pdf,
        original_name="a.pdf",
        actor=clerk,
        visibility=Document.Visibility.PUBLIC,
        release_now=True,
    )
    members_only = document_create(
        body=decided["plenary"],
        title="議員限り資料",
        path=pdf,
        original_name="b.pdf",
        actor=clerk,
        visibility=Document.Visibility.MEMBERS,
        release_now=True,
    )
    draft = document_create(
        body=decided["plenary"],
        title="未公開の資料",
        path=pdf,
        original_name="c.pdf",
        actor=clerk,
        visibility=Document.Visibility.PUBLIC,
    )
    for document in (public, members_only, draft):
        services.matter_document_add(actor=clerk, matter=decided["named"], document=document)
    page = Client().get(f"/meetings/matters/{decided['named'].pk}/").content.decode()
    assert "議案書(公開)" in page
    assert "議員限り資料" not in page and "未公開の資料" not in page
