"""Meeting pages: the start page (the member's bodies and upcoming sittings); the clerk's sessions, sittings and order of business; the sitting page; the calendar feed.

Views parse, authorize (``meetings.permissions``), call a service, render. Other areas add their
buttons to the sitting page by appending to ``SITTING_LINKS`` (e.g. in their AppConfig.ready()).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from council import permissions as org
from council.decorators import clerk_required, council_for
from council.errors import Refused
from council.formpages import form_page, refuse
from council.models import Body
from meetings import permissions, selectors, services
from meetings.forms import AgendaItemForm, SessionDatesForm, SessionForm, SittingEditForm, SittingForm
from meetings.ical import body_calendar
from meetings.models import AgendaItem, Session, Sitting


@login_required
def home(request):
    """The start page: the bodies the user belongs to and their upcoming sittings."""
    today = timezone.localdate()
    in_session = selectors.sittings_in_session_for(request.user)
    sittings = [s for s in selectors.upcoming_sittings_for(request.user, today=today) if s not in in_session]
    return render(
        request,
        "meetings/home.html",
        {
            "bodies": org.bodies_for(request.user),
            "in_session": in_session,
            "today_sittings": [s for s in sittings if s.date == today],
            "sittings": [s for s in sittings if s.date != today],
            "today": today,
            "person": org.person_of(request.user),
        },
    )


@dataclass(frozen=True)
class SittingLink:
    """A button on the sitting page: ``reverse(url_name, args=[sitting.pk])``, shown when ``allowed``."""

    url_name: str
    label: str
    allowed: Callable[..., bool]
    primary: bool = False


# Other areas append their entries (reader, live console, voting, minutes …).
SITTING_LINKS: list[SittingLink] = [
    SittingLink(
        "meetings:agenda_edit",
        gettext_lazy("Edit the order of business"),
        lambda user, sitting: permissions.can_manage_meetings(user),
    ),
    SittingLink(
        "meetings:sitting_edit",
        gettext_lazy("Change date, time or place"),
        lambda user, sitting: permissions.can_manage_meetings(user),
    ),
]


def sitting_links(user, sitting: Sitting) -> list[dict]:
    links = []
    for link in SITTING_LINKS:
        if link.allowed(user, sitting):
            links.append(
                {
                    "url": reverse(link.url_name, args=[sitting.pk]),
                    "label": link.label,
                    "primary": link.primary,
                }
            )
    return links


# --- Clerk: sessions and sittings ---------------------------------------------------------


@clerk_required
def manage(request):
    return render(request, "meetings/manage.html", {"sessions": selectors.sessions_for_clerk()})


@clerk_required
def session_create(request):
    council = council_for(request.user)
    return form_page(
        request,
        SessionForm(request.POST or None, council=council),
        template="meetings/session_form.html",
        save=lambda data: services.session_create(actor=request.user, council=council, **data),
        success=lambda session: _("Created %(session)s.") % {"session": session.display_title},
        redirect_to="meetings:manage",
    )


@clerk_required
def session_edit(request, pk: int):
    session = get_object_or_404(Session, pk=pk)
    return form_page(
        request,
        SessionDatesForm(request.POST or None, instance=session),
        template="meetings/session_form.html",
        context={"session": session},
        instance=session,
        save=lambda data: services.session_update(actor=request.user, session=session, **data),
        success=_("Saved."),
        redirect_to="meetings:manage",
    )


@clerk_required
def sitting_create(request, pk: int):
    session = get_object_or_404(Session, pk=pk)
    initial = {
        "start_time": "10:00",
        "place": _("Chamber"),
        "date": session.start_date,
        "template": "opening",
    }
    plenary = Body.objects.filter(council=session.council, kind=Body.Kind.PLENARY).first()
    if plenary:
        initial["body"] = plenary.pk
        initial["number"] = selectors.next_sitting_number(session=session, body=plenary)
    return form_page(
        request,
        SittingForm(request.POST or None, session=session, initial=initial),
        template="meetings/sitting_form.html",
        context={"session": session},
        save=lambda data: services.sitting_create(actor=request.user, session=session, **data),
        success=lambda sitting: _("Scheduled %(sitting)s.") % {"sitting": sitting.display_name},
        redirect_to=lambda sitting: reverse("meetings:agenda_edit", args=[sitting.pk]),
    )


@clerk_required
def sitting_edit(request, pk: int):
    sitting = get_object_or_404(Sitting.objects.select_related("session", "body"), pk=pk)
    return form_page(
        request,
        SittingEditForm(request.POST or None, instance=sitting),
        template="meetings/sitting_edit.html",
        context={"sitting": sitting},
        instance=sitting,
        save=lambda data: services.sitting_update(actor=request.user, sitting=sitting, **data),
        success=_("Saved."),
        redirect_to=reverse("meetings:sitting_detail", args=[sitting.pk]),
    )


@clerk_required
@require_POST
def sitting_cancel(request, pk: int):
    sitting = get_object_or_404(Sitting, pk=pk)
    try:
        services.sitting_cancel(actor=request.user, sitting=sitting)
    except Refused as exc:
        messages.error(request, exc.text)
    else:
        messages.success(request, _("The sitting is cancelled."))
    return redirect("meetings:sitting_detail", pk=sitting.pk)


# --- Clerk: the order of business ----------------------------------------------------------


@clerk_required
def agenda_edit(request, pk: int):
    sitting = get_object_or_404(Sitting.objects.select_related("session", "body"), pk=pk)
    form = AgendaItemForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.agenda_item_add(actor=request.user, sitting=sitting, **form.cleaned_data)
        except Refused as exc:
            refuse(form, exc)
        else:
            messages.success(request, _("Item added."))
            return redirect("meetings:agenda_edit", pk=sitting.pk)
    items = selectors.agenda_items(sitting)
    return render(
        request,
        "meetings/agenda_edit.html",
        {
            "sitting": sitting,
            "items": items,
            "form": form,
            "reorder_url": reverse("meetings:agenda_reorder", args=[sitting.pk]),
        },
        status=400 if form.errors else 200,
    )


@clerk_required
def agenda_item_edit(request, pk: int):
    item = get_object_or_404(AgendaItem.objects.select_related("sitting__session", "sitting__body"), pk=pk)
    return form_page(
        request,
        AgendaItemForm(request.POST or None, instance=item),
        template="meetings/agenda_item_form.html",
        context={"item": item, "sitting": item.sitting},
        instance=item,
        save=lambda data: services.agenda_item_update(actor=request.user, item=item, **data),
        success=_("Saved."),
        redirect_to=reverse("meetings:agenda_edit", args=[item.sitting_id]),
    )


def _agenda_action(request, sitting_id: int, action: Callable[[], object], done: str):
    try:
        action()
    except Refused as exc:
        messages.error(request, exc.text)
    else:
        messages.success(request, done)
    return redirect(reverse("meetings:agenda_edit", args=[sitting_id]) + "#order")


@clerk_required
@require_POST
def agenda_item_delete(request, pk: int):
    item = get_object_or_404(AgendaItem, pk=pk)
    return _agenda_action(
        request,
        item.sitting_id,
        lambda: services.agenda_item_delete(actor=request.user, item=item),
        _("Item deleted."),
    )


@clerk_required
@require_POST
def agenda_item_move(request, pk: int):
    item = get_object_or_404(AgendaItem, pk=pk)
    direction = request.POST.get("direction", "")
    return _agenda_action(
        request,
        item.sitting_id,
        lambda: services.agenda_item_move(actor=request.user, item=item, direction=direction),
        _("Order changed."),
    )


@clerk_required
@require_POST
def agenda_document_move(request, pk: int, document_id: int):
    """Move a document to another agenda item of the sitting (from the sitting's upload page)."""
    sitting = get_object_or_404(Sitting, pk=pk)

    def item(field: str) -> AgendaItem | None:
        value = request.POST.get(field, "")
        return sitting.agenda_items.filter(pk=int(value)).first() if value.isdigit() else None

    try:
        link = services.agenda_document_move(
            actor=request.user,
            sitting=sitting,
            document_id=document_id,
            to_item=item("to_item"),
            from_item=item("from_item"),
        )
    except Refused as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("Moved “%(document)s” to %(item)s.")
            % {"document": link.document.title, "item": link.agenda_item.label},
        )
    return redirect(reverse("meetings:reader:upload", args=[sitting.pk]) + "#attached-heading")


@clerk_required
@require_POST
def agenda_reorder(request, pk: int):
    """The drag-and-drop endpoint: ``order`` is the comma-separated item ids in their new order."""
    sitting = get_object_or_404(Sitting, pk=pk)
    wants_json = "application/json" in request.headers.get("Accept", "")
    try:
        ids = [int(part) for part in request.POST.get("order", "").split(",") if part.strip()]
    except ValueError:
        return HttpResponseBadRequest(_("Malformed order."))
    try:
        services.agenda_reorder(actor=request.user, sitting=sitting, item_ids=ids)
    except Refused as exc:
        if wants_json:
            return JsonResponse({"ok": False, "error": " ".join(exc.messages)}, status=409)
        messages.error(request, exc.text)
        return redirect("meetings:agenda_edit", pk=sitting.pk)
    if wants_json:
        items = AgendaItem.objects.filter(sitting=sitting).order_by("position")
        return JsonResponse(
            {
                "ok": True,
                "items": [{"id": i.pk, "label": i.label} for i in items],
                "message": _("Order changed."),
            }
        )
    messages.success(request, _("Order changed."))
    return redirect("meetings:agenda_edit", pk=sitting.pk)


@clerk_required
@require_POST
def agenda_publish(request, pk: int):
    sitting = get_object_or_404(Sitting, pk=pk)
    return _agenda_action(
        request,
        sitting.pk,
        lambda: services.agenda_publish(actor=request.user, sitting=sitting),
        _("The order of business is published to the members."),
    )


@clerk_required
@require_POST
def agenda_unpublish(request, pk: int):
    sitting = get_object_or_404(Sitting, pk=pk)
    return _agenda_action(
        request,
        sitting.pk,
        lambda: services.agenda_unpublish(actor=request.user, sitting=sitting),
        _("The order of business is back to draft; members no longer see it."),
    )


# --- Everyone: the sitting page and the calendar ----------------------------------------------


@login_required
def sitting_detail(request, pk: int):
    try:
        sitting = selectors.sitting_detail(pk)
    except Sitting.DoesNotExist as exc:
        raise Http404 from exc
    if not permissions.can_view_sitting(request.user, sitting):
        raise Http404  # the same answer for "missing" and "not yours"
    show_agenda = permissions.can_view_agenda(request.user, sitting)
    return render(
        request,
        "meetings/sitting_detail.html",
        {
            "sitting": sitting,
            "items": selectors.agenda_items(sitting) if show_agenda else [],
            "show_agenda": show_agenda,
            "can_manage": permissions.can_manage_meetings(request.user),
            "links": sitting_links(request.user, sitting),
        },
    )


def body_calendar_feed(request, pk: int):
    """Sittings of one body as iCalendar. Public: calendar apps subscribe without signing in."""
    body = get_object_or_404(Body.objects.select_related("council"), pk=pk)
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405)
    domain = request.get_host().split(":")[0] or "localhost"
    payload = body_calendar(body, domain=domain, base_url=request.build_absolute_uri("/").rstrip("/"))
    response = HttpResponse(payload, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="body-{body.pk}.ics"'
    return response
