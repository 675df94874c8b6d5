"""The start page. Meeting and document pages live in their apps."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from council import permissions


@login_required
def home(request):
    # The start page composes the apps like the URL routing does, so it may read meetings.
    from meetings.selectors import upcoming_sittings_for

    today = timezone.localdate()
    return render(request, "council/home.html", {
        "bodies": permissions.bodies_for(request.user),
        "sittings": upcoming_sittings_for(request.user, today=today),
        "today": today,
        "person": permissions.person_of(request.user),
    })
