"""The second factor is required for secretariat and administrator accounts (production profile).

With ``COUNCIL_REQUIRE_SECOND_FACTOR`` on (the production default), such an account whose session
was not verified with a TOTP code can only reach the enrolment page (and sign out); its live
sockets are refused. Sign-in itself asks for the code of an enrolled device (views.SignInView), so
this sends an account without a device to enrol one before anything else.
"""

from __future__ import annotations

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django_otp import DEVICE_ID_SESSION_KEY

from council import permissions


def required_for(user) -> bool:
    return bool(
        getattr(settings, "COUNCIL_REQUIRE_SECOND_FACTOR", False)
        and user is not None
        and user.is_authenticated
        and permissions.is_clerk(user)
    )


def is_verified(user) -> bool:
    return bool(getattr(user, "is_verified", lambda: False)())


class SecondFactorRequiredMiddleware:
    """HTTP: an unverified secretariat or administrator session is sent to enrol a second factor."""

    open_names = ("security:totp", "logout", "set_language", "login", "security:second_factor")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if required_for(user) and not is_verified(user):
            open_paths = {reverse(name) for name in self.open_names}
            if request.path not in open_paths and not request.path.startswith(
                (settings.STATIC_URL, "/healthz")
            ):
                messages.warning(request, _("Your account needs a second factor. Add one to continue."))
                return redirect("security:totp")
        return self.get_response(request)


class SecondFactorWebSocketGuard:
    """WebSocket (inside AuthMiddlewareStack): refuse an unverified secretariat or administrator session."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if getattr(settings, "COUNCIL_REQUIRE_SECOND_FACTOR", False) and await self._refused(scope):
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 4403})
            return None
        return await self.app(scope, receive, send)

    @database_sync_to_async
    def _refused(self, scope) -> bool:
        user = scope.get("user")
        session = scope.get("session")
        if not required_for(user):
            return False
        return session is None or session.get(DEVICE_ID_SESSION_KEY) is None
