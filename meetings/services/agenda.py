"""The order of business (議事日程): items, their order, publication.

Positions are always 1..n without gaps (日程第1, 日程第2 …); every change renumbers. Changes to a
published order of business bump the calendar SEQUENCE, since the published agenda changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from council.audit import audit_record
from council.errors import Refused
from meetings.models import AgendaItem, AgendaItemDocument, Sitting

K = AgendaItem.Kind


@dataclass(frozen=True)
class AgendaTemplate:
    label: str
    items: tuple[tuple[str, str, str], ...]  # (kind, title, English title)


# The usual items a sitting starts from. Edit here to suit the council's rules of procedure.
AGENDA_TEMPLATES: dict[str, AgendaTemplate] = {
    "opening": AgendaTemplate(
        gettext_lazy("First sitting of a session (opening items)"),
        (
            (K.SIGNERS, "会議録署名議員の指名", "Nomination of members to sign the minutes"),
            (K.SESSION_LENGTH, "会期の決定", "Decision on the length of the session"),
            (K.REPORT, "諸般の報告", "Reports on various matters"),
            (K.REPORT, "町長の行政報告", "The mayor's administrative report"),
        ),
    ),
    "continued": AgendaTemplate(
        gettext_lazy("Later sitting (general questions)"),
        (
            (K.SIGNERS, "会議録署名議員の指名", "Nomination of members to sign the minutes"),
            (K.GENERAL_QUESTIONS, "一般質問", "General questions"),
        ),
    ),
    "committee": AgendaTemplate(
        gettext_lazy("Committee sitting"),
        ((K.REPORT, "付託案件の審査", "Examination of the referred matters"),),
    ),
}

EDITABLE_FIELDS = ["kind", "title", "title_en", "bill_number", "description", "closed_session"]


def _lock_sitting(sitting: Sitting) -> Sitting:
    locked = Sitting.objects.select_for_update().get(pk=sitting.pk)
    if locked.status in (Sitting.Status.CLOSED, Sitting.Status.CANCELLED):
        raise Refused(_("The order of business of a closed or cancelled sitting cannot be changed."))
    return locked


def _renumber(sitting: Sitting, ordered_ids: list[int]) -> None:
    items = {item.pk: item for item in AgendaItem.objects.filter(sitting=sitting)}
    changed = []
    for position, pk in enumerate(ordered_ids, start=1):
        item = items[pk]
        if item.position != position:
            item.position = position
            changed.append(item)
    if changed:
        AgendaItem.objects.bulk_update(changed, ["position"])


def _current_order(sitting: Sitting) -> list[int]:
    return list(
        AgendaItem.objects.filter(sitting=sitting).order_by("position", "id").values_list("pk", flat=True)
    )


def _announce_after_commit(sitting: Sitting, actor=None) -> None:
    """Tell the body's members, once the change has committed, that the published agenda changed."""
    from django.urls import reverse

    from documents.notices.services import notify_agenda_changed

    sitting_id, body = sitting.pk, sitting.body
    title = _("The order of business of %(sitting)s was published or changed.") % {"sitting": sitting}
    transaction.on_commit(
        lambda: notify_agenda_changed(
            body=body, title=title, link=reverse("meetings:sitting_detail", args=[sitting_id]), actor=actor
        )
    )


def _changed(sitting: Sitting, actor=None) -> None:
    if sitting.agenda_published_at is not None:
        Sitting.objects.filter(pk=sitting.pk).update(ical_sequence=F("ical_sequence") + 1)
        _announce_after_commit(sitting, actor)


def _validate(item: AgendaItem) -> None:
    try:
        item.full_clean()
    except ValidationError as exc:
        raise Refused(exc.message_dict if hasattr(exc, "error_dict") else exc.messages) from exc


@transaction.atomic
def agenda_item_add(
    *,
    actor,
    sitting: Sitting,
    kind: str,
    title: str,
    title_en: str = "",
    bill_number: str = "",
    description: str = "",
    closed_session: bool = False,
    position: int | None = None,
) -> AgendaItem:
    """Add an item at ``position`` (1-based; default: at the end)."""
    sitting = _lock_sitting(sitting)
    order = _current_order(sitting)
    item = AgendaItem(
        sitting=sitting,
        position=len(order) + 1,
        kind=kind,
        title=title,
        title_en=title_en,
        bill_number=bill_number,
        description=description,
        closed_session=closed_session,
    )
    _validate(item)
    item.save()
    index = len(order) if position is None else max(0, min(position - 1, len(order)))
    order.insert(index, item.pk)
    _renumber(sitting, order)
    item.refresh_from_db()
    _changed(sitting, actor)
    audit_record(
        action="agenda.item_add",
        actor=actor,
        target=item,
        data={
            "sitting": sitting.pk,
            "position": item.position,
            "kind": kind,
            "title": title,
            "bill_number": bill_number,
        },
    )
    return item


@transaction.atomic
def agenda_item_update(*, actor, item: AgendaItem, **fields) -> AgendaItem:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"unknown agenda item fields: {sorted(unknown)}")
    sitting = _lock_sitting(item.sitting)
    item = AgendaItem.objects.get(pk=item.pk, sitting=sitting)
    for name, value in fields.items():
        setattr(item, name, value)
    _validate(item)
    item.save()
    _changed(sitting, actor)
    audit_record(action="agenda.item_update", actor=actor, target=item, data=fields)
    return item


@transaction.atomic
def agenda_item_delete(*, actor, item: AgendaItem) -> None:
    sitting = _lock_sitting(item.sitting)
    item = AgendaItem.objects.get(pk=item.pk, sitting=sitting)
    data = {"sitting": sitting.pk, "position": item.position, "title": item.title}
    pk = item.pk
    item.delete()
    _renumber(sitting, _current_order(sitting))
    _changed(sitting, actor)
    audit_record(
        action="agenda.item_delete", actor=actor, target_type="meetings.agendaitem", target_id=pk, data=data
    )


@transaction.atomic
def agenda_item_move(*, actor, item: AgendaItem, direction: str) -> AgendaItem:
    """Move an item one place ``up`` or ``down``; at either end nothing changes."""
    if direction not in ("up", "down"):
        raise Refused(_("Unknown direction."))
    sitting = _lock_sitting(item.sitting)
    order = _current_order(sitting)
    index = order.index(item.pk)
    target = index - 1 if direction == "up" else index + 1
    if 0 <= target < len(order):
        order[index], order[target] = order[target], order[index]
        _renumber(sitting, order)
        _changed(sitting, actor)
        audit_record(action="agenda.reorder", actor=actor, target=sitting, data={"order": order})
    item.refresh_from_db()
    return item


@transaction.atomic
def agenda_reorder(*, actor, sitting: Sitting, item_ids: list[int]) -> None:
    """Put the items in the given order (as after a drag and drop): exactly the sitting's items."""
    sitting = _lock_sitting(sitting)
    order = _current_order(sitting)
    if sorted(item_ids) != sorted(order) or len(set(item_ids)) != len(item_ids):
        raise Refused(_("The order of business changed meanwhile; reload the page and try again."))
    if item_ids == order:
        return
    _renumber(sitting, item_ids)
    _changed(sitting, actor)
    audit_record(action="agenda.reorder", actor=actor, target=sitting, data={"order": item_ids})


@transaction.atomic
def agenda_publish(*, actor, sitting: Sitting) -> Sitting:
    """Publish the order of business to the members (and to calendars: SEQUENCE rises)."""
    sitting = _lock_sitting(sitting)
    if not AgendaItem.objects.filter(sitting=sitting).exists():
        raise Refused(_("An empty order of business cannot be published."))
    sitting.agenda_published_at = timezone.now()
    sitting.ical_sequence = F("ical_sequence") + 1
    sitting.save(update_fields=["agenda_published_at", "ical_sequence", "updated_at"])
    sitting.refresh_from_db()
    audit_record(
        action="agenda.publish", actor=actor, target=sitting, data={"items": _current_order(sitting)}
    )
    _announce_after_commit(sitting, actor)
    return sitting


@transaction.atomic
def agenda_unpublish(*, actor, sitting: Sitting) -> Sitting:
    """Withdraw a published order of business back to draft (members no longer see it)."""
    sitting = _lock_sitting(sitting)
    if sitting.agenda_published_at is None:
        raise Refused(_("The order of business is not published."))
    sitting.agenda_published_at = None
    sitting.ical_sequence = F("ical_sequence") + 1
    sitting.save(update_fields=["agenda_published_at", "ical_sequence", "updated_at"])
    sitting.refresh_from_db()
    audit_record(action="agenda.unpublish", actor=actor, target=sitting)
    return sitting


@transaction.atomic
def agenda_document_move(
    *,
    actor,
    sitting: Sitting,
    document_id: int,
    to_item: AgendaItem | None,
    from_item: AgendaItem | None = None,
) -> AgendaItemDocument:
    """Move a document of the sitting to another of its agenda items (filed under the wrong item,
    or the item was split). It goes to the end of the new item's documents; audited.

    ``from_item`` names the item to take it from when the document is on several."""
    sitting = _lock_sitting(sitting)
    if to_item is None or to_item.sitting_id != sitting.pk:
        raise Refused(_("Choose an item of this sitting's order of business to move the document to."))
    links = AgendaItemDocument.objects.select_for_update().filter(
        agenda_item__sitting=sitting, document_id=document_id
    )
    if from_item is not None:
        links = links.filter(agenda_item=from_item)
    link = links.select_related("agenda_item", "document").order_by("agenda_item__position", "id").first()
    if link is None:
        raise Refused(_("This document is not on this sitting's order of business."))
    if link.agenda_item_id == to_item.pk:
        raise Refused(_("The document is already on that item."))
    if AgendaItemDocument.objects.filter(agenda_item=to_item, document_id=document_id).exists():
        raise Refused(_("The document is already on that item."))
    source = link.agenda_item
    link.agenda_item = to_item
    link.position = AgendaItemDocument.objects.filter(agenda_item=to_item).count() + 1
    link.save(update_fields=["agenda_item", "position"])
    audit_record(
        action="meetings.document_moved",
        actor=actor,
        target=to_item,
        data={"sitting": sitting.pk, "document": document_id, "from": source.pk, "to": to_item.pk},
    )
    _changed(sitting, actor)
    return link
