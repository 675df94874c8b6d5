"""Clerk pages for bodies and people, including every refusal."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from council.models import AuditEntry, Body, Membership, Person
from tests.factories import make_user


@pytest.fixture
def clerk_client(client, org):
    client.force_login(org["clerk"].user)
    client.cookies["django_language"] = "ja"
    return client


def org_urls(org):
    m = Membership.objects.filter(body=org["committee"]).first()
    return [
        ("get", reverse("council:bodies")),
        ("get", reverse("council:body_create")),
        ("get", reverse("council:body_detail", args=[org["committee"].pk])),
        ("post", reverse("council:membership_add", args=[org["committee"].pk])),
        ("post", reverse("council:body_officer", args=[org["committee"].pk])),
        ("post", reverse("council:membership_end", args=[m.pk])),
        ("get", reverse("council:people")),
        ("get", reverse("council:person_create")),
        ("get", reverse("council:person_edit", args=[org["members"][0].pk])),
        ("post", reverse("council:people_import")),
    ]


@pytest.mark.parametrize("who", ["councillor", "chair", "official", "public"])
def test_org_pages_refuse_others(client, org, who):
    user = {
        "councillor": org["members"][5].user,
        "chair": org["members"][2].user,
        "official": org["official"].user,
        "public": make_user("citizen"),
    }[who]
    client.force_login(user)
    before = AuditEntry.objects.count()
    for method, url in org_urls(org):
        assert getattr(client, method)(url).status_code == 403, url
    assert AuditEntry.objects.count() == before


def test_org_pages_load_for_clerk_and_admin(client, org):
    for user in (org["clerk"].user, org["admin"]):
        client.force_login(user)
        for method, url in org_urls(org):
            if method == "get":
                response = client.get(url)
                assert response.status_code == 200, url


def test_anonymous_sent_to_sign_in(client, org):
    response = client.get(reverse("council:bodies"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


BODY = {
    "name": "議会運営委員会",
    "name_en": "Steering Committee",
    "kind": "steering",
    "seats": "4",
    "quorum_basis": "seats",
    "order": "3",
}


def test_create_body(clerk_client, org):
    response = clerk_client.post(reverse("council:body_create"), BODY)
    assert response.status_code == 302
    body = Body.objects.get(name="議会運営委員会")
    assert body.quorum() == 2
    assert AuditEntry.objects.filter(action="body.create", target_id=str(body.pk)).exists()


@pytest.mark.parametrize(
    "changes,expected",
    [
        ({"quorum_basis": "fixed", "quorum_fixed": "5"}, "定足数は会議体の定数を超えられません。"),
        ({"seats": "11"}, "委員会の定数は議員定数を超えられません。"),
        ({"seats": ""}, "委員会には定数が必要です。"),
        (
            {"kind": "plenary", "seats": "", "allows_remote_attendance": "on"},
            "本会議では、討論と表決へのオンライン出席は認められません。",
        ),
        ({"name": "総務常任委員会"}, "この名前の会議体はすでにあります。"),
    ],
)
def test_body_refusals(clerk_client, org, changes, expected):
    before = Body.objects.count()
    response = clerk_client.post(reverse("council:body_create"), {**BODY, **changes})
    assert response.status_code == 400
    assert expected in response.content.decode()
    assert Body.objects.count() == before


def test_edit_body_quorum_too_large_refused(clerk_client, org):
    committee = org["committee"]
    response = clerk_client.post(
        reverse("council:body_detail", args=[committee.pk]),
        {
            "name": committee.name,
            "kind": "standing",
            "seats": "5",
            "quorum_basis": "fixed",
            "quorum_fixed": "6",
            "order": "1",
        },
    )
    assert response.status_code == 400
    assert "定足数は会議体の定数を超えられません。" in response.content.decode()
    committee.refresh_from_db()
    assert committee.quorum_basis == "seats"


def test_committee_chair_must_be_member(clerk_client, org):
    committee, outsider = org["committee"], org["members"][9]
    response = clerk_client.post(
        reverse("council:body_officer", args=[committee.pk]),
        {"person": outsider.pk, "role": "chair", "on": "2026-11-27"},
    )
    assert response.status_code == 400
    assert "委員長・副委員長は委員会の委員でなければなりません。" in response.content.decode()
    assert Membership.objects.filter(body=committee, role="chair").get().person == org["members"][2]


def test_appoint_new_chair_keeps_history(clerk_client, org):
    committee, member = org["committee"], org["members"][4]
    on = datetime.date(2026, 11, 27)
    response = clerk_client.post(
        reverse("council:body_officer", args=[committee.pk]),
        {"person": member.pk, "role": "chair", "on": on.isoformat()},
    )
    assert response.status_code == 302
    chairs = Membership.objects.filter(body=committee, role="chair")
    assert chairs.active(on=on).get().person == member
    assert chairs.active(on=on - datetime.timedelta(days=1)).get().person == org["members"][2]
    assert (
        Membership.objects.filter(body=committee, person=org["members"][2]).active(on=on).get().role
        == "member"
    )


def test_add_member_and_refusals(clerk_client, org):
    committee = org["committee"]
    url = reverse("council:membership_add", args=[committee.pk])
    # the committee has 5 seats and 5 members
    response = clerk_client.post(
        url, {"person": org["members"][9].pk, "role": "member", "start": "2026-11-27"}
    )
    assert response.status_code == 400
    assert "その日、この委員会の定数はすでに埋まっています。" in response.content.decode()
    response = clerk_client.post(
        url, {"person": org["members"][2].pk, "role": "member", "start": "2026-11-27"}
    )
    assert response.status_code == 400
    assert "すでにこの会議体に所属しています" in response.content.decode()
    response = clerk_client.post(url, {"person": org["members"][9].pk, "role": "boss", "start": "2026-11-27"})
    assert response.status_code == 400
    assert Membership.objects.filter(body=committee).count() == 5


def test_end_membership(clerk_client, org):
    m = Membership.objects.get(body=org["committee"], person=org["members"][6])
    response = clerk_client.post(reverse("council:membership_end", args=[m.pk]), {"end": "2026-11-26"})
    assert response.status_code == 302
    m.refresh_from_db()
    assert m.end == datetime.date(2026, 11, 26)
    bad = clerk_client.post(
        reverse("council:membership_end", args=[m.pk]), {"end": "2000-01-01"}, follow=True
    )
    assert "所属の終了日は開始日より前にできません。" in bad.content.decode()


PERSON = {
    "kind": "councillor",
    "family_name": "新井",
    "given_name": "次郎",
    "family_name_kana": "あらい",
    "given_name_kana": "じろう",
    "active": "on",
}


def test_add_person_and_duplicate_seat(clerk_client, org):
    response = clerk_client.post(reverse("council:person_create"), {**PERSON, "seat_number": "1"})
    assert response.status_code == 400
    assert "この議席番号はすでに使われています。" in response.content.decode()
    assert not Person.objects.filter(family_name="新井").exists()
    response = clerk_client.post(reverse("council:person_create"), {**PERSON, "seat_number": ""})
    assert response.status_code == 302
    person = Person.objects.get(family_name="新井")
    assert AuditEntry.objects.filter(action="person.create", target_id=str(person.pk)).exists()


def test_seat_for_non_councillor_refused(clerk_client, org):
    response = clerk_client.post(
        reverse("council:person_create"), {**PERSON, "kind": "official", "seat_number": "12"}
    )
    assert response.status_code == 400
    assert "議席番号を持てるのは議員だけです。" in response.content.decode()


def test_edit_person_to_taken_seat_refused(clerk_client, org):
    person = org["members"][1]
    response = clerk_client.post(
        reverse("council:person_edit", args=[person.pk]),
        {**PERSON, "family_name": person.family_name, "seat_number": "1"},
    )
    assert response.status_code == 400
    person.refresh_from_db()
    assert person.seat_number == 2


def test_import_page(clerk_client, org):
    Person.objects.filter(kind="councillor").update(active=False)
    Person.objects.update(seat_number=None)
    good = "family_name,given_name,seat_number,kind,bodies\n新井,次郎,1,councillor,本会議\n"
    response = clerk_client.post(
        reverse("council:people_import"),
        {"file": SimpleUploadedFile("m.csv", good.encode("utf-8-sig")), "start": "2026-11-27"},
    )
    assert response.status_code == 302
    assert Person.objects.filter(family_name="新井", seat_number=1).exists()
    bad = "family_name,given_name,seat_number,kind\n上田,三郎,1,mayor\n"
    response = clerk_client.post(
        reverse("council:people_import"),
        {"file": SimpleUploadedFile("m.csv", bad.encode()), "start": "2026-11-27"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "2行目" in page and "不明な種別「mayor」" in page and "何も取り込んでいません" in page
    assert not Person.objects.filter(family_name="上田").exists()
