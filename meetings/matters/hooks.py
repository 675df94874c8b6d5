"""Hooks into the sittings' own services: a declared vote on a matter's motion records the matter's
step — the plenary's decision (採決 → 原案可決, 修正可決, 採択 …) or the committee's (可決すべきもの …).

A motion is the matter's when it was made through ``matter_motion_create``, or when it was made on
the voting console on an agenda item carrying the matter and names the matter's number (the
default bill number of such a motion). A step the rules refuse (an amendment still undecided)
leaves the declared vote as it is and writes the reason to the audit log for the clerk.
"""

from __future__ import annotations

from django.db import transaction
from django.dispatch import receiver

from council.audit import audit_record
from council.errors import Refused
from meetings.matters import rules
from meetings.matters.models import Matter, MatterItem, MatterMotion
from meetings.voting.signals import poll_declared


def _link_for(poll) -> MatterMotion | None:
    link = MatterMotion.objects.filter(motion_id=poll.motion_id).select_related("matter").first()
    if link is not None:
        return link
    motion = poll.motion
    if not motion.bill_number:
        return None
    candidates = [
        mi.matter
        for mi in MatterItem.objects.filter(agenda_item_id=motion.agenda_item_id).select_related(
            "matter__amends"
        )
        if mi.matter.label_ja == motion.bill_number
    ]
    if len(candidates) != 1:
        return None
    return MatterMotion.objects.create(matter=candidates[0], motion=motion)


@receiver(poll_declared, dispatch_uid="matters.record_vote")
def record_matter_vote(sender, *, poll, by, **kwargs) -> None:
    from meetings.matters import services
    from meetings.voting.models import Poll

    if poll.outcome not in (Poll.Outcome.CARRIED, Poll.Outcome.REJECTED):
        return
    link = _link_for(poll)
    if link is None:
        return
    matter: Matter = link.matter
    sitting = poll.sitting
    carried = poll.outcome == Poll.Outcome.CARRIED
    amended = matter.amendments.filter(result=rules.CARRIED).exists()
    try:
        with transaction.atomic():  # a savepoint: a refusal leaves the declared vote untouched
            if sitting.body.is_plenary or matter.kind == rules.AMENDMENT:
                result = rules.result_for_vote(matter.kind, carried=carried, amendment_passed=amended)
                services.matter_decide(actor=by, matter=matter, result=result, sitting=sitting, poll=poll)
            else:
                decision = rules.committee_decision_for_vote(
                    matter.kind, carried=carried, amendment_passed=amended
                )
                services.matter_examine(
                    actor=by, matter=matter, decision=decision, sitting=sitting, poll=poll
                )
    except Refused as exc:
        audit_record(
            action="matter.vote_not_recorded",
            actor=by,
            target=matter,
            data={"poll": poll.pk, "reason": " ".join(exc.messages)},
        )
