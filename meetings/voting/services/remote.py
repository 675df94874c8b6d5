"""Remote attendance (オンライン出席): the member's advance application, the chair's decision and
the chair's disconnection of a remote member to keep order."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from council.audit import audit_record
from council.models import Person
from meetings.attendance.models import Attendance, RemoteAttendanceRequest
from meetings.attendance.quorum import body_member_ids
from meetings.models import Sitting
from meetings.voting.errors import VotingError
from meetings.voting.services.common import broadcast
from meetings.voting.services.roll import record_status


def remote_apply(*, sitting: Sitting, person: Person, reason: str, by=None) -> RemoteAttendanceRequest:
    """A member applies in advance to attend online, with a reason."""
    body = sitting.body
    if person.pk not in body_member_ids(sitting):
        raise VotingError(_("You are not a member of %(body)s.") % {"body": body}, code="not_member")
    if not body.is_plenary and not body.allows_remote_attendance:
        raise VotingError(
            _("%(body)s does not allow remote attendance.") % {"body": body}, code="remote_not_allowed"
        )
    reason = (reason or "").strip()
    if not reason:
        raise VotingError(_("Give the reason for attending online."), code="invalid", field="reason")
    if sitting.status in (Sitting.Status.CLOSED, Sitting.Status.CANCELLED):
        raise VotingError(_("This sitting is closed."), code="sitting_closed")
    with transaction.atomic():
        request, created = RemoteAttendanceRequest.objects.select_for_update().get_or_create(
            sitting=sitting, person=person, defaults={"reason": reason}
        )
        if not created:
            if request.decision in (
                RemoteAttendanceRequest.Decision.PENDING,
                RemoteAttendanceRequest.Decision.APPROVED,
            ):
                raise VotingError(
                    _("You have already applied to attend this sitting online."), code="already_applied"
                )
            request.reason = reason
            request.decision = RemoteAttendanceRequest.Decision.PENDING
            request.applied_at = timezone.now()
            request.decided_at = None
            request.decided_by = None
            request.save()
        audit_record(
            action="remote.apply",
            actor=by,
            target=request,
            data={"sitting": sitting.pk, "person": person.pk, "reason": reason},
        )
        broadcast(sitting, "attendance")
    return request


def remote_decide(*, request: RemoteAttendanceRequest, approve: bool, by) -> RemoteAttendanceRequest:
    """The chair approves or refuses (approving again readmits a disconnected member)."""
    with transaction.atomic():
        request = (
            RemoteAttendanceRequest.objects.select_for_update()
            .select_related("sitting__body")
            .get(pk=request.pk)
        )
        if request.decision == RemoteAttendanceRequest.Decision.WITHDRAWN:
            raise VotingError(_("The member has withdrawn this request."), code="withdrawn")
        request.decision = (
            RemoteAttendanceRequest.Decision.APPROVED if approve else RemoteAttendanceRequest.Decision.REFUSED
        )
        request.decided_by = by
        request.decided_at = timezone.now()
        if approve:
            request.disconnected_at = None
            request.disconnected_by = None
        request.save()
        audit_record(
            action="remote.decide",
            actor=by,
            target=request,
            data={"sitting": request.sitting_id, "person": request.person_id, "decision": request.decision},
        )
        broadcast(request.sitting, "attendance")
    return request


def remote_disconnect(*, sitting: Sitting, person: Person, by) -> RemoteAttendanceRequest:
    """The chair cuts a remote member's connection to keep order; they stop counting at once."""
    with transaction.atomic():
        request = (
            RemoteAttendanceRequest.objects.select_for_update().filter(sitting=sitting, person=person).first()
        )
        if request is None or request.decision != RemoteAttendanceRequest.Decision.APPROVED:
            raise VotingError(_("%(name)s is not attending online.") % {"name": person}, code="not_remote")
        request.disconnected_at = timezone.now()
        request.disconnected_by = by
        request.save()
        audit_record(
            action="remote.disconnect",
            actor=by,
            target=request,
            data={"sitting": sitting.pk, "person": person.pk},
        )
        row = Attendance.objects.filter(
            sitting=sitting, person=person, status=Attendance.Status.PRESENT_ONLINE
        ).first()
        if row:
            record_status(row, Attendance.Status.LEFT, by=by, source="disconnect")
        broadcast(sitting, "attendance", "quorum")
    return request
