"""Pages of live sessions: who may open the console, the public view and the chamber display."""

from __future__ import annotations

import pytest

from meetings.live.views import livestream_embed
from meetings.models import Sitting

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_console_for_the_clerk_and_the_chair_only(client, org):
    url = f"/meetings/sittings/{org['sitting'].pk}/console/"
    assert client.get(url).status_code == 302  # sign in first
    client.force_login(org["members"][4].user)
    assert client.get(url).status_code == 404  # same as a missing sitting
    client.force_login(org["members"][0].user)  # the chair
    assert client.get(url).status_code == 200
    client.force_login(org["clerk"].user)
    response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert "js/live/console.js" in body and 'id="live-config"' in body
    assert "meetings/voting" in body or "voting-console" in body  # the voting panel is included
    assert "<script>" not in body  # no inline scripts under the strict CSP
    assert client.get("/meetings/sittings/999999/console/").status_code == 404


def test_public_view_and_display_need_no_sign_in_but_a_public_sitting(client, org):
    sitting = org["sitting"]
    for name in ("public", "display"):
        response = client.get(f"/meetings/sittings/{sitting.pk}/{name}/")
        assert response.status_code == 200
        assert f"/ws/public/sittings/{sitting.pk}/" in response.content.decode()
    Sitting.objects.filter(pk=sitting.pk).update(is_public=False)
    assert client.get(f"/meetings/sittings/{sitting.pk}/public/").status_code == 404


def test_public_view_embeds_a_youtube_livestream(client, org):
    Sitting.objects.filter(pk=org["sitting"].pk).update(
        livestream_url="https://www.youtube.com/watch?v=abc_DEF-123"
    )
    body = client.get(f"/meetings/sittings/{org['sitting'].pk}/public/").content.decode()
    assert "https://www.youtube-nocookie.com/embed/abc_DEF-123" in body


def test_livestream_embed_urls():
    assert livestream_embed("https://youtu.be/xyz123") == "https://www.youtube-nocookie.com/embed/xyz123"
    assert (
        livestream_embed("https://www.youtube.com/live/xyz123")
        == "https://www.youtube-nocookie.com/embed/xyz123"
    )
    assert livestream_embed("http://www.youtube.com/watch?v=x") == ""  # https only
    assert livestream_embed("https://www.youtube.com/watch?v=<script>") == ""
    assert livestream_embed("") == ""


def test_sitting_page_links_to_the_console_for_the_clerk(client, org):
    client.force_login(org["clerk"].user)
    body = client.get(f"/meetings/sittings/{org['sitting'].pk}/").content.decode()
    assert f"/meetings/sittings/{org['sitting'].pk}/console/" in body
    client.force_login(org["members"][4].user)
    body = client.get(f"/meetings/sittings/{org['sitting'].pk}/").content.decode()
    assert "/console/" not in body
    assert f"/meetings/sittings/{org['sitting'].pk}/public/" in body


def test_reader_page_carries_the_follow_bar(client, org):
    client.force_login(org["members"][4].user)
    body = client.get(f"/meetings/sittings/{org['sitting'].pk}/reader/").content.decode()
    assert 'id="live-bar"' in body and "js/live/follow.js" in body
    # The follow script comes before the voting panel's, so the panel shares the live socket.
    assert body.index("js/live/follow.js") < body.index("js/voting/panel.js")


def test_console_script_comes_before_the_voting_panel(client, org):
    client.force_login(org["clerk"].user)
    body = client.get(f"/meetings/sittings/{org['sitting'].pk}/console/").content.decode()
    assert body.index("js/live/console.js") < body.index("js/voting/panel.js")


def test_console_connected_label_reads_as_connected_not_connecting(client, org):
    """#12: 「接続中」 reads as "connecting"; the console says 接続済み once connected."""
    client.cookies["django_language"] = "ja"
    client.force_login(org["clerk"].user)
    body = client.get(f"/meetings/sittings/{org['sitting'].pk}/console/").content.decode()
    assert 'data-msg-connected="接続済み"' in body
    assert "接続中" not in body
