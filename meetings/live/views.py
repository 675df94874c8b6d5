"""Pages of live sessions: the clerk console, the public view (傍聴) and the chamber display.

Thin: each view authorizes with ``meetings.live.permissions``, reads through the selectors and
renders. Everything live happens over the WebSocket (see docs/protocol.md).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from meetings.live import permissions, selectors
from meetings.models import Sitting


def _sitting(sitting_id: int) -> Sitting:
    sitting = Sitting.objects.select_related("session", "body", "body__council").filter(pk=sitting_id).first()
    if sitting is None:
        raise Http404("No such sitting")
    return sitting


def _document_urls() -> dict:
    from documents.reader import reader_config

    return reader_config()


@login_required
@require_GET
def console(request: HttpRequest, sitting_id: int) -> HttpResponse:
    """The secretariat's (or chair's) console for running a sitting."""
    sitting = _sitting(sitting_id)
    if not permissions.can_run(request.user, sitting):
        raise Http404("No such sitting")  # the same answer for "missing" and "not yours"
    config = {
        "ws": f"/ws/sittings/{sitting.pk}/",
        "sitting": sitting.pk,
        "me": request.user.pk,
        **_document_urls(),
    }
    return render(
        request,
        "meetings/live/console.html",
        {
            "sitting": sitting,
            "agenda": selectors.agenda_for(sitting=sitting),
            "documents": selectors.console_documents(sitting=sitting, user=request.user),
            "participants": selectors.participants(sitting=sitting),
            "config": config,
            "public_url": reverse("meetings:live:public", args=[sitting.pk]) if sitting.is_public else "",
        },
    )


def _public(request: HttpRequest, sitting_id: int, *, display: bool) -> HttpResponse:
    sitting = _sitting(sitting_id)
    if not permissions.can_watch_public(sitting):
        raise Http404("No such sitting")
    config = {"ws": f"/ws/public/sittings/{sitting.pk}/", "sitting": sitting.pk, **_document_urls()}
    return render(
        request,
        "meetings/live/public.html",
        {
            "sitting": sitting,
            "config": config,
            "display": display,
            "embed_url": livestream_embed(sitting.livestream_url) if not display else "",
        },
    )


@require_GET
def public_view(request: HttpRequest, sitting_id: int) -> HttpResponse:
    """傍聴: the current item and page of public documents, the speaker and declared results."""
    return _public(request, sitting_id, display=False)


@require_GET
def chamber_display(request: HttpRequest, sitting_id: int) -> HttpResponse:
    """The large screen in the chamber: the public view, full screen, large type."""
    return _public(request, sitting_id, display=True)


def livestream_embed(url: str) -> str:
    """An embeddable URL for a livestream link (YouTube watch/live links become embeds)."""
    from urllib.parse import parse_qs, urlparse

    if not url:
        return ""
    parsed = urlparse(url)
    if parsed.scheme != "https":
        return ""
    host = parsed.netloc.lower()
    if host in ("www.youtube.com", "youtube.com", "m.youtube.com"):
        if parsed.path == "/watch":
            video = parse_qs(parsed.query).get("v", [""])[0]
        elif parsed.path.startswith(("/live/", "/embed/")):
            video = parsed.path.rsplit("/", 1)[-1]
        else:
            return ""
        return (
            f"https://www.youtube-nocookie.com/embed/{video}"
            if video.replace("-", "").replace("_", "").isalnum()
            else ""
        )
    if host == "youtu.be":
        video = parsed.path.strip("/")
        return (
            f"https://www.youtube-nocookie.com/embed/{video}"
            if video.replace("-", "").replace("_", "").isalnum()
            else ""
        )
    return url
