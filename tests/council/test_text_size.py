"""The member's larger-text setting: kept with the person, changed only by them, audited, and
put on every page's root element."""

from __future__ import annotations

import pytest
from django.test import Client

from council.errors import Refused
from council.models import AuditEntry, Person
from council.services import person_text_size_set


@pytest.fixture
def member(org):
    return org["members"][4]


def test_text_size_is_set_by_the_member_and_audited(member):
    before = AuditEntry.objects.count()
    person_text_size_set(person=member, text_size="large", actor=member.user)
    member.refresh_from_db()
    assert member.text_size == Person.TextSize.LARGE
    entry = AuditEntry.objects.order_by("-pk").first()
    assert AuditEntry.objects.count() == before + 1
    assert entry.action == "person.text_size" and entry.data == {"from": "standard", "to": "large"}
    # Setting the same size again changes nothing and writes nothing.
    person_text_size_set(person=member, text_size="large", actor=member.user)
    assert AuditEntry.objects.count() == before + 1


def test_text_size_refuses_an_unknown_size_and_another_person(org, member):
    with pytest.raises(Refused, match="文字の大きさを一覧から選んでください"):
        person_text_size_set(person=member, text_size="huge", actor=member.user)
    with pytest.raises(Refused, match="本人だけが変更できます"):
        person_text_size_set(person=member, text_size="large", actor=org["clerk"].user)
    member.refresh_from_db()
    assert member.text_size == "standard"


def test_text_size_toggle_from_the_bar_puts_the_class_on_every_page(member):
    client = Client()
    client.force_login(member.user)
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert 'class="text-standard"' in page
    assert 'aria-pressed="false"' in page and "大きな文字" in page
    response = client.post("/settings/text-size/", {"text_size": "large", "next": "/documents/"})
    assert response.status_code == 302 and response["Location"] == "/documents/"
    page = client.get("/documents/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert 'class="text-large"' in page and 'aria-pressed="true"' in page
    # Kept with the person: a new session (another device, the next sign-in) has it too.
    other = Client()
    other.force_login(member.user)
    assert 'class="text-large"' in other.get("/").content.decode()
    # An unsafe "next" goes to the start page instead.
    response = client.post("/settings/text-size/", {"text_size": "standard", "next": "https://evil.example/"})
    assert response["Location"] == "/"
    member.refresh_from_db()
    assert member.text_size == "standard"


def test_text_size_bad_input_is_refused_with_a_message(member):
    client = Client()
    client.force_login(member.user)
    response = client.post("/settings/text-size/", {"text_size": "huge"}, HTTP_ACCEPT_LANGUAGE="ja")
    assert response.status_code == 400
    assert "文字の大きさを一覧から選んでください。" in response.content.decode()
    member.refresh_from_db()
    assert member.text_size == "standard"
