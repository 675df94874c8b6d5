"""Reads of the live state, shaped as the plain data the protocol sends (no ORM objects leave here)."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from meetings.live.models import LiveConnection, LiveState
from meetings.models import AgendaItem, Sitting

# A connection row is live while its process keeps refreshing it (see fanout.Hub._housekeeping).
CONNECTION_STALE_AFTER = datetime.timedelta(seconds=75)

PUBLIC_STATUSES = (Sitting.Status.OPEN, Sitting.Status.RECESS)


def live_state_for(*, sitting_id: int) -> LiveState:
    live, _created = LiveState.objects.get_or_create(sitting_id=sitting_id)
    return live


def live_state_with_sitting(*, sitting_id: int) -> tuple[LiveState, Sitting]:
    live = live_state_for(sitting_id=sitting_id)
    live = LiveState.objects.select_related(
        "sitting__body", "sitting__session", "agenda_item", "document", "version", "presenter__person"
    ).get(pk=live.pk)
    return live, live.sitting


def person_label(user) -> str:
    if user is None:
        return ""
    person = getattr(user, "person", None)
    if person is not None:
        return f"{person.title} {person.full_name}".strip() if person.title else person.full_name
    return user.get_username()


def agenda_item_data(item: AgendaItem | None, *, audience: str) -> dict | None:
    if item is None:
        return None
    data: dict[str, Any] = {
        "id": item.pk,
        "position": item.position,
        "label": item.label,
        "closed_session": item.closed_session,
    }
    if audience == "public" and item.closed_session:
        return data  # 秘密会: the public learns only that a closed session is under way
    data.update(
        {
            "title": getattr(item, "display_title", item.title),
            "bill_number": item.bill_number,
            "kind": item.kind,
        }
    )
    return data


def presentation_data(live: LiveState) -> dict | None:
    """What is presented, for members: the same payload for every member (one serialization)."""
    if live.document_id is None or live.version_id is None:
        return None
    return {
        "document_id": live.document_id,
        "version_id": live.version_id,
        "version_number": live.version.number,
        "title": live.document.title,
        "page": live.page,
        "page_count": live.version.page_count,
    }


def public_presentation_data(live: LiveState, sitting: Sitting) -> dict | None:
    """What the public view may show, or None (blank). Never anything of a closed session."""
    from documents.permissions import is_public

    if not sitting.is_public or sitting.status not in PUBLIC_STATUSES:
        return None
    if live.agenda_item_id is not None and live.agenda_item.closed_session:
        return None
    if live.document_id is None or live.version_id is None or not is_public(live.document):
        return None
    if live.document.versions.order_by("-number").values_list("id", flat=True).first() != live.version_id:
        return None  # only the current version of a public document is public
    return presentation_data(live)


def presenter_data(live: LiveState) -> dict:
    if live.presenter_id is None:
        return {"user_id": None, "name": "", "default": True}
    return {"user_id": live.presenter_id, "name": person_label(live.presenter), "default": False}


def core_state(
    *, live: LiveState, sitting: Sitting, audience: str, reads_closed_session: bool = True
) -> dict:
    """The core of the full-state message (see docs/protocol.md). A follower who may not open
    closed-session papers (``reads_closed_session`` False) gets a closed-session paper's
    presentation blanked."""
    public = audience == "public"
    agenda_item = live.agenda_item if live.agenda_item_id else None
    data = {
        "status": sitting.status,
        "title": getattr(sitting, "display_name", None) or str(sitting),
        "date": sitting.date.isoformat(),
        "is_public": sitting.is_public,
        "opened_at": sitting.opened_at,
        "closed_at": sitting.closed_at,
        "agenda_item": agenda_item_data(agenda_item, audience=audience),
        "presentation": presentation_for(
            live=live, sitting=sitting, public=public, reads_closed_session=reads_closed_session
        ),
        "presenter": {"user_id": None, "name": "", "default": live.presenter_id is None}
        if public
        else presenter_data(live),
    }
    if not public:
        data["livestream_url"] = sitting.livestream_url
    else:
        data["livestream_url"] = sitting.livestream_url if sitting.is_public else ""
    return data


def presentation_for(
    *, live: LiveState, sitting: Sitting, public: bool, reads_closed_session: bool = True
) -> dict | None:
    """The state's ``presentation`` for an audience (see docs/protocol.md): a paper no longer fit
    for every follower is not shown, and a closed-session paper is blanked for a follower who may
    not open it (``reads_closed_session`` False)."""
    if not _still_presentable(live, sitting):
        return None
    if not public and not reads_closed_session and closed_paper_presented(live):
        return None
    return public_presentation_data(live, sitting) if public else presentation_data(live)


def closed_paper_presented(live: LiveState) -> bool:
    from meetings.live.permissions import is_closed_session_paper

    return live.document_id is not None and is_closed_session_paper(live.document)


def _still_presentable(live: LiveState, sitting: Sitting) -> bool:
    """A document presented earlier and no longer fit for every follower (withdrawn, made
    secretariat-only) is not shown in a fresh state; turning its pages is refused."""
    from meetings.live.permissions import presenting_refusal

    if live.document_id is None:
        return True
    agenda_item = live.agenda_item if live.agenda_item_id else None
    return presenting_refusal(live.document, sitting=sitting, agenda_item=agenda_item) is None


def agenda_for(*, sitting: Sitting) -> list[dict]:
    return [
        {
            "id": i.pk,
            "label": i.label,
            "title": getattr(i, "display_title", i.title),
            "bill_number": i.bill_number,
            "closed_session": i.closed_session,
            "position": i.position,
        }
        for i in sitting.agenda_items.order_by("position", "id")
    ]


def console_documents(*, sitting: Sitting, user) -> list[dict]:
    """Documents the console can present: those attached to the sitting's items that ``user`` may see.
    A withdrawn document is never offered (not even to the clerk), so it cannot sit next to its replacement."""
    from documents.models import Document
    from documents.permissions import can_view
    from meetings.models import AgendaItemDocument

    links = (
        AgendaItemDocument.objects.filter(agenda_item__sitting=sitting)
        .exclude(document__release_state=Document.Release.WITHDRAWN)
        .select_related("document")
        .order_by("agenda_item__position", "position", "id")
    )
    seen: dict[int, dict] = {}
    for link in links:
        doc = link.document
        if doc.pk in seen:
            seen[doc.pk]["items"].append(link.agenda_item_id)
            continue
        if not can_view(user, doc):
            continue
        version = doc.versions.order_by("-number").first()
        if version is None:
            continue
        seen[doc.pk] = {
            "id": doc.pk,
            "title": doc.title,
            "visibility": doc.visibility,
            "version_id": version.pk,
            "page_count": version.page_count,
            "items": [link.agenda_item_id],
        }
    return list(seen.values())


def participants(*, sitting: Sitting) -> list[dict]:
    """People presenting can be handed to: members of the body, officials and the secretariat."""
    from council.models import Person
    from meetings.live.permissions import can_follow

    people = (
        Person.objects.filter(
            council_id=sitting.body.council_id, active=True, user__isnull=False, user__is_active=True
        )
        .select_related("user")
        .order_by("kind", "seat_number", "family_name_kana", "id")
    )
    return [
        {
            "user_id": p.user_id,
            "name": f"{p.title} {p.full_name}".strip() if p.title else p.full_name,
            "kind": p.kind,
            "seat_number": p.seat_number,
        }
        for p in people
        if can_follow(p.user, sitting)
    ]


def connections(*, sitting_id: int) -> list[dict]:
    """Who is connected now (one entry per user; following if any of their sockets follows)."""
    cutoff = timezone.now() - CONNECTION_STALE_AFTER
    rows = (
        LiveConnection.objects.filter(sitting_id=sitting_id, seen_at__gte=cutoff)
        .select_related("user__person")
        .order_by("user_id", "-connected_at")
    )
    by_user: dict[int, dict] = {}
    for row in rows:
        entry = by_user.get(row.user_id)
        if entry is None:
            person = getattr(row.user, "person", None)
            by_user[row.user_id] = {
                "user_id": row.user_id,
                "person_id": person.pk if person else None,
                "name": person_label(row.user),
                "kind": person.kind if person else "",
                "seat_number": person.seat_number if person else None,
                "following": row.following,
                "page": row.page,
                "sockets": 1,
            }
        else:
            entry["sockets"] += 1
            entry["following"] = entry["following"] or row.following
    _add_whereabouts(sitting_id, by_user.values())
    return sorted(
        by_user.values(), key=lambda e: (e["seat_number"] is None, e["seat_number"] or 0, e["name"])
    )


def _add_whereabouts(sitting_id: int, entries) -> None:
    """In the room or online, from the roll (``meetings.attendance``; "" when not on the roll)."""
    from meetings.attendance.models import Attendance

    by_person = {e["person_id"]: e for e in entries if e["person_id"]}
    for entry in entries:
        entry["where"] = ""
    rows = Attendance.objects.filter(sitting_id=sitting_id, person_id__in=list(by_person)).values_list(
        "person_id", "status"
    )
    for person_id, status in rows:
        if status == Attendance.Status.PRESENT_ONLINE:
            by_person[person_id]["where"] = "online"
        elif status in (Attendance.Status.PRESENT_ROOM, Attendance.Status.LATE):
            by_person[person_id]["where"] = "room"
