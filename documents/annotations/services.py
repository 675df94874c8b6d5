"""State changes for annotations, bookmarks, read receipts and offline devices.

Annotations are private: audit entries written here carry counts and ids of documents and
devices, never an annotation's text, geometry or id. Individual strokes and notes are the
member's own workspace and are not audited one by one (an audit row per stroke would tell
administrators when and where a member wrote, which is exactly what must stay private).
"""

from __future__ import annotations

import datetime
import re
import uuid
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from council.audit import audit_record
from council.errors import DomainError
from documents.annotations import permissions
from documents.annotations.models import Annotation, Bookmark, OfflineDevice
from documents.models import DocumentVersion

MAX_POINTS = 5000
MAX_TEXT = 10000
COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
# A fixed namespace so the copy made for one losing change always gets the same id (no duplicates on resend).
CONFLICT_NS = uuid.UUID("5b0c6f4e-7f8e-4d0b-9a55-2f7c1f0e8a11")


class AnnotationError(DomainError):
    """A refused annotation operation; the message is translated and shown to the member."""


class DeviceRevoked(AnnotationError):
    default_code = "device_revoked"


def _refuse_superseded(version: DocumentVersion) -> None:
    """New notes and bookmarks go on the current version only: a superseded one (差し替え済み) is
    kept for the record and for the notes already on it, which its member can still review."""
    if DocumentVersion.objects.filter(document_id=version.document_id, number__gt=version.number).exists():
        raise AnnotationError(
            _("This version of the document has been replaced. Open the current version to write notes.")
        )


# --- Replacement (差し替え) ----------------------------------------------------------------


def carry_forward(*, old: DocumentVersion, new: DocumentVersion, unchanged_pages: dict[int, int]) -> None:
    """Move every member's annotations on unchanged pages of ``old`` onto ``new``.

    ``unchanged_pages`` maps an old page number to the new page number with the same content.
    Annotations on other pages stay on ``old`` and are flagged for their member to look at with the
    old and new pages side by side. Nothing is deleted. Bookmarks on unchanged pages move too.
    """
    with transaction.atomic():
        moved = flagged = 0
        annotations = Annotation.objects.select_for_update().filter(version=old, deleted_at__isnull=True)
        for annotation in annotations:
            target = unchanged_pages.get(annotation.page)
            if target is not None and 1 <= target <= new.page_count:
                annotation.version = new
                annotation.page = target
                annotation.needs_review = False
                annotation.review_version = None
                annotation.save(update_fields=["version", "page", "needs_review", "review_version"])
                moved += 1
            else:
                annotation.needs_review = True
                annotation.review_version = new
                annotation.save(update_fields=["needs_review", "review_version"])
                flagged += 1
        bookmarks_moved = 0
        for bookmark in Bookmark.objects.select_for_update().filter(version=old):
            target = unchanged_pages.get(bookmark.page)
            if target is None or not 1 <= target <= new.page_count:
                continue
            if Bookmark.objects.filter(member_id=bookmark.member_id, version=new, page=target).exists():
                continue
            bookmark.version = new
            bookmark.page = target
            bookmark.save(update_fields=["version", "page"])
            bookmarks_moved += 1
        audit_record(
            action="annotations.carried_forward",
            target=new,
            data={
                "old_version": old.pk,
                "moved": moved,
                "needs_review": flagged,
                "bookmarks_moved": bookmarks_moved,
            },
        )


def review_resolve(*, member, annotation: Annotation, move_to_page: int | None) -> Annotation:
    """The member has looked at a flagged note: move a copy onto the current version's page, or keep it."""
    with transaction.atomic():
        annotation = Annotation.objects.select_for_update().get(pk=annotation.pk, member=member)
        if not annotation.needs_review:
            raise AnnotationError(_("This note does not need a review."))
        current = annotation.document.current_version
        if move_to_page is not None:
            if current is None or not 1 <= move_to_page <= current.page_count:
                raise AnnotationError(_("That page does not exist in the current version."))
            Annotation.objects.create(
                member=member,
                document=annotation.document,
                version=current,
                page=move_to_page,
                kind=annotation.kind,
                colour=annotation.colour,
                geometry=annotation.geometry,
                text=annotation.text,
            )
        annotation.needs_review = False
        annotation.save(update_fields=["needs_review"])
        return annotation


# --- Sync ---------------------------------------------------------------------------------


def _clean_geometry(kind: str, geometry: Any) -> dict:
    if not isinstance(geometry, dict):
        raise AnnotationError(_("The shape of the annotation is not valid."))

    def unit(value: Any) -> float:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise AnnotationError(_("The shape of the annotation is not valid."))
        return round(min(max(float(value), 0.0), 1.0), 5)

    if kind == Annotation.Kind.NOTE:
        return {"x": unit(geometry.get("x")), "y": unit(geometry.get("y"))}
    points = geometry.get("points")
    if not isinstance(points, list) or not points or len(points) > MAX_POINTS:
        raise AnnotationError(_("The shape of the annotation is not valid."))
    clean_points = []
    for point in points:
        if not isinstance(point, list | tuple) or len(point) not in (2, 3):
            raise AnnotationError(_("The shape of the annotation is not valid."))
        pressure = unit(point[2]) if len(point) == 3 else 0.5
        clean_points.append([unit(point[0]), unit(point[1]), pressure])
    width = geometry.get("width", 0.004)
    if not isinstance(width, int | float) or not 0 < width <= 0.1:
        raise AnnotationError(_("The shape of the annotation is not valid."))
    return {"points": clean_points, "width": round(float(width), 5)}


def _parse_time(value: Any, now: datetime.datetime) -> datetime.datetime:
    when = parse_datetime(value) if isinstance(value, str) else None
    if when is None:
        return now
    if timezone.is_naive(when):
        when = timezone.make_aware(when, datetime.UTC)
    return min(when, now)  # a device clock in the future must not win every conflict


def serialize(annotation: Annotation) -> dict[str, Any]:
    return {
        "client_id": str(annotation.client_id),
        "document": annotation.document_id,
        "version": annotation.version_id,
        "page": annotation.page,
        "kind": annotation.kind,
        "colour": annotation.colour,
        "geometry": annotation.geometry,
        "text": annotation.text,
        "updated_at": annotation.updated_at.isoformat(),
        "revision": annotation.revision,
        "deleted": annotation.deleted_at is not None,
        "needs_review": annotation.needs_review,
        "conflict_of": str(annotation.conflict_of.client_id) if annotation.conflict_of_id else None,
    }


def _conflict_copy(
    *, winner: Annotation, text: str, winning_text: str, colour: str, geometry: dict, seed: str
) -> Annotation | None:
    """Keep the losing text as a note of its own next to the winner. Same seed, same copy."""
    if not text.strip() or text == winning_text:
        return None
    client_id = uuid.uuid5(CONFLICT_NS, f"{winner.client_id}:{seed}")
    existing = Annotation.objects.filter(member_id=winner.member_id, client_id=client_id).first()
    if existing:
        return existing
    anchor = geometry if winner.kind == Annotation.Kind.NOTE else {"x": 0.05, "y": 0.05}
    return Annotation.objects.create(
        member_id=winner.member_id,
        document_id=winner.document_id,
        version_id=winner.version_id,
        page=winner.page,
        kind=Annotation.Kind.NOTE,
        colour=colour,
        geometry={"x": min(anchor.get("x", 0) + 0.03, 1.0), "y": min(anchor.get("y", 0) + 0.03, 1.0)},
        text=text,
        client_id=client_id,
        conflict_of=winner,
    )


def _same_content(existing: Annotation, *, colour: str, geometry: dict, text: str, deleted: bool) -> bool:
    return (
        existing.colour == colour
        and existing.geometry == geometry
        and existing.text == text
        and (existing.deleted_at is not None) == deleted
    )


def _apply_one(*, member, change: dict[str, Any], now: datetime.datetime) -> dict[str, Any]:
    try:
        client_id = uuid.UUID(str(change.get("client_id")))
    except ValueError as exc:
        raise AnnotationError(_("The annotation has no valid id.")) from exc
    deleted = bool(change.get("deleted"))
    kind = change.get("kind")
    if kind not in Annotation.Kind.values:
        raise AnnotationError(_("Unknown kind of annotation."))
    colour = change.get("colour") or "#d32f2f"
    if not isinstance(colour, str) or not COLOUR_RE.match(colour):
        raise AnnotationError(_("The colour is not valid."))
    text = change.get("text") or ""
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        raise AnnotationError(_("The note is too long."))
    if kind != Annotation.Kind.NOTE:
        text = ""
    geometry = _clean_geometry(kind, change.get("geometry"))
    updated_at = _parse_time(change.get("updated_at"), now)
    base = change.get("base_revision") or 0
    if not isinstance(base, int):
        raise AnnotationError(_("The annotation has no valid revision."))

    existing = Annotation.objects.select_for_update().filter(member=member, client_id=client_id).first()
    if existing is None:
        version = DocumentVersion.objects.select_related("document").filter(pk=change.get("version")).first()
        if version is None or not permissions.can_annotate(member, version.document):
            # Same answer for "missing" and "forbidden".
            raise AnnotationError(_("You cannot annotate this document."))
        page = change.get("page")
        if not isinstance(page, int) or not 1 <= page <= version.page_count:
            raise AnnotationError(_("That page does not exist in this document."))
        _refuse_superseded(version)
        annotation = Annotation(
            member=member,
            document=version.document,
            version=version,
            page=page,
            kind=kind,
            colour=colour,
            geometry=geometry,
            text=text,
            client_id=client_id,
            created_at=updated_at,
            updated_at=updated_at,
            deleted_at=now if deleted else None,
        )
        try:
            with transaction.atomic():
                annotation.save()
        except IntegrityError:  # the same new annotation arrived twice at once
            annotation = Annotation.objects.get(member=member, client_id=client_id)
            return {"client_id": str(client_id), "status": "unchanged", "annotation": serialize(annotation)}
        return {"client_id": str(client_id), "status": "created", "annotation": serialize(annotation)}

    if existing.kind != kind:
        raise AnnotationError(_("The shape of the annotation is not valid."))
    if _same_content(existing, colour=colour, geometry=geometry, text=text, deleted=deleted):
        return {"client_id": str(client_id), "status": "unchanged", "annotation": serialize(existing)}

    copy = None
    if base == existing.revision:
        status = "deleted" if deleted else "updated"
        incoming_wins = True
    else:
        # Edited on two devices: the later edit wins; the other text is kept as a copy.
        status = "conflict"
        incoming_wins = updated_at > existing.updated_at
        if incoming_wins:
            if not existing.deleted_at:
                copy = _conflict_copy(
                    winner=existing,
                    text=existing.text,
                    winning_text=text,
                    colour=existing.colour,
                    geometry=existing.geometry,
                    seed=f"server:{existing.revision}",
                )
        elif not deleted:
            copy = _conflict_copy(
                winner=existing,
                text=text,
                winning_text=existing.text,
                colour=colour,
                geometry=geometry,
                seed=f"device:{base}:{updated_at.isoformat()}",
            )
    if incoming_wins:
        existing.colour = colour
        existing.geometry = geometry
        existing.text = text
        existing.updated_at = updated_at
        existing.deleted_at = (existing.deleted_at or now) if deleted else None
        existing.revision += 1
        existing.save(update_fields=["colour", "geometry", "text", "updated_at", "deleted_at", "revision"])
    result = {"client_id": str(client_id), "status": status, "annotation": serialize(existing)}
    if copy is not None:
        result["conflict_copy"] = serialize(copy)
    return result


def annotations_sync(
    *, member, changes: list[dict[str, Any]], device_id: str | None = None
) -> dict[str, Any]:
    """Apply a batch of changes from one of the member's devices (online or coming back online).

    Each change names its annotation by ``client_id`` and the ``base_revision`` it was made on.
    A change sent twice is applied once. When two devices edited the same note, the later edit
    (``updated_at``) wins and the losing text is kept as a conflict copy on the same page.
    """
    if not getattr(member, "is_authenticated", False):
        raise AnnotationError(_("Sign in to keep notes."))
    if device_id:
        status = device_status(member=member, device_id=device_id)
        if status["revoked"]:
            return {"revoked": True, "results": []}
    now = timezone.now()
    results = []
    for change in changes[:500]:
        if not isinstance(change, dict):
            continue
        try:
            with transaction.atomic():
                results.append(_apply_one(member=member, change=change, now=now))
        except AnnotationError as exc:
            results.append(
                {"client_id": str(change.get("client_id")), "status": "rejected", "error": str(exc)}
            )
    return {"revoked": False, "results": results}


# --- Bookmarks ----------------------------------------------------------------------------


def bookmark_toggle(*, member, version: DocumentVersion, page: int, label: str = "") -> Bookmark | None:
    """Add a bookmark on a page, or remove it if there is one. Returns the bookmark or None."""
    if not permissions.can_annotate(member, version.document):
        raise AnnotationError(_("You cannot annotate this document."))
    if not 1 <= page <= version.page_count:
        raise AnnotationError(_("That page does not exist in this document."))
    with transaction.atomic():
        existing = (
            Bookmark.objects.select_for_update().filter(member=member, version=version, page=page).first()
        )
        if existing:
            existing.delete()
            return None
        _refuse_superseded(version)
        return Bookmark.objects.create(
            member=member, document=version.document, version=version, page=page, label=label[:200]
        )


# --- Offline devices ----------------------------------------------------------------------


def offline_days() -> int:
    return int(getattr(settings, "COUNCIL_OFFLINE_DAYS", 14))


def _device_uuid(device_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(device_id))
    except ValueError as exc:
        raise AnnotationError(_("This device is not known.")) from exc


def device_packet_issued(*, member, device_id: str, label: str = "") -> OfflineDevice:
    """A device is about to download the packet: register it and start its expiry clock."""
    if not permissions.can_keep_offline(member):
        raise AnnotationError(_("You cannot keep documents offline."))
    uid = _device_uuid(device_id)
    now = timezone.now()
    with transaction.atomic():
        device = OfflineDevice.objects.select_for_update().filter(device_id=uid).first()
        if device is not None and device.member_id != member.pk:
            raise AnnotationError(_("This device is not known."))
        if device is not None and device.revoked_at:
            raise DeviceRevoked(
                _("This device's offline access was revoked. Its offline copy has been removed.")
            )
        created = device is None
        if created:
            device = OfflineDevice(member=member, device_id=uid, registered_at=now)
        device.label = label[:200]
        device.last_seen_at = now
        device.packet_at = now
        device.expires_at = now + datetime.timedelta(days=offline_days())
        device.wiped_at = None
        device.save()
        audit_record(
            action="offline.packet_issued",
            actor=member,
            target=device,
            data={"expires_at": device.expires_at.isoformat(), "new_device": created},
        )
    return device


def device_status(*, member, device_id: str) -> dict[str, Any]:
    """What a device coming online must do: keep its copy, or remove it (revoked or expired).

    Also answered when nobody is signed in on the device (the device id is a random secret the
    device holds): a revoked tablet whose session has ended still learns it must wipe."""
    uid = _device_uuid(device_id)
    now = timezone.now()
    device = OfflineDevice.objects.select_related("member").filter(device_id=uid).first()
    signed_in = getattr(member, "is_authenticated", False)
    if device is None or (signed_in and device.member_id != member.pk):
        return {"known": False, "revoked": False, "expired": False, "expires_at": None}
    OfflineDevice.objects.filter(pk=device.pk).update(last_seen_at=now)
    return {
        "known": True,
        # A member who left office (or lost the role) loses offline copies like a revoked device.
        "revoked": device.revoked_at is not None or not permissions.can_keep_offline(device.member),
        "expired": device.is_expired(now),
        "expires_at": device.expires_at.isoformat() if device.expires_at else None,
    }


def device_wiped(*, member, device_id: str) -> None:
    """The device reports it removed its offline copy (sign-out, expiry or revocation)."""
    uid = _device_uuid(device_id)
    with transaction.atomic():
        device = OfflineDevice.objects.select_for_update().filter(device_id=uid).first()
        signed_in = getattr(member, "is_authenticated", False)
        if device is None or device.wiped_at or (signed_in and device.member_id != member.pk):
            return
        device.wiped_at = timezone.now()
        device.save(update_fields=["wiped_at"])
        audit_record(
            action="offline.copy_removed",
            actor=member if signed_in else None,
            target=device,
            data={"revoked": device.revoked_at is not None},
        )


def devices_revoke(*, actor, member, device_pk: int | None = None) -> int:
    """Revoke a member's offline devices (all, or one). Applied when each device next comes online."""
    if not (permissions.can_manage_devices(actor) or (actor.pk == member.pk)):
        raise AnnotationError(_("You may not revoke these devices."))
    with transaction.atomic():
        devices = OfflineDevice.objects.select_for_update().filter(member=member, revoked_at__isnull=True)
        if device_pk is not None:
            devices = devices.filter(pk=device_pk)
        ids = list(devices.values_list("pk", flat=True))
        if not ids:
            raise AnnotationError(_("There is no device to revoke."))
        OfflineDevice.objects.filter(pk__in=ids).update(revoked_at=timezone.now(), revoked_by=actor)
        audit_record(
            action="offline.devices_revoked",
            actor=actor,
            target_type="auth.user",
            target_id=member.pk,
            data={"devices": ids},
        )
    return len(ids)
