"""The tablet reader for a sitting, and the secretariat's upload page for its agenda documents.

The reader shows the order of business on one side and the documents of the selected item
(pdf.js, with thumbnails, zoom, swipe and two documents side by side). Which documents a user
sees is decided by ``documents.permissions`` alone; meetings only supplies the links between
agenda items and documents (``AgendaItemDocument``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET

from council.audit import audit_record
from documents import permissions as document_permissions
from documents import services as document_services
from documents.errors import DocumentError
from documents.models import Document
from documents.reader import WHOLE_FILE_MAX, documents_payload, reader_config
from documents.uploads import created_document, limit_upload, parse_release_at, receive_upload
from meetings import permissions
from meetings.models import AgendaItem, AgendaItemDocument, Sitting
from meetings.views import SITTING_LINKS, SittingLink

SITTING_LINKS.extend(
    [
        SittingLink(
            "meetings:reader:sitting",
            gettext_lazy("Open the documents"),
            lambda user, sitting: permissions.can_view_sitting(user, sitting),
            primary=True,
        ),
        SittingLink(
            "meetings:reader:upload",
            gettext_lazy("Upload documents"),
            lambda user, sitting: document_permissions.can_manage(user),
        ),
    ]
)


def _sitting_for(user, sitting_id: int) -> Sitting:
    sitting = Sitting.objects.select_related("session", "body", "body__council").filter(pk=sitting_id).first()
    if sitting is None or not permissions.can_view_sitting(user, sitting):
        raise Http404("No such sitting")
    return sitting


def sitting_reader_data(user, sitting: Sitting) -> tuple[list[dict], list[dict]]:
    """The agenda and the documents a user may read for a sitting."""
    show_agenda = permissions.can_view_agenda(user, sitting)
    items = list(sitting.agenda_items.order_by("position", "id")) if show_agenda else []
    links = list(
        AgendaItemDocument.objects.filter(agenda_item__in=items)
        .exclude(document__release_state=Document.Release.WITHDRAWN)  # gone for the clerk's reader too
        .select_related("document", "document__body", "document__council")
        .order_by("agenda_item__position", "position", "id")
    )
    visible = {}
    items_of: dict[int, list[int]] = {}
    for link in links:
        document = link.document
        if document.pk not in visible and document_permissions.can_view(user, document):
            visible[document.pk] = document
        if document.pk in visible:
            items_of.setdefault(document.pk, []).append(link.agenda_item_id)
    documents = list(visible.values())
    prefetch_related_objects(documents, "versions")
    documents = [d for d in documents if d.versions.all()]
    agenda = [
        {
            "id": item.pk,
            "label": item.label,
            "title": getattr(item, "display_title", item.title),
            "bill_number": item.bill_number,
            "closed_session": item.closed_session,
            "documents": [d.pk for d in documents if item.pk in items_of.get(d.pk, [])],
        }
        for item in items
    ]
    return agenda, documents_payload(user, documents, items_of=items_of)


@login_required
@require_GET
def sitting_reader(request: HttpRequest, sitting_id: int) -> HttpResponse:
    sitting = _sitting_for(request.user, sitting_id)
    agenda, documents = sitting_reader_data(request.user, sitting)
    presented = presented_now(request.user, sitting)
    return render(
        request,
        "meetings/reader.html",
        {
            "sitting": sitting,
            "agenda": agenda,
            "documents": documents,
            "config": reader_config(),
            "agenda_visible": permissions.can_view_agenda(request.user, sitting),
            "can_manage": document_permissions.can_manage(request.user),
            "presented": presented,
            "presented_file": presented_file_url(presented=presented, documents=documents),
        },
    )


def presented_file_url(*, presented: dict | None, documents: list[dict]) -> str | None:
    """The served file of the presented version when the reader reads it whole (small files; boot.js):
    the page preloads it from its head, so the bytes are on their way before any script has run.
    Only a version among the documents this member may read (their own page lists them)."""
    version_id = ((presented or {}).get("presentation") or {}).get("version_id")
    if not version_id:
        return None
    for document in documents:
        for version in document.get("versions") or []:
            if (
                version["id"] == version_id
                and version.get("url")
                and 0 < (version.get("size") or 0) <= WHOLE_FILE_MAX
            ):
                return version["url"]
    return None


def presented_now(user, sitting: Sitting) -> dict | None:
    """What the presenter shows right now, with the members' stream sequence number, for those who
    may follow the sitting: embedded in the reader's page so that a member joining a sitting in
    progress sees the presented page without waiting for the live socket (which then confirms it
    or moves on)."""
    from meetings.live import permissions as live_permissions
    from meetings.live.models import LiveState
    from meetings.live.selectors import presentation_for

    if not live_permissions.can_follow(user, sitting):
        return None
    live = LiveState.objects.select_related("document", "version").filter(sitting=sitting).first()
    if live is None or live.document_id is None:
        return None
    # Exactly what this member's own socket state would say (a closed-session paper blanked for an
    # official, a withdrawn one not shown), with the members' stream sequence number.
    data = presentation_for(
        live=live,
        sitting=sitting,
        public=False,
        reads_closed_session=live_permissions.reads_closed_session(user, sitting),
    )
    return {"presentation": data, "seq": live.seq} if data else None


# --- the secretariat's upload for a sitting ------------------------------------------------------


@login_required
@require_GET
def sitting_upload(request: HttpRequest, sitting_id: int) -> HttpResponse:
    if not document_permissions.can_manage(request.user):
        raise PermissionDenied
    sitting = _sitting_for(request.user, sitting_id)
    items = list(sitting.agenda_items.order_by("position", "id").prefetch_related("document_links__document"))
    return render(
        request,
        "documents/upload.html",
        {
            "sitting": sitting,
            "items": items,
            "selected_item": _item_being_prepared(request, sitting, items),
            "visibility_choices": Document.Visibility.choices,
            "upload_url": reverse("meetings:reader:upload_file", args=[sitting.pk]),
            "upload_max": settings.COUNCIL_UPLOAD_MAX_BYTES,
        },
    )


def _item_being_prepared(request: HttpRequest, sitting: Sitting, items: list[AgendaItem]) -> int | None:
    """The item the upload is for: the one the clerk came from (``?item=``), else the one on the
    floor in the live sitting, else none (the clerk chooses)."""
    ids = {item.pk for item in items}
    asked = request.GET.get("item", "")
    if asked.isdigit() and int(asked) in ids:
        return int(asked)
    from meetings.live.models import LiveState

    live = LiveState.objects.filter(sitting=sitting).values_list("agenda_item_id", flat=True).first()
    return live if live in ids else None


def attach_document(*, item: AgendaItem, document: Document, actor) -> AgendaItemDocument:
    """Links a document to an agenda item (at the end of the item's list)."""
    with transaction.atomic():
        position = item.document_links.count() + 1
        link, _created = AgendaItemDocument.objects.get_or_create(
            agenda_item=item, document=document, defaults={"position": position}
        )
        audit_record(
            action="meetings.document_attached",
            actor=actor,
            target=item,
            data={"document": document.pk, "sitting": item.sitting_id},
        )
    return link


@csrf_exempt  # the size limit must be installed before the body is read; CSRF is checked below
@login_required
def sitting_upload_file(request: HttpRequest, sitting_id: int) -> HttpResponse:
    """XHR target: one PDF, attached to an agenda item of the sitting."""
    if request.method != "POST":
        raise Http404
    if not document_permissions.can_manage(request.user):
        raise PermissionDenied
    limit_upload(request)
    return _sitting_upload_file(request, sitting_id)


@csrf_protect
def _sitting_upload_file(request: HttpRequest, sitting_id: int) -> HttpResponse:
    sitting = _sitting_for(request.user, sitting_id)

    def create(upload, post):
        item = sitting.agenda_items.filter(pk=post.get("item") or 0).first()
        if item is None:
            raise DocumentError(_("Choose the agenda item the document belongs to."), reason="item")
        visibility = post.get("visibility") or (
            Document.Visibility.CLOSED_SESSION if item.closed_session else Document.Visibility.MEMBERS
        )
        release_at = parse_release_at(post.get("release_at", "")) if post.get("release") == "at" else None
        document = document_services.document_create(
            body=sitting.body,
            title=post.get("title") or upload.name.rsplit(".", 1)[0],
            path=upload.temporary_file_path(),
            original_name=upload.name,
            actor=request.user,
            visibility=visibility,
            release_now=post.get("release") == "now",
            release_at=release_at,
        )
        attach_document(item=item, document=document, actor=request.user)
        return document

    return receive_upload(request, create, created_document)
