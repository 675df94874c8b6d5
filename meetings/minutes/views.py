"""Pages and endpoints for the minutes: the clerk's overview and editor, the sign-off page, the
job status the editor polls, downloads and the public list. Thin: parse, authorize, call a
service, render. Missing and forbidden look the same (404)."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from council import jsoninput
from council.errors import DomainError, refusal_response
from council.middleware import DEFAULT_CSP
from council.models import Body, Person
from council.permissions import person_of
from meetings.minutes import exports, jobs, permissions, selectors, services
from meetings.minutes.models import Block, GenerationJob, Minutes
from meetings.models import Sitting


def _minutes_or_404(request, pk: int, *, manage: bool = False) -> Minutes:
    minutes = (
        Minutes.objects.select_related("sitting__body", "sitting__session__council").filter(pk=pk).first()
    )
    if minutes is None:
        raise Http404
    allowed = permissions.can_manage(request.user) if manage else permissions.can_view(request.user, minutes)
    if not allowed:
        raise Http404
    return minutes


def _back(minutes: Minutes, *, to: str = "edit", anchor: str = ""):
    url = reverse(f"meetings:minutes:{to}", args=[minutes.pk])
    return redirect(f"{url}#{anchor}" if anchor else url)


# --- clerk: overview, generation, jobs ------------------------------------------------------


@login_required
def index(request):
    if not permissions.can_manage(request.user):
        person = person_of(request.user)
        awaiting = selectors.awaiting_signature(person) if person else []
        if not awaiting:
            return redirect("meetings:minutes:public_list")
        return render(request, "meetings/minutes/index.html", {"awaiting": awaiting, "page": None})
    sittings = (
        Sitting.objects.filter(status=Sitting.Status.CLOSED)
        .select_related("body", "session")
        .prefetch_related(Prefetch("minutes_versions", queryset=Minutes.objects.order_by("version")))
        .order_by("-date", "-number")
    )
    page = Paginator(sittings, 30).get_page(request.GET.get("page"))
    return render(request, "meetings/minutes/index.html", {"page": page})


@login_required
def sitting_minutes(request, sitting_id: int):
    if not permissions.can_manage(request.user):
        raise Http404
    sitting = get_object_or_404(Sitting.objects.select_related("body", "session"), pk=sitting_id)
    job = selectors.latest_job(sitting=sitting)
    return render(
        request,
        "meetings/minutes/sitting.html",
        {
            "sitting": sitting,
            "versions": selectors.minutes_versions(sitting),
            "job": job,
            # The job the clerk has just started (the redirect after "draft"): its page follows it
            # to the editor even when the worker finished before the page was drawn.
            "watch_job": job is not None and request.GET.get("job") == str(job.pk),
        },
    )


@login_required
@require_POST
def generate(request, sitting_id: int):
    if not permissions.can_manage(request.user):
        raise Http404
    sitting = get_object_or_404(Sitting, pk=sitting_id)
    if sitting.status != Sitting.Status.CLOSED:
        messages.error(request, _("The minutes can be drafted once the sitting is closed."))
    else:
        job = jobs.job_start(sitting=sitting, kind=GenerationJob.Kind.DRAFT, actor=request.user)
        return redirect(f"{reverse('meetings:minutes:sitting', args=[sitting.pk])}?job={job.pk}")
    return redirect("meetings:minutes:sitting", sitting_id=sitting.pk)


@login_required
@require_POST
def preview(request, pk: int):
    minutes = _minutes_or_404(request, pk, manage=True)
    if minutes.is_frozen and minutes.pdf_sha256:
        messages.error(request, _("The final PDF of these minutes is already frozen."))
        return _back(minutes, to="detail")
    # Signed minutes without their PDF (the job failed): render the final one again.
    final = minutes.is_frozen
    job = jobs.job_start(
        sitting=minutes.sitting, minutes=minutes, kind=GenerationJob.Kind.PDF, final=final, actor=request.user
    )
    if request.headers.get("Accept") == "application/json":
        # The editor's preview: it stays on the page, shows this job's progress, then the PDF in a dialog.
        box = render_to_string("meetings/minutes/_job.html", {"job": job}, request=request)
        return JsonResponse({"ok": True, "job": job.pk, "box": box})
    # Without script the clerk comes back to where the preview was asked for, not elsewhere.
    return _back(minutes, to="detail" if final else "edit")


@login_required
@require_GET
def job_status(request, pk: int):
    if not permissions.can_manage(request.user):
        raise Http404
    job = get_object_or_404(GenerationJob, pk=pk)
    data = {
        "id": job.pk,
        "kind": job.kind,
        "state": job.state,
        "state_label": job.get_state_display(),
        "progress": job.progress,
        "message": job.message,
        "done": job.state in (GenerationJob.State.DONE, GenerationJob.State.FAILED),
        "next": None,
    }
    if job.state == GenerationJob.State.DONE and job.minutes_id:
        if job.kind == GenerationJob.Kind.DRAFT:
            data["next"] = reverse("meetings:minutes:edit", args=[job.minutes_id])
        elif job.output:
            data["next"] = reverse("meetings:minutes:job_pdf", args=[job.pk])
        else:
            data["next"] = reverse("meetings:minutes:detail", args=[job.minutes_id])
    return JsonResponse(data)


@login_required
@require_GET
def job_pdf(request, pk: int):
    if not permissions.can_manage(request.user):
        raise Http404
    job = get_object_or_404(GenerationJob, pk=pk, kind=GenerationJob.Kind.PDF)
    if not job.output:
        raise Http404
    response = FileResponse(
        job.output.open("rb"), content_type="application/pdf", filename="minutes-preview.pdf"
    )
    # Shown in the editor's preview dialog: framing by our own pages only.
    response["X-Frame-Options"] = "SAMEORIGIN"
    response["Content-Security-Policy"] = DEFAULT_CSP.replace(
        "frame-ancestors 'none'", "frame-ancestors 'self'"
    )
    return response


# --- clerk: the editor ----------------------------------------------------------------------


@login_required
def edit(request, pk: int):
    minutes = _minutes_or_404(request, pk, manage=True)
    blocks = selectors.ordered_blocks(minutes)
    sitting = minutes.sitting
    councillors = Person.objects.filter(
        council=sitting.session.council, kind=Person.Kind.COUNCILLOR, active=True
    ).order_by("seat_number")
    return render(
        request,
        "meetings/minutes/edit.html",
        {
            "minutes": minutes,
            "blocks": blocks,
            "header": minutes.header,
            "signatories": selectors.signatory_rows(minutes),
            "councillors": councillors,
            "editable": minutes.is_editable,
            "job": selectors.latest_job(sitting=sitting),
        },
    )


# The editor's autosave (``static/js/minutes/editor.js``) sends JSON; a plain form post goes through
# ``BlockTextForm``. Either way: the text, and the revision it was edited from (None: unknown).
BLOCK_TEXT = jsoninput.validator(
    {
        "properties": {
            "text": {"type": "string", "maxLength": 200_000},
            "revision": {"type": ["integer", "null"]},
        },
        "required": ["text"],
    }
)


class BlockTextForm(forms.Form):
    text = forms.CharField(max_length=200_000, strip=False, required=False)
    revision = forms.IntegerField(required=False)


def _block_text(request) -> tuple[str, int | None]:
    if request.content_type == "application/json":
        body = jsoninput.parse(request.body, BLOCK_TEXT)
        return body["text"], body.get("revision")
    form = BlockTextForm(request.POST)
    if "text" not in request.POST or not form.is_valid():
        raise jsoninput.BadInput(_("The text is missing or too long."))
    return form.cleaned_data["text"], form.cleaned_data["revision"]


@login_required
@require_POST
def block_save(request, pk: int, block_id: int):
    """The editor's autosave: JSON {text, revision} → {revision, saved_at} or an error."""
    minutes = _minutes_or_404(request, pk, manage=True)
    block = get_object_or_404(Block, pk=block_id, minutes=minutes)
    try:
        text, revision = _block_text(request)
    except jsoninput.BadInput as exc:
        return refusal_response(exc)
    try:
        block = services.block_edit(block=block, text=text, revision=revision, actor=request.user)
    except DomainError as exc:
        return refusal_response(exc, status=409)
    return JsonResponse(
        {
            "id": block.pk,
            "revision": block.revision,
            "saved_at": timezone.localtime(block.updated_at).isoformat(),
        }
    )


@login_required
@require_POST
def remark_add(request, pk: int):
    minutes = _minutes_or_404(request, pk, manage=True)
    after = None
    if request.POST.get("after"):
        after = get_object_or_404(Block, pk=request.POST["after"], minutes=minutes)
    text = request.POST.get("text", "").strip() or _("(procedural remark)")
    try:
        remark = services.remark_add(minutes=minutes, after=after, text=text, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.text)
        return _back(minutes)
    return _back(minutes, anchor=f"block-{remark.pk}")


@login_required
@require_POST
def block_move(request, pk: int, block_id: int):
    minutes = _minutes_or_404(request, pk, manage=True)
    block = get_object_or_404(Block, pk=block_id, minutes=minutes)
    try:
        services.block_move(
            block=block, direction=-1 if request.POST.get("direction") == "up" else 1, actor=request.user
        )
    except DomainError as exc:
        messages.error(request, exc.text)
    return _back(minutes, anchor=f"block-{block.pk}")


@login_required
@require_POST
def block_delete(request, pk: int, block_id: int):
    minutes = _minutes_or_404(request, pk, manage=True)
    block = get_object_or_404(Block, pk=block_id, minutes=minutes)
    try:
        services.remark_delete(block=block, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.text)
    return _back(minutes)


@login_required
@require_POST
def transcript(request, pk: int):
    minutes = _minutes_or_404(request, pk, manage=True)
    upload = request.FILES.get("file")
    content = request.POST.get("content", "")
    if upload is not None:
        if upload.size > 5 * 1024 * 1024:
            messages.error(request, _("The transcript is too large (at most 5 MB)."))
            return _back(minutes)
        content = upload.read().decode("utf-8", errors="replace")
    fmt = request.POST.get("format", "auto")
    if fmt not in ("auto", "vtt", "text", "clock"):
        fmt = "auto"
    try:
        summary = services.transcript_import(
            minutes=minutes,
            content=content,
            fmt=fmt,
            actor=request.user,
            overwrite=request.POST.get("overwrite") == "on",
        )
    except DomainError as exc:
        messages.error(request, exc.text)
        return _back(minutes)
    messages.success(
        request,
        _(
            "Transcript imported: %(filled)s speeches filled, %(skipped)s already typed and kept, "
            "%(unmatched)s passages outside every turn."
        )
        % summary,
    )
    return _back(minutes)


@login_required
@require_POST
def signers(request, pk: int):
    minutes = _minutes_or_404(request, pk, manage=True)
    ids = [v for v in request.POST.getlist("signers") if v.isdigit()]
    people = list(Person.objects.filter(pk__in=ids, council=minutes.sitting.session.council))
    people.sort(key=lambda p: ids.index(str(p.pk)))
    try:
        services.signers_nominate(minutes=minutes, people=people, actor=request.user)
        messages.success(request, _("The signers are recorded."))
    except DomainError as exc:
        messages.error(request, exc.text)
    return _back(minutes)


def _state_action(request, pk: int, action, success: str, *, to: str = "detail", **kw):
    minutes = _minutes_or_404(request, pk, manage=True)
    try:
        result = action(minutes=minutes, actor=request.user, **kw)
    except DomainError as exc:
        messages.error(request, exc.text)
        return _back(minutes, to=to)
    messages.success(request, success)
    return _back(result if isinstance(result, Minutes) else minutes, to=to)


@login_required
@require_POST
def submit(request, pk: int):
    return _state_action(
        request, pk, services.minutes_submit, _("Sent to the chair and the signers for review.")
    )


@login_required
@require_POST
def return_to_draft(request, pk: int):
    return _state_action(
        request,
        pk,
        services.minutes_return_to_draft,
        _("Back to draft; approvals lapsed."),
        to="edit",
        reason=request.POST.get("reason", ""),
    )


@login_required
@require_POST
def publish(request, pk: int):
    return _state_action(request, pk, services.minutes_publish, _("Published."))


@login_required
@require_POST
def correct(request, pk: int):
    return _state_action(
        request,
        pk,
        services.minutes_correct,
        _("A new version was created for the correction."),
        to="edit",
        reason=request.POST.get("reason", ""),
    )


# --- sign-off and reading -------------------------------------------------------------------


@login_required
def detail(request, pk: int):
    minutes = _minutes_or_404(request, pk)
    context = selectors.document_context(minutes)
    context.update(
        {
            "can_manage": permissions.can_manage(request.user),
            "can_sign": permissions.can_sign(request.user, minutes),
            "integrity": selectors.integrity_problems(minutes) if minutes.is_frozen else None,
            "versions": selectors.minutes_versions(minutes.sitting),
            "job": selectors.latest_job(sitting=minutes.sitting, kind=GenerationJob.Kind.PDF),
        }
    )
    return render(request, "meetings/minutes/detail.html", context)


@login_required
@require_POST
def sign(request, pk: int):
    minutes = _minutes_or_404(request, pk)
    try:
        services.minutes_sign(minutes=minutes, user=request.user)
        messages.success(request, _("Your approval is recorded."))
    except DomainError as exc:
        messages.error(request, exc.text)
    return _back(minutes, to="detail")


def _pdf_response(minutes: Minutes):
    if not minutes.pdf:
        raise Http404
    return FileResponse(
        minutes.pdf.open("rb"),
        content_type="application/pdf",
        filename=f"minutes-{minutes.sitting_id}-v{minutes.version}.pdf",
    )


@login_required
def pdf(request, pk: int):
    return _pdf_response(_minutes_or_404(request, pk))


def _json_response(data: dict) -> HttpResponse:
    return HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=1), content_type="application/json; charset=utf-8"
    )


def _csv_response(minutes: Minutes) -> HttpResponse:
    response = HttpResponse("\ufeff" + exports.votes_csv(minutes), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="votes-{minutes.sitting_id}-v{minutes.version}.csv"'
    )
    return response


@login_required
def export_json(request, pk: int):
    return _json_response(
        exports.diet_json(_minutes_or_404(request, pk), base_url=request.build_absolute_uri("/")[:-1])
    )


@login_required
def export_votes_json(request, pk: int):
    return _json_response(exports.popolo(_minutes_or_404(request, pk)))


@login_required
def export_votes_csv(request, pk: int):
    return _csv_response(_minutes_or_404(request, pk))


# --- public (no sign-in) --------------------------------------------------------------------


def _public_or_404(pk: int) -> Minutes:
    minutes = (
        Minutes.objects.select_related("sitting__body", "sitting__session__council").filter(pk=pk).first()
    )
    if minutes is None or not permissions.can_view_public(minutes):
        raise Http404
    return minutes


@require_GET
def public_list(request):
    query = request.GET.get("q", "").strip()[:100]
    bodies = list(Body.objects.filter(sittings__minutes_versions__state=Minutes.State.PUBLISHED).distinct())
    body = next((b for b in bodies if str(b.pk) == request.GET.get("body")), None)
    found = selectors.published_minutes(body=body, query=query)
    page = Paginator(found, 25).get_page(request.GET.get("page"))
    groups: dict = {}
    for m in page:
        groups.setdefault(m.sitting.body, []).append(m)
    return render(
        request,
        "meetings/minutes/public_list.html",
        {"page": page, "groups": groups, "bodies": bodies, "body": body, "query": query},
    )


@require_GET
def public_detail(request, pk: int):
    minutes = _public_or_404(pk)
    context = selectors.document_context(minutes)
    context.update(
        {"versions": selectors.minutes_versions(minutes.sitting).filter(state=Minutes.State.PUBLISHED)}
    )
    return render(request, "meetings/minutes/public_detail.html", context)


@require_GET
def public_pdf(request, pk: int):
    return _pdf_response(_public_or_404(pk))


@require_GET
def public_json(request, pk: int):
    return _json_response(
        exports.diet_json(_public_or_404(pk), base_url=request.build_absolute_uri("/")[:-1])
    )


@require_GET
def public_votes_json(request, pk: int):
    return _json_response(exports.popolo(_public_or_404(pk)))


@require_GET
def public_votes_csv(request, pk: int):
    return _csv_response(_public_or_404(pk))
