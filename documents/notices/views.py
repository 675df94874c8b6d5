"""Thin views for notices: the member's inbox and notice pages, the secretariat's sending form,
receipts (既読) for notices and released documents, resending to those who have not read."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from council.models import Body, Council, Person
from council.permissions import person_of
from documents.models import Document
from documents.notices import permissions, selectors, services
from documents.notices.models import NoticeAttachment


def _council_for(user) -> Council | None:
    person = person_of(user)
    if person is not None:
        return person.council
    return Council.objects.order_by("pk").first()


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    context = {"receipts": selectors.inbox(request.user)[:200]}
    if permissions.can_send(request.user):
        context["sent"] = selectors.sent_notices(_council_for(request.user))[:200]
    return render(request, "documents/notices/inbox.html", context)


@login_required
@require_GET
@never_cache
def unread_json(request: HttpRequest) -> HttpResponse:
    """For the reader's notices strip (polled every minute, so releases are announced promptly)."""
    services.announce_documents()
    rows = selectors.inbox(request.user).filter(opened_at__isnull=True)[:20]
    return JsonResponse(
        {
            "unread": selectors.unread_count(request.user),
            "notices": [
                {
                    "id": r.notice_id,
                    "title": r.notice.title,
                    "kind": r.notice.kind,
                    "kind_label": r.notice.get_kind_display(),
                    "url": reverse("documents:notices:detail", kwargs={"notice_id": r.notice_id}),
                }
                for r in rows
            ],
        }
    )


@login_required
@require_GET
def detail(request: HttpRequest, notice_id: int) -> HttpResponse:
    notice = selectors.notice_for(request.user, notice_id)
    services.notice_open(notice=notice, user=request.user)
    context = {"notice": notice, "attachments": notice.attachments.all()}
    if permissions.can_see_receipts(request.user):
        receipts = list(selectors.receipts_of(notice))
        context.update(receipts=receipts, unread=sum(1 for r in receipts if r.opened_at is None))
    return render(request, "documents/notices/detail.html", context)


@login_required
@require_GET
def attachment(request: HttpRequest, notice_id: int, attachment_id: int) -> HttpResponse:
    notice = selectors.notice_for(request.user, notice_id)
    item = get_object_or_404(NoticeAttachment, pk=attachment_id, notice=notice)
    response = FileResponse(
        item.file.open("rb"), as_attachment=True, filename=item.original_name, content_type=item.content_type
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def resend(request: HttpRequest, notice_id: int) -> HttpResponse:
    notice = selectors.notice_for(request.user, notice_id)
    try:
        count = services.notice_resend(notice=notice, actor=request.user)
        messages.success(
            request, _("Sent again to %(count)d member(s) who had not opened it.") % {"count": count}
        )
    except services.NoticeError as exc:
        messages.error(request, exc.text)
    return redirect("documents:notices:detail", notice_id=notice.pk)


@login_required
def compose(request: HttpRequest) -> HttpResponse:
    if not permissions.can_send(request.user):
        raise PermissionDenied
    council = _council_for(request.user)
    bodies = Body.objects.filter(council=council)
    members = Person.objects.filter(
        council=council, active=True, kind=Person.Kind.COUNCILLOR, user__isnull=False
    ).order_by("seat_number", "family_name_kana")
    form = {"title": "", "body": "", "bodies": [], "members": []}
    if request.method == "POST":
        form = {
            "title": request.POST.get("title", ""),
            "body": request.POST.get("body", ""),
            "bodies": [int(x) for x in request.POST.getlist("bodies") if x.isdigit()],
            "members": [int(x) for x in request.POST.getlist("members") if x.isdigit()],
        }
        try:
            notice = services.notice_send(
                sender=request.user,
                council=council,
                title=form["title"],
                body=form["body"],
                bodies=list(bodies.filter(pk__in=form["bodies"])),
                members=list(members.filter(pk__in=form["members"])),
                attachments=request.FILES.getlist("attachments"),
            )
        except services.NoticeError as exc:
            messages.error(request, exc.text)
        else:
            messages.success(request, _("The notice was sent."))
            return redirect("documents:notices:detail", notice_id=notice.pk)
    return render(
        request, "documents/notices/compose.html", {"bodies": bodies, "members": members, "form": form}
    )


@login_required
@require_GET
def documents_read(request: HttpRequest) -> HttpResponse:
    """The secretariat's overview: each released document and how many of its readers opened it."""
    if not permissions.can_see_receipts(request.user):
        raise PermissionDenied
    rows = selectors.released_documents_with_counts(_council_for(request.user))
    return render(request, "documents/notices/documents_read.html", {"rows": rows})


@login_required
def document_read(request: HttpRequest, document_id: int) -> HttpResponse:
    """Who opened one released document (既読), with a reminder to those who have not."""
    if not permissions.can_see_receipts(request.user):
        raise PermissionDenied
    document = get_object_or_404(Document, pk=document_id)
    if request.method == "POST":
        try:
            count = services.document_remind_unread(document=document, actor=request.user)
            messages.success(
                request, _("Reminder sent to %(count)d member(s) who had not opened it.") % {"count": count}
            )
        except services.NoticeError as exc:
            messages.error(request, exc.text)
        return redirect("documents:notices:document_read", document_id=document.pk)
    rows = selectors.document_readers(document)
    if not rows and document.release_state != Document.Release.RELEASED:
        raise Http404("Not released")
    return render(
        request,
        "documents/notices/document_read.html",
        {
            "document": document,
            "rows": rows,
            "unread": sum(1 for r in rows if r.opened_at is None),
        },
    )
