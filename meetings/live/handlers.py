"""Inbound message types of live sessions, each with its schema and a small handler.

Handlers parse, fetch and call a service; the services check permissions and rules. ``ping``,
``state.request`` and ``follow`` are answered by the consumer itself (they concern the socket,
not the sitting) and are registered here without a handler so they are validated like the rest.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from meetings.live import selectors, services
from meetings.live.errors import Refused
from meetings.live.protocol import register_handler
from meetings.models import AgendaItem, Sitting

ID = {"type": "integer", "minimum": 1, "maximum": 2**53}
PAGE = {"type": "integer", "minimum": 1, "maximum": 100000}


def _sitting(sitting_id: int) -> Sitting:
    return Sitting.objects.select_related("body", "session").get(pk=sitting_id)


def handle_page_turn(*, user, sitting_id: int, message: dict) -> None:
    services.page_turn(
        sitting=sitting_id, actor=user, page=message["page"], version_id=message.get("version_id")
    )


def handle_document_present(*, user, sitting_id: int, message: dict) -> None:
    services.document_present(
        sitting=_sitting(sitting_id),
        actor=user,
        document_id=message["document_id"],
        version_id=message.get("version_id"),
        page=message.get("page", 1),
    )


def handle_agenda_move(*, user, sitting_id: int, message: dict) -> None:
    item_id = message.get("agenda_item_id")
    item = None
    if item_id is not None:
        item = AgendaItem.objects.filter(pk=item_id, sitting_id=sitting_id).first()
        if item is None:
            raise Refused(_("That item is not on this sitting's order of business."), code="not_found")
    services.agenda_move(sitting=_sitting(sitting_id), actor=user, agenda_item=item)


def _status_handler(service):
    def handle(*, user, sitting_id: int, message: dict) -> None:
        service(sitting=_sitting(sitting_id), actor=user)

    return handle


def handle_presenter_handover(*, user, sitting_id: int, message: dict) -> None:
    to_user = (
        get_user_model()
        .objects.select_related("person")
        .filter(pk=message["user_id"], is_active=True)
        .first()
    )
    services.presenter_handover(sitting=_sitting(sitting_id), actor=user, to_user=to_user)


def handle_presenter_reclaim(*, user, sitting_id: int, message: dict) -> None:
    services.presenter_reclaim(sitting=_sitting(sitting_id), actor=user)


def handle_presence_list(*, user, sitting_id: int, message: dict) -> dict:
    from meetings.live.permissions import can_run

    if not can_run(user, _sitting(sitting_id)):
        raise Refused(_("Only the secretariat or the chair can run this sitting."), code="forbidden")
    return {"type": "presence", "connections": selectors.connections(sitting_id=sitting_id)}


def handle_agenda_list(*, user, sitting_id: int, message: dict) -> dict:
    """The order of business and the documents on it that ``user`` may read: the ids a client needs
    for ``agenda.move`` and ``document.present``."""
    sitting = _sitting(sitting_id)
    return {
        "type": "agenda",
        "items": selectors.agenda_for(sitting=sitting),
        "documents": selectors.console_documents(sitting=sitting, user=user),
    }


def register() -> None:
    # Answered by the consumer itself.
    register_handler("ping", schema={}, handler=None, public=True)
    register_handler(
        "state.request",
        schema={"properties": {"reason": {"type": "string", "maxLength": 40}}},
        handler=None,
        public=True,
    )
    register_handler(
        "follow",
        schema={"properties": {"following": {"type": "boolean"}, "page": PAGE}, "required": ["following"]},
        handler=None,
    )
    # Presenting and running the sitting.
    register_handler(
        "page.turn",
        schema={"properties": {"page": PAGE, "version_id": ID}, "required": ["page"]},
        handler=handle_page_turn,
    )
    register_handler(
        "document.present",
        schema={
            "properties": {"document_id": ID, "version_id": ID, "page": PAGE},
            "required": ["document_id"],
        },
        handler=handle_document_present,
    )
    register_handler(
        "agenda.move",
        schema={
            "properties": {"agenda_item_id": {"type": ["integer", "null"], "minimum": 1}},
            "required": ["agenda_item_id"],
        },
        handler=handle_agenda_move,
    )
    register_handler("sitting.open", schema={}, handler=_status_handler(services.sitting_open))
    register_handler("sitting.recess", schema={}, handler=_status_handler(services.sitting_recess))
    register_handler("sitting.resume", schema={}, handler=_status_handler(services.sitting_resume))
    register_handler("sitting.close", schema={}, handler=_status_handler(services.sitting_close))
    register_handler(
        "presenter.handover",
        schema={"properties": {"user_id": ID}, "required": ["user_id"]},
        handler=handle_presenter_handover,
    )
    register_handler("presenter.reclaim", schema={}, handler=handle_presenter_reclaim)
    register_handler("presence.list", schema={}, handler=handle_presence_list)
    register_handler("agenda.list", schema={}, handler=handle_agenda_list)
