"""Matters pages: the clerk's session and matter pages, members' notices of general questions,
and the public pages and exports (no sign-in: 会期日程, 議決結果一覧, 議員別賛否一覧, a matter's road).

Views parse, authorize (``meetings.matters.permissions``), call one service, render.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from council.decorators import clerk_required, council_for
from council.errors import Refused
from council.formpages import form_page, refuse
from council.models import Body
from council.permissions import person_of
from meetings.matters import (
    exports,
    matter_settings,
    nextsteps,
    permissions,
    questions,
    reports,
    rules,
    selectors,
    services,
)
from meetings.matters.forms import (
    DeadlineForm,
    DocumentLinkForm,
    MatterForm,
    MatterSettingsForm,
    OrderForm,
    QuestionForm,
    ReportForm,
)
from meetings.matters.models import CommitteeReport, Matter, MatterItem, Question, QuestionCall
from meetings.models import Session, Sitting

# --- clerk: sessions and matters ----------------------------------------------------------------


@clerk_required
@require_GET
def manage_index(request):
    sessions = Session.objects.order_by("-start_date")
    return render(request, "meetings/matters/manage_index.html", {"sessions": sessions})


@clerk_required
def manage_settings(request):
    """The council's matter settings, for the secretariat."""
    council = council_for(request.user)
    if not permissions.can_manage_matters(request.user):
        raise PermissionDenied
    current = services.settings_for(council)
    form = MatterSettingsForm(
        request.POST if request.method == "POST" else None,
        initial={"numbering": current.numbering, "publish_counted_names": current.publish_counted_names},
    )
    return form_page(
        request,
        form,
        template="meetings/matters/manage_settings.html",
        save=lambda data: matter_settings.settings_update(actor=request.user, council=council, **data),
        success=_("The matter settings are saved."),
        redirect_to="meetings:matters:manage_settings",
        context={"council": council},
    )


@clerk_required
def manage_session(request, pk: int):
    session = get_object_or_404(Session.objects.select_related("council"), pk=pk)
    form = MatterForm(request.POST or None, session=session, initial={"submitted_on": session.start_date})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        sponsors = form.sponsors()
        for name in ("proposers", "seconders", "introducers"):
            data.pop(name)
        try:
            matter = services.matter_submit(actor=request.user, session=session, sponsors=sponsors, **data)
        except Refused as exc:
            refuse(form, exc)
        else:
            messages.success(request, _("%(matter)s was registered.") % {"matter": matter.label})
            return redirect("meetings:matters:manage_matter", pk=matter.pk)
    context = {
        "session": session,
        "matters": selectors.matters_of(session),
        "form": form,
        "sittings": session.sittings.select_related("body").order_by("date", "start_time"),
        "call": selectors.question_call(session),
    }
    return render(
        request, "meetings/matters/manage_session.html", context, status=400 if form.errors else 200
    )


@clerk_required
@require_POST
def publish_session(request, pk: int):
    session = get_object_or_404(Session, pk=pk)
    try:
        count = services.session_publish(actor=request.user, session=session)
    except Refused as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(count)d matters published.") % {"count": count})
    return redirect("meetings:matters:manage_session", pk=session.pk)


def _manage_context(matter: Matter) -> dict:
    session = matter.session
    sittings = list(session.sittings.select_related("body").order_by("date", "start_time"))
    return {
        "matter": matter,
        "session": session,
        "steps": selectors.steps(matter),
        "submitter": selectors.submitter_text(matter),
        "next": nextsteps.next_steps(matter, sittings),
        "reports": list(matter.reports.select_related("body")),
        "documents": list(matter.documents.select_related("document")),
        "document_form": DocumentLinkForm(council=matter.council),
        "amendments": list(matter.amendments.all()),
        "motions": list(matter.motions.select_related("motion__agenda_item__sitting")),
        "counted_polls": selectors.counted_polls(matter),
        "publish_counted_names": services.settings_for(matter.council).publish_counted_names,
    }


@clerk_required
@require_GET
def manage_matter(request, pk: int):
    matter = get_object_or_404(
        Matter.objects.select_related("session__council", "amends", "referred_to", "submitter_body"), pk=pk
    )
    return render(request, "meetings/matters/manage_matter.html", _manage_context(matter))


def _sitting(request, matter: Matter) -> Sitting:
    sitting = (
        Sitting.objects.select_related("body", "session")
        .filter(pk=request.POST.get("sitting") or 0, session__council=matter.council)
        .first()
    )
    if sitting is None:
        raise Refused(_("Choose a sitting."))
    return sitting


@clerk_required
@require_POST
def act(request, pk: int):
    """One action on the matter's road, named by ``action``; refusals come back as messages."""
    matter = get_object_or_404(Matter.objects.select_related("session", "council"), pk=pk)
    action = request.POST.get("action", "")
    user = request.user
    after = reverse("meetings:matters:manage_matter", args=[matter.pk])
    try:
        if action == "place":
            services.matter_place(actor=user, matter=matter, sitting=_sitting(request, matter))
            done = _("Placed on the agenda (上程).")
        elif action == "step":
            services.matter_step_record(
                actor=user,
                matter=matter,
                kind=request.POST.get("kind", ""),
                sitting=_sitting(request, matter),
                note=request.POST.get("note", ""),
            )
            done = _("Step recorded.")
        elif action == "refer":
            committee = Body.objects.filter(
                pk=request.POST.get("committee") or 0, council=matter.council
            ).first()
            if committee is None:
                raise Refused(_("Choose a committee of this council."))
            services.matter_refer(
                actor=user, matter=matter, committee=committee, sitting=_sitting(request, matter)
            )
            done = _("Referred to %(committee)s.") % {"committee": committee.display_name}
        elif action == "examine":
            services.matter_examine(
                actor=user,
                matter=matter,
                decision=request.POST.get("decision", ""),
                sitting=_sitting(request, matter),
            )
            done = _("The committee's decision is recorded and its report drafted.")
        elif action == "chair_report":
            services.matter_chair_report(actor=user, matter=matter, sitting=_sitting(request, matter))
            done = _("The committee chair's report is recorded.")
        elif action == "decide":
            services.matter_decide(
                actor=user,
                matter=matter,
                result=request.POST.get("result", ""),
                sitting=_sitting(request, matter),
                note=request.POST.get("note", ""),
            )
            done = _("The decision is recorded.")
        elif action == "motion":
            sitting = _sitting(request, matter)
            services.matter_motion_create(actor=user, matter=matter, sitting=sitting)
            messages.success(request, _("The question is ready on the voting console."))
            return redirect("meetings:voting:console", pk=sitting.pk)
        elif action == "names":
            from council.models import Person
            from meetings.voting.models import Poll

            poll = Poll.objects.filter(
                pk=request.POST.get("poll") or 0, motion__matter_link__matter=matter
            ).first()
            if poll is None:
                raise Refused(_("Choose a vote on this matter."))
            ids = [int(v) for v in request.POST.getlist("yes") if v.isdigit()]
            services.counted_names_record(
                actor=user, poll=poll, yes_members=list(Person.objects.filter(pk__in=ids))
            )
            done = _("The names are recorded.")
        elif action == "withdraw":
            services.matter_withdraw(actor=user, matter=matter, note=request.POST.get("note", ""))
            done = _("The matter is withdrawn.")
        elif action == "publish":
            services.matter_publish(actor=user, matter=matter)
            done = _("Published.")
        elif action == "unpublish":
            services.matter_unpublish(actor=user, matter=matter)
            done = _("No longer published.")
        elif action == "document":
            form = DocumentLinkForm(request.POST, council=matter.council)
            if not form.is_valid():
                raise Refused(_("Choose a document and its role."))
            services.matter_document_add(actor=user, matter=matter, **form.cleaned_data)
            done = _("Document attached.")
        else:
            raise Refused(_("Unknown action."))
    except Refused as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
    return redirect(after)


@clerk_required
@require_GET
def manage_sitting(request, pk: int):
    """The matters on one sitting's agenda, with the steps to record there (from the sitting page)."""
    sitting = get_object_or_404(Sitting.objects.select_related("session", "body"), pk=pk)
    links = list(
        MatterItem.objects.filter(agenda_item__sitting=sitting)
        .select_related("matter__amends", "agenda_item")
        .order_by("agenda_item__position", "matter__number")
    )
    # Only the steps the rules allow next for each matter at this sitting (``nextsteps``), so no
    # button here would be refused; the matter's page has the rest.
    for link in links:
        possible = nextsteps.next_steps(link.matter, [sitting])
        link.clerk_steps = possible.clerk_steps if sitting in possible.clerk_step_sittings else []
    placed = {link.matter_id for link in links}
    others = [
        m
        for m in selectors.matters_of(sitting.session)
        if m.pk not in placed and not m.is_finished and sitting in nextsteps.next_steps(m, [sitting]).place
    ]
    return render(
        request,
        "meetings/matters/manage_sitting.html",
        {"sitting": sitting, "links": links, "others": others},
    )


@clerk_required
def report_edit(request, pk: int):
    report = get_object_or_404(CommitteeReport.objects.select_related("matter", "body"), pk=pk)
    form = ReportForm(request.POST or None, initial={"remarks": report.remarks})
    if request.method == "POST" and form.is_valid():
        services.report_update(actor=request.user, report=report, remarks=form.cleaned_data["remarks"])
        messages.success(request, _("Saved."))
        return redirect("meetings:matters:report_edit", pk=report.pk)
    return render(
        request,
        "meetings/matters/report_edit.html",
        {"report": report, "form": form, "html": reports.report_html(report)},
    )


# --- general questions ----------------------------------------------------------------------------


@clerk_required
def manage_questions(request, pk: int):
    session = get_object_or_404(Session.objects.select_related("council"), pk=pk)
    call = selectors.question_call(session)
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "deadline":
                form = DeadlineForm(request.POST)
                if not form.is_valid():
                    raise Refused(_("Give the deadline as a date and time."))
                questions.call_open(
                    actor=request.user, session=session, deadline=form.cleaned_data["deadline"]
                )
                done = _("The deadline is set.")
            elif action == "order" and call is not None:
                form = OrderForm(request.POST)
                if not form.is_valid():
                    raise Refused(_("Choose how the speaking order is decided."))
                questions.order_fix(actor=request.user, call=call, method=form.cleaned_data["method"])
                done = _("The speaking order is fixed.")
            elif action == "publish" and call is not None:
                sitting = Sitting.objects.filter(pk=request.POST.get("sitting") or 0, session=session).first()
                if sitting is None:
                    raise Refused(_("Choose a plenary sitting of this session."))
                questions.publish(actor=request.user, call=call, sitting=sitting)
                done = _(
                    "The list of general questions is published. Its PDF is being prepared and "
                    "appears on the public page in a moment."
                )
            elif action in ("strike", "up", "down") and call is not None:
                question = Question.objects.filter(pk=request.POST.get("question") or 0, call=call).first()
                if question is None:
                    raise Refused(_("This notice is no longer on the list."))
                if action == "strike":
                    if request.POST.get("confirm") != "yes":  # striking cannot be undone: ask first
                        return render(
                            request,
                            "meetings/matters/strike_confirm.html",
                            {"session": session, "call": call, "question": question},
                        )
                    questions.question_strike(actor=request.user, question=question)
                    done = _("The notice is struck from the list. Publish the list again to update it.")
                else:
                    questions.order_move(actor=request.user, question=question, direction=action)
                    done = _("The order is changed. Publish the list again to update it.")
            else:
                raise Refused(_("Unknown action."))
        except Refused as exc:
            messages.error(request, " ".join(exc.messages))
            status = 400
        else:
            messages.success(request, done)
            return redirect("meetings:matters:manage_questions", pk=session.pk)
    if call is not None and call.published_at and not call.document_ready:
        questions.document_requeue(actor=request.user, call=call)
    floor = selectors.question_floor(call) if call and call.published_at else {}
    listed = selectors.questions_in_order(call) if call else []
    for question in listed:
        question.floor_turn = floor.get("turns", {}).get(question.member_id)
    context = {
        "session": session,
        "call": call,
        "questions": listed,
        "deadline_form": DeadlineForm(initial={"deadline": call.deadline} if call else None),
        "order_form": OrderForm(),
        "plenary_sittings": session.sittings.filter(body__kind=Body.Kind.PLENARY).order_by("date"),
        "live_sitting": questions.live_sitting(call) if call else None,
        "floor_stale": floor.get("stale", False),
    }
    return render(request, "meetings/matters/manage_questions.html", context, status=status)


@login_required
def my_questions(request, pk: int):
    """A member's notice of general questions for the session (before the deadline)."""
    if not permissions.can_give_questions(request.user):
        raise PermissionDenied
    call = get_object_or_404(QuestionCall.objects.select_related("session"), session_id=pk)
    mine = Question.objects.filter(call=call, member=person_of(request.user)).first()
    form = QuestionForm(request.POST or None, initial_topics=mine.topics if mine else None)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "withdraw":
                questions.question_withdraw(user=request.user, call=call)
                messages.success(request, _("Your notice is withdrawn."))
                return redirect("meetings:matters:my_questions", pk=pk)
            if form.is_valid():
                questions.question_submit(user=request.user, call=call, topics=form.topics())
                messages.success(request, _("Your notice of general questions is received."))
                return redirect("meetings:matters:my_questions", pk=pk)
        except Refused as exc:
            refuse(form, exc)
    return render(
        request,
        "meetings/matters/my_questions.html",
        {"call": call, "session": call.session, "mine": mine, "form": form},
        status=400 if form.errors else 200,
    )


# --- public ---------------------------------------------------------------------------------------


def _public_session(pk: int) -> Session:
    session = selectors.public_sessions().filter(pk=pk).select_related("council").first()
    if session is None:
        raise Http404
    return session


@require_GET
def public_index(request):
    calls = (
        selectors.open_calls_for(person_of(request.user))
        if permissions.can_give_questions(request.user)
        else []
    )
    return render(
        request,
        "meetings/matters/public_index.html",
        {"sessions": selectors.public_sessions(), "calls": calls},
    )


@require_GET
def public_session(request, pk: int):
    """会期日程 and 議決結果一覧 of a session."""
    session = _public_session(pk)
    matters = selectors.published_matters(session)
    rows = [{"matter": m, "submitter": selectors.submitter_text(m)} for m in matters]
    call = selectors.question_call(session)
    return render(
        request,
        "meetings/matters/public_session.html",
        {
            "session": session,
            "rows": rows,
            "schedule": selectors.schedule(session, matters=matters),
            "call": call if call and call.published_at else None,
            "matter_url": _matter_url_prefix(),
        },
    )


def _matter_url_prefix() -> str:
    """The public matter URL without its number: one reverse for a table of links."""
    return reverse("meetings:matters:public_matter", args=[0])[: -len("0/")]


@require_GET
def public_votes(request, pk: int):
    """議員別賛否一覧."""
    session = _public_session(pk)
    members, rows = selectors.public_votes(session)
    # Each cell's symbol and its spoken title, translated once for the whole table.
    symbols = {
        "yes": ("○", _("In favour")),
        "no": ("●", _("Against")),
        "": ("欠", _("Not voting")),
        "chair": (_("Chair (short, plenary)"), ""),
        "chair_committee": (_("Chair (short, committee)"), ""),
    }
    unnamed = ("–", "")
    table = []
    for row in rows:
        plenary = row.sitting.body.is_plenary
        cells = []
        for member in members:
            if not row.named:
                cells.append(unnamed)
                continue
            choice = row.choices.get(member.pk, "")
            cells.append(symbols["chair_committee" if choice == "chair" and not plenary else choice])
        table.append({"row": row, "cells": cells})
    call = selectors.question_call(session)
    return render(
        request,
        "meetings/matters/public_votes.html",
        {
            "session": session,
            "members": members,
            "table": table,
            "call": call if call and call.published_at else None,
            "matter_url": _matter_url_prefix(),
        },
    )


@require_GET
def public_questions(request, pk: int):
    call = (
        QuestionCall.objects.filter(session_id=pk, published_at__isnull=False)
        .select_related("session__council", "sitting__body", "document")
        .first()
    )
    if call is None:
        raise Http404
    session = call.session
    return render(
        request,
        "meetings/matters/public_questions.html",
        {"session": session, "call": call, "questions": selectors.questions_in_order(call)},
    )


@require_GET
def public_matter(request, pk: int):
    matter = selectors.public_matter(pk)
    if matter is None:
        raise Http404
    steps = selectors.steps(matter)
    public_steps = [s for s in steps if s.sitting is None or s.sitting.is_public]
    reports_public = {s.report_id for s in steps if s.kind == rules.CHAIR_REPORT and s.report_id}
    return render(
        request,
        "meetings/matters/public_matter.html",
        {
            "matter": matter,
            "steps": public_steps,
            "submitter": selectors.submitter_text(matter),
            "documents": selectors.public_documents(matter),
            "passages": selectors.minutes_passages(matter),
            "votes": selectors.matter_votes(matter),
            "reports": [r for r in matter.reports.all() if r.pk in reports_public],
            "amendments": [a for a in matter.amendments.all() if a.published_at],
        },
    )


def _json(data: dict) -> HttpResponse:
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=1), content_type="application/json; charset=utf-8"
    )
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _csv(text: str, name: str) -> HttpResponse:
    response = HttpResponse("\ufeff" + text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def results_json(request, pk: int):
    return _json(exports.results_data(_public_session(pk), base_url=request.build_absolute_uri("/")[:-1]))


@require_GET
def results_csv(request, pk: int):
    return _csv(exports.results_csv(_public_session(pk)), f"results-{pk}.csv")


@require_GET
def votes_json(request, pk: int):
    return _json(exports.votes_data(_public_session(pk)))


@require_GET
def votes_csv(request, pk: int):
    return _csv(exports.votes_csv(_public_session(pk)), f"votes-{pk}.csv")
