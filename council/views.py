"""The start page. Meeting and document pages live in their apps."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from council import permissions


@login_required
def home(request):
    # The start page composes the apps like the URL routing does, so it may read meetings.
    from meetings.selectors import sittings_in_session_for, upcoming_sittings_for

    today = timezone.localdate()
    in_session = sittings_in_session_for(request.user)
    sittings = [s for s in upcoming_sittings_for(request.user, today=today) if s not in in_session]
    return render(request, "council/home.html", {
        "bodies": permissions.bodies_for(request.user),
        "in_session": in_session,
        "today_sittings": [s for s in sittings if s.date == today],
        "sittings": [s for s in sittings if s.date != today],
        "today": today,
        "person": permissions.person_of(request.user),
    })
