"""Sign-in with an optional second factor, TOTP enrolment, and the lockout page."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import login as otp_login

from council.security import services

PENDING = "security.pending_sign_in"
MAX_CODE_ATTEMPTS = 5


class SignInView(auth_views.LoginView):
    """Password sign-in. With a confirmed TOTP device the session is not signed in yet:
    the password result waits in the session until the code is given."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        device = services.confirmed_device(user)
        if device is None:
            return super().form_valid(form)
        # Nothing signed-in lives in this session yet; a fresh key still stops fixation.
        self.request.session.cycle_key()
        self.request.session[PENDING] = {
            "user": user.pk,
            "backend": user.backend,
            "at": time.time(),
            "next": self.get_redirect_url(),
            "failures": 0,
        }
        return redirect("security:second_factor")


def _pending(request: HttpRequest) -> dict | None:
    data = request.session.get(PENDING)
    if not data or time.time() - data.get("at", 0) > settings.COUNCIL_SECOND_FACTOR_TIMEOUT_S:
        request.session.pop(PENDING, None)
        return None
    return data


@sensitive_post_parameters("token")
@csrf_protect
@never_cache
def second_factor(request: HttpRequest) -> HttpResponse:
    pending = _pending(request)
    if pending is None:
        messages.error(request, _("Your sign-in has expired. Sign in again."))
        return redirect(settings.LOGIN_URL)
    user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
    device = services.confirmed_device(user)
    if device is None:
        request.session.pop(PENDING, None)
        return redirect(settings.LOGIN_URL)
    error = ""
    if request.method == "POST":
        try:
            services.second_factor_verify(device=device, token=request.POST.get("token", ""))
        except services.SecurityError as exc:
            error = exc.text
            pending["failures"] = pending.get("failures", 0) + 1
            if pending["failures"] >= MAX_CODE_ATTEMPTS:
                request.session.pop(PENDING, None)
                messages.error(request, _("Too many wrong codes. Sign in again."))
                return redirect(settings.LOGIN_URL)
            request.session[PENDING] = pending
        else:
            request.session.pop(PENDING, None)
            auth_login(request, user, backend=pending["backend"])  # rotates the session key
            otp_login(request, device)
            target = pending.get("next") or ""
            if not url_has_allowed_host_and_scheme(
                target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            ):
                target = reverse(settings.LOGIN_REDIRECT_URL)
            return redirect(target)
    return render(request, "security/second_factor.html", {"error": error}, status=400 if error else 200)


@login_required
@sensitive_post_parameters("token")
@never_cache
def totp(request: HttpRequest) -> HttpResponse:
    """Enrol (or remove) the TOTP second factor of a secretariat account."""
    if not services.can_enrol(request.user):
        raise PermissionDenied(_("Only secretariat accounts can add a second factor."))
    confirmed = services.confirmed_device(request.user)
    error = ""
    if request.method == "POST":
        try:
            if request.POST.get("action") == "remove":
                services.totp_remove(user=request.user, token=request.POST.get("token", ""))
                messages.success(request, _("The second factor was removed."))
            else:
                device = services.totp_confirm(user=request.user, token=request.POST.get("token", ""))
                otp_login(request, device)
                messages.success(
                    request, _("The second factor is on. You will be asked for a code at each sign-in.")
                )
            return redirect("security:totp")
        except services.SecurityError as exc:
            error = exc.text
    context = {"confirmed": confirmed, "error": error}
    if confirmed is None:
        device = services.pending_device(user=request.user)
        context.update(secret=services.device_secret(device), qr=services.device_qr_data_uri(device))
    return render(request, "security/totp.html", context, status=400 if error else 200)


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change one's own password. Other sessions stop working and live sockets close (see signals)."""

    template_name = "security/password_change.html"

    def get_success_url(self):
        return reverse(settings.LOGIN_REDIRECT_URL)

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(
            self.request, _("Your password was changed. Other devices signed in as you are signed out.")
        )
        return response


def locked_out(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    """django-axes' lockout answer (its sync and async paths pass different arguments)."""
    minutes = round(float(settings.AXES_COOLOFF_TIME or 0) * 60)
    return render(request, "security/locked_out.html", {"minutes": minutes}, status=429)


def admin_login(request: HttpRequest, extra_context=None) -> HttpResponse:
    """The admin site signs in through the same page, so throttling and the second factor apply."""
    query = urlencode({"next": request.GET.get("next") or reverse("admin:index")})
    return redirect(f"{reverse(settings.LOGIN_URL)}?{query}")
