"""View decorators built on ``council.permissions``."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from council import permissions
from council.models import Council


def clerk_required(view):
    """Only the secretariat (or an administrator): others are sent to sign in, or refused (403)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not permissions.is_clerk(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def council_for(user) -> Council:
    """The council a user works for; an administrator without a person record gets the first one."""
    person = permissions.person_of(user)
    if person is not None:
        return person.council
    council = Council.objects.order_by("id").first()
    if council is None:
        raise PermissionDenied
    return get_object_or_404(Council, pk=council.pk)
