"""HTTP views of the voting area: the standalone console and member pages (the same panels the
live console and the reader include), the video-call page (Jitsi IFrame API from the body's own
server, with a page-specific CSP), and the endpoint where the console posts Jitsi join/leave
events as attendance suggestions for the clerk."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from council import jsoninput
from council.errors import DomainError, refusal_response
from meetings.models import Sitting
from meetings.permissions import can_follow
from meetings.voting import permissions
from meetings.voting.services import suggestions


def _sitting(sitting_id: int, user) -> Sitting:
    sitting = get_object_or_404(
        Sitting.objects.select_related("body", "body__council", "session"), pk=sitting_id
    )
    if not can_follow(user, sitting):
        raise Http404  # the same answer for "missing" and "forbidden"
    return sitting


@login_required
def console(request, sitting_id: int):
    sitting = _sitting(sitting_id, request.user)
    if not permissions.can_chair(request.user, sitting):
        raise Http404
    return render(request, "meetings/voting/console.html", {"sitting": sitting})


@login_required
def member(request, sitting_id: int):
    sitting = _sitting(sitting_id, request.user)
    return render(request, "meetings/voting/member.html", {"sitting": sitting})


def room_name(sitting: Sitting) -> str:
    """One room per sitting, not guessable from the sitting's number."""
    tag = hmac.new(
        settings.SECRET_KEY.encode(), f"sitting-{sitting.pk}".encode(), hashlib.sha256
    ).hexdigest()[:16]
    return f"gikai-{sitting.pk}-{tag}"


@login_required
@xframe_options_sameorigin
def video(request, sitting_id: int):
    sitting = _sitting(sitting_id, request.user)
    server = sitting.body.jitsi_server
    if not server:
        raise Http404
    parts = urlsplit(server)
    origin = f"{parts.scheme}://{parts.netloc}"
    person = permissions.person_of(request.user)
    name = str(person) if person else request.user.get_username()
    if person and person.seat_number:
        name = f"{person.seat_number}番 {person.full_name}"
    config = {
        "domain": parts.netloc,
        "script": f"{origin}/external_api.js",
        "room": room_name(sitting),
        "displayName": name,
        "suggest": permissions.can_keep_roll(request.user, sitting),
    }
    response = render(request, "meetings/voting/video.html", {"sitting": sitting, "config": config})
    # This page alone may run the conferencing server's IFrame API and frame it.
    response["Content-Security-Policy"] = (
        f"default-src 'self'; script-src 'self' {origin}; style-src 'self'; img-src 'self' data: {origin}; "
        f"connect-src 'self' {origin} wss://{parts.netloc}; frame-src {origin}; object-src 'none'; "
        f"base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
    )
    response["Permissions-Policy"] = f'camera=(self "{origin}"), microphone=(self "{origin}")'
    return response


SUGGESTION = jsoninput.validator(
    {
        "properties": {"event": {"type": "string", "maxLength": 20}, "display_name": {"type": "string"}},
        "required": ["event"],
    }
)


@login_required
@require_POST
def suggest(request, sitting_id: int):
    """The console's video page (``static/js/voting/video.js``) reports a join or leave; the
    clerk decides later."""
    sitting = _sitting(sitting_id, request.user)
    if not permissions.can_keep_roll(request.user, sitting):
        return JsonResponse({"error": "forbidden"}, status=403)
    try:
        data = jsoninput.parse(request.body, SUGGESTION)
        suggestion = suggestions.suggestion_add(
            sitting=sitting,
            event=data["event"],
            display_name=data.get("display_name", "")[:100],
            by=request.user,
        )
    except DomainError as exc:  # a body that does not fit, or a refusal of the roll
        return refusal_response(exc)
    return JsonResponse({"id": suggestion.pk, "person": suggestion.person_id})
