"""Voting pages, the video-call page's own CSP, and Jitsi suggestions that never touch the roll."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from council.models import Body
from meetings.attendance.models import Attendance, AttendanceSuggestion
from meetings.voting.services import suggestions
from tests.voting.conftest import make_remote

pytestmark = pytest.mark.django_db


def test_console_for_chair_and_clerk_only(client, committee):
    url = reverse("meetings:voting:console", args=[committee["sitting"].pk])
    client.force_login(committee["people"][3].user)
    assert client.get(url).status_code == 404
    client.force_login(committee["clerk_user"])
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-voting-panel="console"' in html and "js/voting/panel.js" in html and "<script>" not in html


def test_member_page_shows_the_tablet_panel(client, committee):
    client.force_login(committee["people"][3].user)
    page = client.get(reverse("meetings:voting:member", args=[committee["sitting"].pk]))
    assert page.status_code == 200 and 'data-voting-panel="reader"' in page.content.decode()
    client.force_login(committee["members"][9].user)  # not on this committee
    assert client.get(reverse("meetings:voting:member", args=[committee["sitting"].pk])).status_code == 404


def test_video_page_loads_the_bodys_own_jitsi(client, committee):
    url = reverse("meetings:voting:video", args=[committee["sitting"].pk])
    client.force_login(committee["people"][3].user)
    assert client.get(url).status_code == 404  # no Jitsi server configured
    Body.objects.filter(pk=committee["committee"].pk).update(jitsi_server="https://meet.example.jp/")
    page = client.get(url)
    assert page.status_code == 200
    csp = page["Content-Security-Policy"]
    assert "script-src 'self' https://meet.example.jp;" in csp and "frame-ancestors 'self'" in csp
    config = json.loads(
        page.content.decode()
        .split('id="voting-video-config" type="application/json">')[1]
        .split("</script>")[0]
    )
    assert config["script"] == "https://meet.example.jp/external_api.js" and config["suggest"] is False
    assert config["room"].startswith(f"gikai-{committee['sitting'].pk}-")


def test_jitsi_events_are_only_suggestions(client, committee):
    s, person = committee["sitting"], committee["people"][4]
    make_remote(
        s, person, chair_user=committee["chair_user"], clerk_user=committee["clerk_user"], check_in=False
    )
    url = reverse("meetings:voting:suggest", args=[s.pk])
    client.force_login(person.user)
    assert client.post(url, data="{}", content_type="application/json").status_code == 403
    client.force_login(committee["clerk_user"])
    name = f"{person.seat_number}番 {person.full_name}"
    reply = client.post(
        url, data=json.dumps({"event": "joined", "display_name": name}), content_type="application/json"
    )
    assert reply.status_code == 200 and reply.json()["person"] == person.pk
    assert not Attendance.objects.filter(sitting=s, person=person, status="present_online").exists()
    suggestion = AttendanceSuggestion.objects.get()
    suggestions.suggestion_decide(suggestion=suggestion, accept=True, by=committee["clerk_user"])
    assert Attendance.objects.get(sitting=s, person=person).status == "present_online"
