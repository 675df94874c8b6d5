"""The clerk's connection and identity check (本人確認) of a member attending online."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from council.audit import audit_record
from meetings.attendance.models import Attendance, IdentityCheck, RemoteAttendanceRequest
from meetings.voting.errors import VotingError
from meetings.voting.services.common import broadcast
from meetings.voting.services.roll import record_status


def identity_check_record(
    *, request: RemoteAttendanceRequest, method: str, passed: bool, by, note: str = ""
) -> IdentityCheck:
    """The clerk's connection and identity check (本人確認): who checked, when, how."""
    if method not in IdentityCheck.Method.values:
        raise VotingError(_("Unknown identity check method."), code="invalid", field="method")
    with transaction.atomic():
        request = (
            RemoteAttendanceRequest.objects.select_for_update()
            .select_related("sitting__body")
            .get(pk=request.pk)
        )
        if request.decision != RemoteAttendanceRequest.Decision.APPROVED:
            raise VotingError(_("The chair has not approved this request yet."), code="remote_not_approved")
        check = IdentityCheck.objects.create(
            request=request, checked_by=by, method=method, passed=passed, note=note
        )
        audit_record(
            action="remote.identity_check",
            actor=by,
            target=check,
            data={"request": request.pk, "person": request.person_id, "method": method, "passed": passed},
        )
        if not passed:
            row = Attendance.objects.filter(
                sitting=request.sitting, person_id=request.person_id, status=Attendance.Status.PRESENT_ONLINE
            ).first()
            if row:
                record_status(row, Attendance.Status.LEFT, by=by, source="identity-check-failed")
        broadcast(request.sitting, "attendance", "quorum")
    return check
