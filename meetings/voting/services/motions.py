"""Motions: the question on an agenda item and the majority it needs (ordinary or special)."""

from __future__ import annotations

from fractions import Fraction

from django.db import transaction
from django.utils.translation import gettext as _

from council.audit import audit_record
from meetings.models import AgendaItem
from meetings.voting import rules, selectors
from meetings.voting.errors import VotingError
from meetings.voting.models import Motion


def motion_create(
    *,
    agenda_item: AgendaItem,
    title: str,
    by,
    text: str = "",
    bill_number: str = "",
    preset: str = "",
    attendance: Fraction | None = None,
    approval: Fraction | None = None,
) -> Motion:
    """A question on an agenda item. ``preset`` names a special majority (council's own table
    first, then the statute's); explicit fractions give a custom special majority."""
    title = (title or "").strip()
    if not title:
        raise VotingError(_("Give the motion a title."), code="invalid", field="title")
    council = agenda_item.sitting.body.council
    if preset and preset != "ordinary":
        presets = selectors.presets_for(council)
        if preset not in presets:
            raise VotingError(_("Unknown special majority."), code="invalid", field="preset")
        requirement = presets[preset]
    elif approval is not None:
        try:
            requirement = rules.Requirement(
                rules.SPECIAL, attendance, approval, "custom", _("Special majority")
            )
        except ValueError:
            raise VotingError(
                _("The fractions of a special majority must be between 0 and 1."),
                code="invalid",
                field="attendance" if attendance is not None and not 0 < attendance <= 1 else "approval",
            ) from None
    else:
        requirement = rules.ORDINARY_MAJORITY
    with transaction.atomic():
        motion = Motion.objects.create(
            agenda_item=agenda_item,
            title=title,
            text=text,
            bill_number=bill_number or agenda_item.bill_number,
            requirement=requirement.kind,
            preset=requirement.key,
            attendance_num=requirement.attendance.numerator if requirement.attendance else None,
            attendance_den=requirement.attendance.denominator if requirement.attendance else None,
            attendance_basis=requirement.attendance_basis,
            approval_num=requirement.approval.numerator if requirement.approval else None,
            approval_den=requirement.approval.denominator if requirement.approval else None,
            requirement_label=requirement.label,
            created_by=by,
        )
        audit_record(
            action="motion.create",
            actor=by,
            target=motion,
            data={"agenda_item": agenda_item.pk, "title": title, "requirement": requirement.as_dict()},
        )
    return motion


def motion_requirement(motion: Motion) -> rules.Requirement:
    if motion.requirement == Motion.Requirement.ORDINARY:
        return rules.ORDINARY_MAJORITY
    attendance = (
        Fraction(motion.attendance_num, motion.attendance_den)
        if motion.attendance_num and motion.attendance_den
        else None
    )
    return rules.Requirement(
        rules.SPECIAL,
        attendance,
        Fraction(motion.approval_num, motion.approval_den),
        motion.preset,
        motion.requirement_label,
        attendance_basis=motion.attendance_basis,
    )
