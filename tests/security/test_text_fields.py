"""Hostile and unusual text: script in names, titles and notes is escaped on every page that shows
it; Japanese and unusual Unicode (combining marks, variation selectors, emoji, RTL) round-trips
exactly through the database, the audit chain and the pages."""

import html

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from council.audit import audit_record, audit_verify
from council.models import Caucus, Person
from meetings.models import AgendaItem
from tests import factories

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
ATTR = '" onmouseover="alert(2)'
ESCAPED = html.escape(SCRIPT)

UNUSUAL = {
    "variation selector (IVS)": "葛\U000e0100城",  # 葛󠄀: the 葛 with the 匕 form, a name-registry glyph
    "combining dakuten": "か\u3099さ\u3099",  # が ざ written as base + combining mark (not NFC-composed)
    "emoji with ZWJ and skin tone": "👩🏽\u200d⚖\ufe0f",
    "right-to-left": "مجلس\u200f",
    "bidi override": "abc\u202edcb",
    "halfwidth kana and 髙 (IBM extension)": "ｶﾀｶﾅ髙﨑",
    "astral CJK (Ext. B)": "𠮷野家",
}


@pytest.fixture
def hostile(org):
    councillor = org["members"][4]
    councillor.family_name = SCRIPT
    councillor.given_name = ATTR
    councillor.title = SCRIPT
    councillor.save()
    item = factories.make_agenda_item(
        org["sitting"], title=SCRIPT, bill_number=SCRIPT, description=f"{SCRIPT}\n{ATTR}"
    )
    org["sitting"].place = SCRIPT
    org["sitting"].agenda_published_at = timezone.now()
    org["sitting"].save()
    return dict(org, councillor=councillor, item=item)


def assert_escaped(response, where):
    body = response.content.decode()
    assert response.status_code == 200, f"{where}: {response.status_code}"
    assert SCRIPT not in body, f"raw script tag on {where}"
    assert 'onmouseover="alert(2)' not in body, f"attribute breakout on {where}"
    return body


def test_script_in_a_name_is_escaped_on_the_start_page(client, hostile):
    client.force_login(hostile["councillor"].user)
    body = assert_escaped(client.get("/"), "start page")
    assert ESCAPED in body  # shown, as text


def test_script_in_names_titles_and_notes_is_escaped_on_the_sitting_page(client, hostile):
    client.force_login(hostile["councillor"].user)
    url = reverse("meetings:sitting_detail", args=[hostile["sitting"].pk])
    body = assert_escaped(client.get(url), "sitting page")
    assert ESCAPED in body


def test_script_in_names_is_escaped_in_the_admin(client, hostile):
    client.force_login(hostile["admin"])
    person = hostile["councillor"]
    for url in (
        reverse("admin:council_person_changelist"),
        reverse("admin:council_person_change", args=[person.pk]),
        reverse("admin:meetings_agendaitem_changelist"),
        reverse("admin:meetings_agendaitem_change", args=[hostile["item"].pk]),
    ):
        assert_escaped(client.get(url), url)


def test_script_in_names_is_escaped_on_the_clerk_pages(client, hostile):
    client.force_login(hostile["clerk"].user)
    for url in (
        reverse("council:people"),
        reverse("council:body_detail", args=[hostile["committee"].pk]),
        reverse("council:person_edit", args=[hostile["councillor"].pk]),
    ):
        assert_escaped(client.get(url), url)


def test_nul_character_in_a_name_is_a_form_error_not_a_crash(client, org):
    """PostgreSQL cannot store NUL in text; the form must refuse it before the database does."""
    client.force_login(org["clerk"].user)
    people = Person.objects.count()
    response = client.post(
        reverse("council:person_create"),
        {
            "kind": "official",
            "family_name": "山田\x00",
            "given_name": "太郎",
            "family_name_kana": "やまだ",
            "given_name_kana": "たろう",
            "title": "課長",
        },
    )
    assert response.status_code == 400
    assert Person.objects.count() == people
    assert "errorlist" in response.content.decode() or 'role="alert"' in response.content.decode()


@pytest.mark.parametrize("label", list(UNUSUAL))
def test_unusual_unicode_round_trips_through_models_and_pages(client, org, label):
    text = UNUSUAL[label]
    person = org["members"][5]
    person.family_name = text
    person.given_name = "太郎"
    person.family_name_kana = text
    person.save()
    caucus = Caucus.objects.create(council=org["council"], name=f"会派{text}")
    item = factories.make_agenda_item(org["sitting"], title=f"議案 {text}", description=text)
    person.refresh_from_db()
    item.refresh_from_db()
    assert person.family_name == text  # byte-for-byte: no normalization on the way in or out
    assert person.family_name_kana == text
    assert Caucus.objects.get(pk=caucus.pk).name == f"会派{text}"
    assert AgendaItem.objects.get(pk=item.pk).title == f"議案 {text}"
    assert Person.objects.filter(family_name=text).count() == 1  # and searchable as itself
    with transaction.atomic():
        audit_record(action="test.unicode", target=person, data={"name": text})
    assert audit_verify().ok

    client.force_login(person.user)
    body = client.get("/").content.decode()
    assert text in body  # the signed-in person's own name in the header
    org["sitting"].agenda_published_at = timezone.now()
    org["sitting"].save()
    body = client.get(reverse("meetings:sitting_detail", args=[org["sitting"].pk])).content.decode()
    assert text in body
