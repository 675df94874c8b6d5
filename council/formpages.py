"""The shape every clerk form page shares: validate, call one service, show its refusal beside the
field it names (or above the form), else say it is done and go on.

    return form_page(request, form, template="council/person_form.html",
                     save=lambda data: services.person_save(actor=request.user, council=council, **data),
                     success=_("Saved."), redirect_to="council:people", instance=person)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.forms import Form
from django.http import HttpResponse
from django.shortcuts import redirect, render

from council.errors import Refused


def refuse(form: Form, exc: Refused) -> None:
    """Show a service's refusal on the form, beside the field it names when the form has it."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def form_page(
    request,
    form: Form,
    *,
    template: str,
    save: Callable[[dict], Any],
    success: str | Callable[[Any], str],
    redirect_to: str | Callable[[Any], str],
    context: dict | None = None,
    instance=None,
) -> HttpResponse:
    """GET shows the form. A valid POST calls ``save(cleaned_data)`` (one service); then the
    ``success`` message is shown and the user is sent to ``redirect_to`` (a URL or URL name;
    callables get what ``save`` returned). A refusal or an invalid form is shown again with status
    400, with ``instance`` re-read so the page shows what is stored, not what was refused."""
    if request.method == "POST" and form.is_valid():
        try:
            result = save(form.cleaned_data)
        except Refused as exc:
            refuse(form, exc)
        else:
            messages.success(request, success(result) if callable(success) else success)
            return redirect(redirect_to(result) if callable(redirect_to) else redirect_to)
    if request.method == "POST" and instance is not None:
        instance.refresh_from_db()
    return render(request, template, {**(context or {}), "form": form}, status=400 if form.errors else 200)
