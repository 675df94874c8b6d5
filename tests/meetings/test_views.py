"""Clerk pages for sessions, sittings and the order of business; the sitting page and the start page."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings import services
from meetings.models import AgendaItem, Session, Sitting
from tests.factories import make_agenda_item, make_user


@pytest.fixture
def clerk_client(client, org):
    client.force_login(org["clerk"].user)
    return client


def ja(client):
    client.cookies["django_language"] = "ja"
    return client


def en(client):
    client.cookies["django_language"] = "en"
    return client


CLERK_GETS = ["meetings:manage", "meetings:session_create"]


def clerk_urls(org):
    sitting = org["sitting"]
    item = make_agenda_item(sitting)
    return [
        ("get", reverse("meetings:manage")),
        ("get", reverse("meetings:session_create")),
        ("get", reverse("meetings:sitting_create", args=[org["session"].pk])),
        ("get", reverse("meetings:sitting_edit", args=[sitting.pk])),
        ("get", reverse("meetings:agenda_edit", args=[sitting.pk])),
        ("get", reverse("meetings:agenda_item_edit", args=[item.pk])),
        ("post", reverse("meetings:agenda_item_move", args=[item.pk])),
        ("post", reverse("meetings:agenda_item_delete", args=[item.pk])),
        ("post", reverse("meetings:agenda_reorder", args=[sitting.pk])),
        ("post", reverse("meetings:agenda_publish", args=[sitting.pk])),
        ("post", reverse("meetings:sitting_cancel", args=[sitting.pk])),
    ]


@pytest.mark.parametrize("who", ["councillor", "chair", "official", "public"])
def test_clerk_pages_refuse_others(client, org, who):
    user = {
        "councillor": org["members"][5].user,
        "chair": org["members"][0].user,
        "official": org["official"].user,
        "public": make_user("citizen"),
    }[who]
    client.force_login(user)
    for method, url in clerk_urls(org):
        assert getattr(client, method)(url).status_code == 403, url
    assert AgendaItem.objects.count() == 1 and Sitting.objects.get().status == "scheduled"


def test_clerk_pages_send_anonymous_to_sign_in(client, org):
    for method, url in clerk_urls(org):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


def test_clerk_and_admin_pages_load(client, org):
    for user in (org["clerk"].user, org["admin"]):
        client.force_login(user)
        for method, url in clerk_urls(org):
            if method == "get":
                assert client.get(url).status_code == 200, url


def test_create_session(clerk_client, org):
    response = clerk_client.post(
        reverse("meetings:session_create"),
        {"kind": "regular", "year": 2027, "number": 1, "start_date": "2027-03-01", "end_date": "2027-03-15"},
    )
    assert response.status_code == 302
    assert Session.objects.filter(year=2027, number=1).exists()


def test_create_session_bad_dates_and_duplicate(clerk_client, org):
    ja(clerk_client)
    response = clerk_client.post(
        reverse("meetings:session_create"),
        {"kind": "regular", "year": 2027, "number": 1, "start_date": "2027-03-15", "end_date": "2027-03-01"},
    )
    assert response.status_code == 400
    assert "会期の最終日は初日より前にできません。" in response.content.decode()
    session = org["session"]
    response = en(clerk_client).post(
        reverse("meetings:session_create"),
        {
            "kind": "regular",
            "year": session.year,
            "number": session.number,
            "start_date": "2027-03-01",
            "end_date": "2027-03-15",
        },
    )
    assert response.status_code == 400
    assert "already has a session with that number" in response.content.decode()
    assert Session.objects.count() == 1


def test_create_sitting_from_template(clerk_client, org):
    session = org["session"]
    response = clerk_client.post(
        reverse("meetings:sitting_create", args=[session.pk]),
        {
            "body": org["plenary"].pk,
            "number": 2,
            "date": session.start_date.isoformat(),
            "start_time": "10:00",
            "place": "議場",
            "is_public": "on",
            "template": "opening",
        },
    )
    sitting = Sitting.objects.get(session=session, number=2)
    assert response.status_code == 302 and response["Location"] == reverse(
        "meetings:agenda_edit", args=[sitting.pk]
    )
    assert [i.title for i in sitting.agenda_items.all()][:2] == ["会議録署名議員の指名", "会期の決定"]


@pytest.mark.parametrize(
    "lang,date_offset,expected",
    [
        ("ja", 30, "会議の日付は会期中"),
        ("en", -30, "The sitting must fall within its session"),
    ],
)
def test_create_sitting_outside_session_refused(clerk_client, org, lang, date_offset, expected):
    session = org["session"]
    clerk_client.cookies["django_language"] = lang
    response = clerk_client.post(
        reverse("meetings:sitting_create", args=[session.pk]),
        {
            "body": org["plenary"].pk,
            "number": 2,
            "start_time": "10:00",
            "place": "議場",
            "template": "opening",
            "date": (session.start_date + datetime.timedelta(days=date_offset)).isoformat(),
        },
    )
    assert response.status_code == 400
    assert expected in response.content.decode()
    assert not Sitting.objects.filter(number=2).exists()


def test_create_sitting_other_council_body_refused(clerk_client, org):
    from tests.factories import make_body, make_council

    other = make_body(make_council(name="別町議会"), kind="plenary", name="本会議")
    session = org["session"]
    response = ja(clerk_client).post(
        reverse("meetings:sitting_create", args=[session.pk]),
        {
            "body": other.pk,
            "number": 2,
            "date": session.start_date.isoformat(),
            "start_time": "10:00",
            "place": "議場",
        },
    )
    assert response.status_code == 400
    assert "この会議体は別の議会のものです。" in response.content.decode()
    assert not Sitting.objects.filter(number=2).exists()


def test_agenda_page_add_edit_move_delete_publish(clerk_client, org):
    sitting = org["sitting"]
    url = reverse("meetings:agenda_edit", args=[sitting.pk])
    for title in ("会議録署名議員の指名", "会期の決定"):
        assert clerk_client.post(url, {"kind": "other", "title": title}).status_code == 302
    bill = clerk_client.post(
        url, {"kind": "bill", "title": "磐梯町税条例の一部を改正する条例", "bill_number": "議案第45号"}
    )
    assert bill.status_code == 302
    items = list(sitting.agenda_items.order_by("position"))
    assert [i.position for i in items] == [1, 2, 3]
    page = clerk_client.get(url).content.decode()
    assert 'draggable="true"' in page and "data-reorder-url=" in page and "agenda_order.js" in page

    clerk_client.post(reverse("meetings:agenda_item_move", args=[items[2].pk]), {"direction": "up"})
    assert [i.title for i in sitting.agenda_items.order_by("position")][
        1
    ] == "磐梯町税条例の一部を改正する条例"

    edit = reverse("meetings:agenda_item_edit", args=[items[0].pk])
    assert (
        clerk_client.post(edit, {"kind": "signers", "title": "会議録署名議員の指名について"}).status_code
        == 302
    )
    clerk_client.post(reverse("meetings:agenda_item_delete", args=[items[1].pk]))
    assert [i.title for i in sitting.agenda_items.order_by("position")] == [
        "会議録署名議員の指名について",
        "磐梯町税条例の一部を改正する条例",
    ]

    response = clerk_client.post(reverse("meetings:agenda_publish", args=[sitting.pk]))
    assert response.status_code == 302
    sitting.refresh_from_db()
    assert sitting.agenda_published_at is not None and sitting.ical_sequence == 1


def test_drag_and_drop_endpoint(clerk_client, org):
    sitting = org["sitting"]
    a, b, c = (make_agenda_item(sitting, title=t) for t in "ABC")
    url = reverse("meetings:agenda_reorder", args=[sitting.pk])
    response = clerk_client.post(
        url, {"order": f"{c.pk},{a.pk},{b.pk}"}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 200 and response.json()["ok"]
    assert [i.title for i in sitting.agenda_items.order_by("position")] == ["C", "A", "B"]
    stale = clerk_client.post(url, {"order": f"{c.pk},{a.pk}"}, headers={"Accept": "application/json"})
    assert stale.status_code == 409 and stale.json()["error"]
    bad = clerk_client.post(url, {"order": "x,y"})
    assert bad.status_code == 400
    assert [i.title for i in sitting.agenda_items.order_by("position")] == ["C", "A", "B"]


@pytest.mark.parametrize(
    "data,lang,expected",
    [
        ({"kind": "bill", "title": "条例"}, "ja", "議案には番号が必要です"),
        ({"kind": "bill", "title": "   ", "bill_number": "議案第1号"}, "en", "This field is required."),
        ({"kind": "nonsense", "title": "x"}, "en", "Select a valid choice."),
    ],
)
def test_agenda_item_bad_input(clerk_client, org, data, lang, expected):
    clerk_client.cookies["django_language"] = lang
    response = clerk_client.post(reverse("meetings:agenda_edit", args=[org["sitting"].pk]), data)
    assert response.status_code == 400
    assert expected in response.content.decode()
    assert not AgendaItem.objects.exists()


def test_publish_empty_agenda_refused_with_message(clerk_client, org):
    response = ja(clerk_client).post(
        reverse("meetings:agenda_publish", args=[org["sitting"].pk]), follow=True
    )
    assert "日程のない議事日程は公開できません。" in response.content.decode()
    assert Sitting.objects.get().agenda_published_at is None


def test_sitting_edit_and_cancel(clerk_client, org):
    sitting = org["sitting"]
    url = reverse("meetings:sitting_edit", args=[sitting.pk])
    bad = ja(clerk_client).post(url, {"date": "2001-01-01", "start_time": "10:00", "place": "議場"})
    assert bad.status_code == 400 and "会議の日付は会期中" in bad.content.decode()
    assert Sitting.objects.get().date == sitting.date
    ok = clerk_client.post(url, {"date": sitting.date.isoformat(), "start_time": "13:30", "place": "議場"})
    assert ok.status_code == 302
    assert Sitting.objects.get().ical_sequence == 1
    clerk_client.post(reverse("meetings:sitting_cancel", args=[sitting.pk]))
    assert Sitting.objects.get().status == "cancelled"


# --- The sitting page and the start page ----------------------------------------------------


def test_member_sees_published_agenda_only(client, org):
    sitting = org["sitting"]
    make_agenda_item(sitting, title="磐梯町税条例の一部を改正する条例", bill_number="議案第45号")
    client.force_login(org["members"][5].user)
    page = ja(client).get(reverse("meetings:sitting_detail", args=[sitting.pk])).content.decode()
    assert "磐梯町税条例" not in page and "議事日程はまだ公開されていません。" in page
    home = client.get(reverse("home")).content.decode()
    assert "磐梯町税条例" not in home
    services.agenda_publish(actor=org["clerk"].user, sitting=sitting)
    page = client.get(reverse("meetings:sitting_detail", args=[sitting.pk])).content.decode()
    assert "日程第1" in page and "磐梯町税条例の一部を改正する条例" in page
    assert "議事日程を編集" not in page  # no clerk buttons for members


def test_clerk_sees_draft_and_actions(clerk_client, org):
    sitting = org["sitting"]
    make_agenda_item(sitting, title="下書きの議案")
    page = ja(clerk_client).get(reverse("meetings:sitting_detail", args=[sitting.pk])).content.decode()
    assert "下書きの議案" in page and "下書き: まだ議員に公開されていません" in page
    assert reverse("meetings:agenda_edit", args=[sitting.pk]) in page


def test_sitting_page_hidden_from_non_members(client, org):
    from tests.factories import make_sitting

    committee_sitting = make_sitting(org["session"], org["committee"])
    client.force_login(org["members"][9].user)  # not on the committee
    assert client.get(reverse("meetings:sitting_detail", args=[committee_sitting.pk])).status_code == 404
    client.force_login(make_user("citizen"))
    assert client.get(reverse("meetings:sitting_detail", args=[org["sitting"].pk])).status_code == 404
    client.logout()
    assert client.get(reverse("meetings:sitting_detail", args=[org["sitting"].pk])).status_code == 302


def test_sitting_links_registry(clerk_client, org):
    from meetings.views import SITTING_LINKS, SittingLink

    link = SittingLink("meetings:sitting_detail", "試しのボタン", lambda user, sitting: True)
    SITTING_LINKS.append(link)
    try:
        page = clerk_client.get(reverse("meetings:sitting_detail", args=[org["sitting"].pk])).content.decode()
        assert "試しのボタン" in page
    finally:
        SITTING_LINKS.remove(link)


def test_home_shows_upcoming_sittings_in_era_format(client, org, time_machine):
    # The clock is pinned three days before the sitting, so the page lists it on any real date.
    time_machine.move_to(datetime.datetime(2026, 11, 24, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo")), tick=False)
    sitting = org["sitting"]
    Sitting.objects.filter(pk=sitting.pk).update(date=datetime.date(2026, 11, 27))
    Session.objects.filter(pk=sitting.session_id).update(
        start_date=datetime.date(2026, 11, 20), end_date=datetime.date(2026, 12, 20)
    )
    make_agenda_item(
        sitting, title="会議録署名議員の指名", title_en="Nomination of members to sign the minutes"
    )
    services.agenda_publish(actor=org["clerk"].user, sitting=sitting)
    client.force_login(org["members"][3].user)
    page = ja(client).get(reverse("home")).content.decode()
    assert timezone.localdate() == datetime.date(2026, 11, 24)
    assert "令和8年11月27日(金)" in page
    assert "会議録署名議員の指名" in page and "日程第1" in page
    assert reverse("meetings:sitting_detail", args=[sitting.pk]) in page
    page_en = en(client).get(reverse("home")).content.decode()
    assert "Friday, 27 November 2026" in page_en
    assert "Item 1" in page_en and "Nomination of members to sign the minutes" in page_en


def test_home_for_every_role_loads(client, org):
    for user in (
        org["members"][0].user,
        org["clerk"].user,
        org["official"].user,
        org["admin"],
        make_user("x"),
    ):
        client.force_login(user)
        assert client.get(reverse("home")).status_code == 200
    client.logout()
    assert client.get(reverse("home")).status_code == 302


def test_session_dates_edit_and_refusal(clerk_client, org):
    session = org["session"]
    url = reverse("meetings:session_edit", args=[session.pk])
    assert clerk_client.get(url).status_code == 200
    bad = ja(clerk_client).post(
        url, {"start_date": session.start_date.isoformat(), "end_date": session.start_date.isoformat()}
    )
    assert bad.status_code == 400 and "この会期の会議がその期間の外になります。" in bad.content.decode()
    assert Session.objects.get().end_date == session.end_date
    later = session.end_date + datetime.timedelta(days=5)
    ok = clerk_client.post(url, {"start_date": session.start_date.isoformat(), "end_date": later.isoformat()})
    assert ok.status_code == 302 and Session.objects.get().end_date == later
    client_other = clerk_client
    client_other.force_login(org["members"][0].user)
    assert client_other.get(url).status_code == 403


def test_unpublish_and_edit_item_refusal(clerk_client, org):
    sitting = org["sitting"]
    item = make_agenda_item(sitting, title="元の件名")
    clerk_client.post(reverse("meetings:agenda_publish", args=[sitting.pk]))
    clerk_client.post(reverse("meetings:agenda_unpublish", args=[sitting.pk]))
    assert Sitting.objects.get().agenda_published_at is None
    bad = ja(clerk_client).post(
        reverse("meetings:agenda_item_edit", args=[item.pk]), {"kind": "bill", "title": "新"}
    )
    assert bad.status_code == 400 and "議案には番号が必要です" in bad.content.decode()
    assert AgendaItem.objects.get().title == "元の件名"


def test_sitting_number_counts_the_bodys_sittings_in_the_session(clerk_client, org):
    """#12: a new sitting's 第n号 counts the sittings of that body in that session, not all sittings."""
    from meetings.selectors import next_sitting_number
    from tests.factories import make_sitting

    session, plenary, committee = org["session"], org["plenary"], org["committee"]
    Sitting.objects.filter(pk=org["sitting"].pk).update(number=1)
    make_sitting(session, committee, number=1)
    make_sitting(session, committee, number=2)
    assert next_sitting_number(session=session, body=plenary) == 2  # the plenary has 第1号 only
    assert next_sitting_number(session=session, body=committee) == 3
    page = ja(clerk_client).get(reverse("meetings:sitting_create", args=[session.pk])).content.decode()
    assert 'name="number" value="2"' in page
    assert f"&quot;{committee.pk}&quot;: 3" in page and f"&quot;{plenary.pk}&quot;: 2" in page
    # Left blank, the number is the chosen body's next one.
    response = clerk_client.post(
        reverse("meetings:sitting_create", args=[session.pk]),
        {
            "body": committee.pk,
            "number": "",
            "date": session.start_date.isoformat(),
            "start_time": "13:00",
            "place": "第1委員会室",
        },
    )
    assert response.status_code == 302
    assert Sitting.objects.filter(session=session, body=committee).order_by("-number").first().number == 3


def test_favicon_linked_from_every_page_and_present(client, org):
    """#12: a favicon (SVG, with PNG fallbacks), linked from base.html and the standalone 404 page."""
    from django.contrib.staticfiles import finders
    from PIL import Image

    client.force_login(org["members"][4].user)
    for response in (client.get(reverse("home")), client.get("/no-such-page/")):
        page = response.content.decode()
        assert 'rel="icon" href="/static/favicon' in page
    assert "<svg" in open(finders.find("favicon.svg"), encoding="utf-8").read()
    assert Image.open(finders.find("favicon-32.png")).size == (32, 32)
    assert Image.open(finders.find("apple-touch-icon.png")).size == (180, 180)
