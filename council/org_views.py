"""Clerk pages for the organisation: bodies with their members and officers, people, CSV import."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from council import permissions, selectors, services
from council.decorators import clerk_required, council_for
from council.errors import Refused
from council.formpages import form_page, refuse
from council.forms import BodyForm, EndMembershipForm, ImportForm, MembershipForm, OfficerForm, PersonForm
from council.importing import ImportRefused, import_people
from council.models import Body, Membership, Person


@clerk_required
def bodies(request):
    council = council_for(request.user)
    today = timezone.localdate()
    listing = Body.objects.filter(council=council).annotate(
        members=Count(
            "memberships",
            filter=Q(memberships__start__lte=today)
            & (Q(memberships__end__isnull=True) | Q(memberships__end__gte=today)),
        )
    )
    return render(request, "council/bodies.html", {"council": council, "bodies": listing})


@clerk_required
def body_create(request):
    council = council_for(request.user)
    return form_page(
        request,
        BodyForm(request.POST or None, council=council),
        template="council/body_form.html",
        save=lambda data: services.body_save(actor=request.user, council=council, **data),
        success=lambda body: _("Created %(body)s.") % {"body": body.name},
        redirect_to=lambda body: reverse("council:body_detail", args=[body.pk]),
    )


def _body_page(request, body: Body, *, form=None, membership_form=None, officer_form=None, status=200):
    council = body.council
    memberships = selectors.body_memberships(body)
    return render(
        request,
        "council/body_detail.html",
        {
            "body": body,
            "form": form or BodyForm(instance=body, council=council),
            "membership_form": membership_form or MembershipForm(body=body),
            "officer_form": officer_form or OfficerForm(body=body),
            "end_form": EndMembershipForm(initial={"end": timezone.localdate()}),
            "current": [m for m in memberships if m.is_current],
            "past": [m for m in memberships if not m.is_current],
            "quorum": body.quorum(),
        },
        status=status,
    )


@clerk_required
def body_detail(request, pk: int):
    council = council_for(request.user)
    body = get_object_or_404(Body, pk=pk, council=council)
    if request.method == "POST":
        return _body_form_posted(
            request,
            body,
            BodyForm(request.POST, instance=body, council=council),
            slot="form",
            save=lambda data: services.body_save(actor=request.user, council=council, body=body, **data),
            done=_("Saved."),
        )
    return _body_page(request, body)


def _body_form_posted(request, body: Body, form, *, slot: str, save: Callable[[dict], object], done: str):
    """A form of the body's page was posted: a valid one is saved (``save(cleaned_data)``, one
    service), ``done`` is said and the page shown afresh; a refusal or an invalid form is shown in
    its ``slot`` of the page (status 400), beside the body as stored."""
    if form.is_valid():
        try:
            save(form.cleaned_data)
        except Refused as exc:
            refuse(form, exc)
        else:
            messages.success(request, done)
            return redirect("council:body_detail", pk=body.pk)
    body.refresh_from_db()  # a BodyForm has set its invalid values on the body
    return _body_page(request, body, status=400, **{slot: form})


@clerk_required
@require_POST
def membership_add(request, pk: int):
    council = council_for(request.user)
    body = get_object_or_404(Body, pk=pk, council=council)
    return _body_form_posted(
        request,
        body,
        MembershipForm(request.POST, body=body),
        slot="membership_form",
        save=lambda data: services.membership_add(actor=request.user, body=body, **data),
        done=_("Member added."),
    )


@clerk_required
@require_POST
def body_officer(request, pk: int):
    council = council_for(request.user)
    body = get_object_or_404(Body, pk=pk, council=council)
    return _body_form_posted(
        request,
        body,
        OfficerForm(request.POST, body=body),
        slot="officer_form",
        save=lambda data: services.body_set_officer(actor=request.user, body=body, **data),
        done=_("Saved."),
    )


@clerk_required
@require_POST
def membership_end(request, pk: int):
    council = council_for(request.user)
    membership = get_object_or_404(Membership.objects.select_related("body"), pk=pk, body__council=council)
    form = EndMembershipForm(request.POST)
    if form.is_valid():
        try:
            services.membership_end(actor=request.user, membership=membership, end=form.cleaned_data["end"])
        except Refused as exc:
            messages.error(request, exc.text)
        else:
            messages.success(request, _("Membership ended."))
    else:
        messages.error(request, _("Give the last day of the membership."))
    return redirect("council:body_detail", pk=membership.body_id)


@clerk_required
def people(request):
    council = council_for(request.user)
    return render(
        request,
        "council/people.html",
        {
            "council": council,
            "people": selectors.people(council),
            "import_form": ImportForm(),
        },
    )


@clerk_required
def person_create(request):
    council = council_for(request.user)
    return form_page(
        request,
        PersonForm(request.POST or None, council=council),
        template="council/person_form.html",
        save=lambda data: services.person_save(actor=request.user, council=council, **data),
        success=lambda person: _("Added %(person)s.") % {"person": person},
        redirect_to="council:people",
    )


@clerk_required
def person_edit(request, pk: int):
    council = council_for(request.user)
    person = get_object_or_404(Person, pk=pk, council=council)
    return form_page(
        request,
        PersonForm(request.POST or None, instance=person, council=council),
        template="council/person_form.html",
        context={"person": person},
        instance=person,
        save=lambda data: services.person_save(actor=request.user, council=council, person=person, **data),
        success=_("Saved."),
        redirect_to="council:people",
    )


@clerk_required
@require_POST
def people_import(request):
    council = council_for(request.user)
    form = ImportForm(request.POST, request.FILES)
    row_errors: list[str] = []
    if form.is_valid():
        try:
            result = import_people(
                actor=request.user,
                council=council,
                text=form.cleaned_data["file"],
                start=form.cleaned_data["start"],
            )
        except ImportRefused as exc:
            row_errors = exc.messages
        else:
            messages.success(
                request,
                _("Imported %(people)s people and %(memberships)s memberships.")
                % {"people": len(result.people), "memberships": result.memberships},
            )
            return redirect("council:people")
    return render(
        request,
        "council/people.html",
        {
            "council": council,
            "people": selectors.people(council),
            "import_form": form,
            "row_errors": row_errors,
        },
        status=400,
    )


@login_required
@require_POST
def text_size(request):
    """The member's larger-text setting, from the bar on every page and from the start page."""
    person = permissions.person_of(request.user)
    if person is None:
        raise Http404
    try:
        services.person_text_size_set(
            person=person, text_size=request.POST.get("text_size", ""), actor=request.user
        )
    except Refused as exc:
        if not request.POST.get("next"):
            return HttpResponseBadRequest(" ".join(exc.messages))
        messages.error(request, " ".join(exc.messages))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "home"
    return redirect(target)
