"""The start page. Meeting and document pages live in their apps."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from council import permissions, services
from council.errors import Refused


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


@login_required
@require_POST
def text_size(request):
    """The member's larger-text setting, from the bar on every page and from the start page."""
    person = permissions.person_of(request.user)
    if person is None:
        raise Http404
    try:
        services.person_text_size_set(person=person, text_size=request.POST.get("text_size", ""),
                                      actor=request.user)
    except Refused as exc:
        if not request.POST.get("next"):
            return HttpResponseBadRequest(" ".join(exc.messages))
        messages.error(request, " ".join(exc.messages))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = "home"
    return redirect(target)
