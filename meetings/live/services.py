"""Every change of a sitting's live state: named, keyword-only, atomic, audited, published.

Each service locks the sitting's ``LiveState`` row (``select_for_update``; SQLite serializes
writers anyway), checks the actor's permission and the domain rules, writes, appends an audit
entry and publishes the change through ``meetings.events.publish`` (sent after commit). Refusals
raise ``meetings.live.errors.Refused`` with a translated message and change nothing.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from council.audit import audit_record
from meetings.events import live_language, publish, publish_many
from meetings.live import permissions, selectors
from meetings.live.errors import Refused
from meetings.live.models import LiveState, StatusChange
from meetings.models import AgendaItem, AgendaItemDocument, Sitting


def _lock(sitting: Sitting | int) -> tuple[LiveState, Sitting]:
    """Lock and load the sitting's live state (with what it points at) in one query."""
    sitting_id = sitting if isinstance(sitting, int) else sitting.pk
    query = LiveState.objects.select_for_update(of=("self",)).select_related(
        "sitting__body", "sitting__session", "agenda_item", "document", "version", "presenter"
    )
    try:
        live = query.get(pk=sitting_id)
    except LiveState.DoesNotExist:
        if not Sitting.objects.filter(pk=sitting_id).exists():
            raise Refused(_("That sitting does not exist."), code="not_found") from None
        LiveState.objects.get_or_create(sitting_id=sitting_id)
        live = query.get(pk=sitting_id)
    return live, live.sitting


def _require_run(actor, sitting: Sitting) -> None:
    if not permissions.can_run(actor, sitting):
        raise Refused(_("Only the secretariat or the chair can run this sitting."), code="forbidden")


def _require_live(sitting: Sitting) -> None:
    if sitting.status in (Sitting.Status.CLOSED, Sitting.Status.CANCELLED):
        raise Refused(_("The sitting is closed."), code="closed")


def _publish_status(live: LiveState, sitting: Sitting) -> None:
    with live_language():
        _publish_status_now(live, sitting)


def _publish_status_now(live: LiveState, sitting: Sitting) -> None:
    base = {"status": sitting.status, "opened_at": sitting.opened_at, "closed_at": sitting.closed_at}
    publish(sitting_id=sitting.pk, type="session.status", payload=base)
    publish(
        sitting_id=sitting.pk,
        type="session.status",
        audience="public",
        payload={**base, "presentation": selectors.public_presentation_data(live, sitting)},
    )


def _publish_presentation(live: LiveState, sitting: Sitting, *, type_: str) -> None:
    with live_language():
        _publish_presentation_now(live, sitting, type_=type_)


def _publish_presentation_now(live: LiveState, sitting: Sitting, *, type_: str) -> None:
    members = {"presentation": selectors.presentation_data(live)}
    public = {"presentation": selectors.public_presentation_data(live, sitting)}
    if type_ == "session.agenda":
        item = live.agenda_item if live.agenda_item_id else None
        members["agenda_item"] = selectors.agenda_item_data(item, audience="members")
        public["agenda_item"] = selectors.agenda_item_data(item, audience="public")
    members_event: tuple = (type_, members, "members")
    if members["presentation"] is not None and selectors.closed_paper_presented(live):
        # Officials follow the sitting but may not open closed-session papers: theirs is blank.
        members_event = (*members_event, {**members, "presentation": None})
    publish_many(sitting_id=sitting.pk, events=[members_event, (type_, public, "public")])


def _publish_presenter(live: LiveState, sitting: Sitting) -> None:
    """Who presents, to the members; to the public only whether the default presenters do."""
    public = {"user_id": None, "name": "", "default": live.presenter_id is None}
    publish_many(
        sitting_id=sitting.pk,
        events=[
            ("session.presenter", {"presenter": selectors.presenter_data(live)}, "members"),
            ("session.presenter", {"presenter": public}, "public"),
        ],
    )


def _require_quorum(sitting: Sitting, *, verb: str) -> None:
    from meetings.attendance.quorum import quorum_status

    quorum = quorum_status(sitting=sitting)
    if not quorum.met:
        if verb == "open":
            text = _("The sitting cannot open without a quorum: %(reason)s")
        else:
            text = _("The sitting cannot resume without a quorum: %(reason)s")
        raise Refused(text % {"reason": quorum.reason}, code="no_quorum")


def _change_status(
    *, sitting: Sitting, actor, action: str, allowed_from: tuple[str, ...], to: str, refusal: str
) -> Sitting:
    live, sitting = _lock(sitting)
    _require_run(actor, sitting)
    if sitting.status not in allowed_from:
        raise Refused(refusal, code="status")
    if action in (StatusChange.Action.OPEN, StatusChange.Action.RESUME):
        _require_quorum(sitting, verb=action)
    now = timezone.now()
    before = sitting.status
    sitting.status = to
    fields = ["status", "updated_at"]
    if action == StatusChange.Action.OPEN:
        sitting.opened_at = now
        fields.append("opened_at")
    elif action == StatusChange.Action.CLOSE:
        sitting.closed_at = now
        fields.append("closed_at")
    sitting.save(update_fields=fields)
    StatusChange.objects.create(
        sitting=sitting,
        action=action,
        from_status=before,
        to_status=to,
        at=now,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit_record(
        action=f"live.sitting_{action}",
        actor=actor,
        target=sitting,
        data={"from": before, "to": to, "at": now.isoformat()},
    )
    _publish_status(live, sitting)
    return sitting


@transaction.atomic
def sitting_open(*, sitting: Sitting, actor) -> Sitting:
    """開会: open a scheduled sitting. Refused without a quorum (§113)."""
    return _change_status(
        sitting=sitting,
        actor=actor,
        action=StatusChange.Action.OPEN,
        allowed_from=(Sitting.Status.SCHEDULED,),
        to=Sitting.Status.OPEN,
        refusal=_("Only a scheduled sitting can be opened."),
    )


@transaction.atomic
def sitting_recess(*, sitting: Sitting, actor) -> Sitting:
    """休憩: suspend an open sitting."""
    return _change_status(
        sitting=sitting,
        actor=actor,
        action=StatusChange.Action.RECESS,
        allowed_from=(Sitting.Status.OPEN,),
        to=Sitting.Status.RECESS,
        refusal=_("Only an open sitting can go into recess."),
    )


@transaction.atomic
def sitting_resume(*, sitting: Sitting, actor) -> Sitting:
    """再開: resume after a recess. Refused without a quorum."""
    return _change_status(
        sitting=sitting,
        actor=actor,
        action=StatusChange.Action.RESUME,
        allowed_from=(Sitting.Status.RECESS,),
        to=Sitting.Status.OPEN,
        refusal=_("Only a sitting in recess can resume."),
    )


@transaction.atomic
def sitting_close(*, sitting: Sitting, actor) -> Sitting:
    """散会・閉会: close an open sitting or one in recess."""
    return _change_status(
        sitting=sitting,
        actor=actor,
        action=StatusChange.Action.CLOSE,
        allowed_from=(Sitting.Status.OPEN, Sitting.Status.RECESS),
        to=Sitting.Status.CLOSED,
        refusal=_("Only an open sitting or one in recess can be closed."),
    )


@transaction.atomic
def agenda_move(*, sitting: Sitting, actor, agenda_item: AgendaItem | None) -> LiveState:
    """Move to an item of the order of business (None: no item). Stops presenting a document
    that is not attached to the new item."""
    live, sitting = _lock(sitting)
    _require_run(actor, sitting)
    _require_live(sitting)
    if agenda_item is not None and agenda_item.sitting_id != sitting.pk:
        raise Refused(_("That item is not on this sitting's order of business."), code="not_found")
    live.agenda_item = agenda_item
    if live.document_id and not (
        agenda_item is not None
        and AgendaItemDocument.objects.filter(agenda_item=agenda_item, document_id=live.document_id).exists()
    ):
        live.document = live.version = None
        live.page = 1
    live.updated_at = timezone.now()
    live.save(update_fields=["agenda_item", "document", "version", "page", "updated_at"])
    audit_record(
        action="live.agenda_move",
        actor=actor,
        target=sitting,
        data={"agenda_item": agenda_item.pk if agenda_item else None},
    )
    _publish_presentation(live, sitting, type_="session.agenda")
    return live


def _require_present(actor, live: LiveState, sitting: Sitting) -> None:
    if not permissions.can_present(actor, sitting, presenter_id=live.presenter_id):
        raise Refused(_("You are not presenting in this sitting."), code="forbidden")


@transaction.atomic
def document_present(
    *, sitting: Sitting, actor, document_id: int, version_id: int | None = None, page: int = 1
) -> LiveState:
    """Present a document (its current version) at a page to every follower."""
    from documents.models import Document
    from documents.permissions import can_view

    live, sitting = _lock(sitting)
    _require_present(actor, live, sitting)
    _require_live(sitting)
    document = Document.objects.filter(pk=document_id, council_id=sitting.body.council_id).first()
    # The same answer for a missing document and one the presenter may not see.
    if document is None or not can_view(actor, document):
        raise Refused(_("That document does not exist or you cannot see it."), code="not_found")
    _require_presentable(document, live)
    current = document.versions.order_by("-number").first()
    if current is None:
        raise Refused(_("That document has no readable version yet."), code="not_found")
    if version_id is not None and version_id != current.pk:
        raise Refused(_("Only the current version of a document can be presented."), code="version")
    _check_page(page, current.page_count)
    live.document, live.version, live.page = document, current, page
    live.updated_at = timezone.now()
    live.save(update_fields=["document", "version", "page", "updated_at"])
    audit_record(
        action="live.document_present",
        actor=actor,
        target=sitting,
        data={"document": document.pk, "version": current.pk, "page": page},
    )
    _publish_presentation(live, sitting, type_="session.page")
    return live


def _require_presentable(document, live: LiveState) -> None:
    """Every follower of the members' stream receives what is presented, so it must be theirs to
    read (``permissions.presenting_refusal``)."""
    agenda_item = live.agenda_item if live.agenda_item_id else None
    refusal = permissions.presenting_refusal(document, sitting=live.sitting, agenda_item=agenda_item)
    if refusal == "unreleased":
        raise Refused(_("Only documents released to the members can be presented."), code="not_presentable")
    if refusal == "other_body":
        raise Refused(
            _("This document belongs to another body; its members-only papers cannot be presented here."),
            code="not_presentable",
        )
    if refusal == "closed_session":
        raise Refused(
            _("A closed-session document can be presented only during a closed-session item."),
            code="not_presentable",
        )


def _check_page(page: int, page_count: int) -> None:
    if page < 1 or page > page_count:
        raise Refused(
            _("Page %(page)s does not exist: the document has %(count)s pages.")
            % {"page": page, "count": page_count},
            code="page",
        )


@transaction.atomic
def page_turn(*, sitting: Sitting | int, actor, page: int, version_id: int | None = None) -> LiveState:
    """Turn the presented document to ``page``. ``version_id``, when given, must still be presented.

    The hot path of a sitting: ``sitting`` may be an id, so the handler need not load it first."""
    live, sitting = _lock(sitting)
    _require_present(actor, live, sitting)
    _require_live(sitting)
    if live.version_id is None:
        raise Refused(_("No document is being presented."), code="no_document")
    if version_id is not None and version_id != live.version_id:
        raise Refused(_("The presented document has changed; turn the page again."), code="stale")
    _require_presentable(live.document, live)  # e.g. withdrawn since it was put up
    _check_page(page, live.version.page_count)
    if page == live.page:
        return live
    live.page = page
    live.updated_at = timezone.now()
    live.save(update_fields=["page", "updated_at"])
    audit_record(
        action="live.page_turn",
        actor=actor,
        target=sitting,
        data={"document": live.document_id, "version": live.version_id, "page": page},
    )
    _publish_presentation(live, sitting, type_="session.page")
    return live


@transaction.atomic
def presenter_handover(*, sitting: Sitting, actor, to_user) -> LiveState:
    """Hand presenting to another participant (e.g. an official explaining a bill), atomically."""
    live, sitting = _lock(sitting)
    _require_run(actor, sitting)
    _require_live(sitting)
    if to_user is None or not permissions.can_follow(to_user, sitting):
        raise Refused(_("Presenting can only be handed to a participant of this sitting."), code="not_found")
    before = live.presenter_id
    live.presenter = to_user
    live.updated_at = timezone.now()
    live.save(update_fields=["presenter", "updated_at"])
    audit_record(
        action="live.presenter_handover", actor=actor, target=sitting, data={"from": before, "to": to_user.pk}
    )
    _publish_presenter(live, sitting)
    return live


@transaction.atomic
def presenter_reclaim(*, sitting: Sitting, actor) -> LiveState:
    """Take presenting back to the default presenters (the secretariat and the chair)."""
    live, sitting = _lock(sitting)
    _require_run(actor, sitting)
    if live.presenter_id is None:
        return live
    before = live.presenter_id
    live.presenter = None
    live.updated_at = timezone.now()
    live.save(update_fields=["presenter", "updated_at"])
    audit_record(action="live.presenter_reclaim", actor=actor, target=sitting, data={"from": before})
    _publish_presenter(live, sitting)
    return live
