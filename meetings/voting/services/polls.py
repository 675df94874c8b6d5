"""Polls, the chair's side of a vote: putting the question (with quorum and the entitled members
frozen), closing, the clerk's counts of a standing vote, the chair's casting vote on a tie (可否同数,
§116) and the declaration of the result (宣告).

Closing and entering counts lock the poll row, so a ballot is either committed before the close
(and counted) or sees the poll closed (and refused).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from council.audit import audit_record
from meetings.attendance.quorum import members_in_office, quorum_status, roll_count
from meetings.models import Sitting
from meetings.voting import rules, sealing
from meetings.voting.errors import VotingError
from meetings.voting.models import Choice, Motion, Poll, SealedBallot, SecretParticipation
from meetings.voting.services.common import broadcast, lock_sitting
from meetings.voting.services.motions import motion_requirement
from meetings.voting.signals import poll_declared


def presiding(sitting: Sitting, present: set[int]) -> int | None:
    """The chair presides; when absent, the vice-chair."""
    from council.models import Membership

    roles = dict(
        Membership.objects.filter(
            body=sitting.body, role__in=[Membership.Role.CHAIR, Membership.Role.VICE_CHAIR]
        )
        .active(on=sitting.date)
        .values_list("role", "person_id")
    )
    for role in (Membership.Role.CHAIR, Membership.Role.VICE_CHAIR):
        if roles.get(role) in present:
            return roles[role]
    return None


def poll_open(*, motion: Motion, method: str, by) -> Poll:
    """The chair puts the question. Refused without quorum; freezes the members entitled now."""
    if method not in Poll.Method.values:
        raise VotingError(_("Unknown vote method."), code="invalid", field="method")
    agenda_item = motion.agenda_item
    with transaction.atomic():
        sitting = lock_sitting(agenda_item.sitting_id)
        if sitting.status != Sitting.Status.OPEN:
            raise VotingError(
                _("No vote can be taken: the sitting is not in progress."), code="sitting_not_open"
            )
        if Poll.objects.filter(sitting=sitting, state=Poll.State.OPEN).exists():
            raise VotingError(_("Another vote is open; close it first."), code="poll_open")
        if (
            Poll.objects.filter(motion=motion, state__in=[Poll.State.CLOSED, Poll.State.DECLARED])
            .exclude(outcome__in=[Poll.Outcome.OBJECTED, Poll.Outcome.VOIDED])
            .exists()
        ):
            raise VotingError(_("This motion has already been decided."), code="decided")
        quorum = quorum_status(sitting=sitting, agenda_item=agenda_item)
        if not quorum.met:
            raise VotingError(
                _("No vote can start: %(reason)s") % {"reason": quorum.reason}, code="no_quorum"
            )
        requirement = motion_requirement(motion)
        count = roll_count(sitting=sitting, agenda_item=agenda_item)
        present = set(count.present)
        seats = sitting.body.size
        in_office = members_in_office(sitting)
        basis = in_office if requirement.attendance_basis == rules.IN_OFFICE else seats
        if requirement.attendance is not None and not rules.at_least(
            len(present), basis, requirement.attendance
        ):
            raise VotingError(
                _(
                    "This question needs at least %(needed)d members present (%(label)s); %(present)d are present."
                )
                % {
                    "needed": rules.minimum_for(basis, requirement.attendance),
                    "label": requirement.label,
                    "present": len(present),
                },
                code="attendance_short",
            )
        chair = presiding(sitting, present)
        entitled = set(present)
        if not requirement.chair_votes and chair is not None:
            entitled.discard(chair)
        seal = sealing.new_poll_key() if method == Poll.Method.SECRET else None
        poll = Poll.objects.create(
            seal_public_key=seal.public_key if seal else None,
            seal_key_name=seal.name if seal else "",
            motion=motion,
            sitting=sitting,
            method=method,
            requirement=requirement.as_dict(),
            seats=seats,
            in_office=in_office,
            quorum_required=quorum.required,
            present_count=len(present),
            excluded_count=len(count.excluded_present),
            entitled=sorted(entitled),
            chair_id=chair,
            opened_by=by,
        )
        audit_record(
            action="poll.open",
            actor=by,
            target=poll,
            data={
                "motion": motion.pk,
                "method": method,
                "requirement": poll.requirement,
                "entitled": poll.entitled,
                "present": poll.present_count,
                "chair": chair,
                "excluded": sorted(count.excluded_present),
            },
        )
        broadcast(sitting, "poll")
    return poll


def lock_poll(poll_id: int) -> Poll:
    poll = Poll.objects.select_for_update().filter(pk=poll_id).first()
    if poll is None:
        raise VotingError(_("There is no such vote."), code="no_poll")
    return poll


def _close(poll: Poll, *, by, extra: dict | None = None) -> Poll:
    decision = poll.decide()
    poll.state = Poll.State.CLOSED
    poll.closed_at = timezone.now()
    poll.closed_by = by
    poll.outcome = decision.outcome
    poll.save()
    data = {
        "yes": poll.yes_count,
        "no": poll.no_count,
        "voted": poll.voted_count,
        "outcome": poll.outcome,
        "requirement": poll.requirement,
        "present": poll.present_count,
        "entitled": poll.entitled,
    }
    data.update(extra or {})
    audit_record(action="poll.close", actor=by, target=poll, data=data)
    sitting = Sitting.objects.select_related("body", "body__council").get(pk=poll.sitting_id)
    broadcast(sitting, "poll")
    return poll


def poll_close(*, poll: Poll, by) -> Poll:
    """The chair closes a ballot (or a no-objection question nobody objected to)."""
    with transaction.atomic():
        poll = lock_poll(poll.pk)
        if poll.state != Poll.State.OPEN:
            raise VotingError(_("This vote is already closed."), code="poll_closed")
        if poll.method in (Poll.Method.STANDING, Poll.Method.HANDS):
            raise VotingError(
                _("Enter the counts to close a standing or show-of-hands vote."), code="counts_needed"
            )
        if poll.method == Poll.Method.NO_OBJECTION:
            # 異議なしと認めます: everyone entitled is taken to agree.
            poll.yes_count = len(poll.entitled)
            poll.no_count = 0
            poll.voted_count = len(poll.entitled)
        if poll.is_secret:
            return _close_secret(poll, by=by)
        return _close(poll, by=by)


def _close_secret(poll: Poll, *, by) -> Poll:
    """Open the sealed ballots in memory, shuffle and count them, keep only the totals, delete
    the sealed rows and destroy the key (after commit). A lost key voids the poll."""
    sealed_rows = SealedBallot.objects.filter(poll=poll)
    sealed = [bytes(row) for row in sealed_rows.values_list("sealed", flat=True)]
    participations = SecretParticipation.objects.filter(poll=poll).count()
    try:
        counts = sealing.open_and_count(
            key_name=poll.seal_key_name, poll_id=poll.pk, sealed=sealed, choices=tuple(Choice.values)
        )
        problem = "" if len(sealed) == participations else "count"
    except sealing.KeyLost:
        problem = "key_lost"
    except sealing.BallotUnreadable:
        problem = "unreadable"
    sealed_rows.delete()
    key_name = poll.seal_key_name
    transaction.on_commit(lambda: sealing.destroy_key(key_name))
    if problem:
        poll.state = Poll.State.CLOSED
        poll.closed_at = timezone.now()
        poll.closed_by = by
        poll.outcome = Poll.Outcome.VOIDED
        poll.yes_count = poll.no_count = 0
        poll.save()
        audit_record(
            action="poll.voided",
            actor=by,
            target=poll,
            data={"reason": problem, "sealed_ballots": len(sealed), "participations": participations},
        )
        broadcast(Sitting.objects.select_related("body", "body__council").get(pk=poll.sitting_id), "poll")
        return poll
    poll.yes_count = counts[Choice.YES]
    poll.no_count = counts[Choice.NO]
    return _close(poll, by=by, extra={"sealed_ballots": len(sealed), "participations": participations})


def poll_enter_counts(*, poll: Poll, yes: int, no: int, by) -> Poll:
    """The clerk enters the counts of a standing or show-of-hands vote; they must add up to the
    members present and entitled."""
    with transaction.atomic():
        poll = lock_poll(poll.pk)
        if poll.state != Poll.State.OPEN:
            raise VotingError(_("This vote is already closed."), code="poll_closed")
        if poll.method not in (Poll.Method.STANDING, Poll.Method.HANDS):
            raise VotingError(
                _("Counts are entered only for standing and show-of-hands votes."), code="wrong_method"
            )
        if yes < 0 or no < 0:
            raise VotingError(
                _("Counts cannot be negative."), code="invalid", field="yes" if yes < 0 else "no"
            )
        entitled = len(poll.entitled)
        if yes + no != entitled:
            raise VotingError(
                _(
                    "The counts do not add up: %(yes)d in favour and %(no)d against make %(total)d, but "
                    "%(entitled)d members present are entitled to vote."
                )
                % {"yes": yes, "no": no, "total": yes + no, "entitled": entitled},
                code="counts_mismatch",
            )
        poll.yes_count, poll.no_count, poll.voted_count = yes, no, entitled
        return _close(poll, by=by, extra={"entered_by_clerk": True})


def poll_casting_vote(*, poll: Poll, choice: str, by) -> Poll:
    """可否同数: the chair decides a tie under the ordinary rule; recorded as a casting vote."""
    if choice not in Choice.values:
        raise VotingError(_("Unknown choice: vote yes or no."), code="unknown_choice")
    with transaction.atomic():
        poll = lock_poll(poll.pk)
        if poll.outcome != Poll.Outcome.TIE or poll.state != Poll.State.CLOSED:
            raise VotingError(_("There is no tie to decide."), code="no_tie")
        decision = poll.decide(casting_vote=choice)
        poll.casting_vote = choice
        poll.outcome = decision.outcome
        poll.save()
        audit_record(
            action="poll.casting_vote",
            actor=by,
            target=poll,
            data={"choice": choice, "chair": poll.chair_id, "outcome": poll.outcome},
        )
        broadcast(poll.sitting, "poll")
    return poll


def poll_declare(*, poll: Poll, by) -> Poll:
    """The chair declares the result (宣告); tablets and the public view show it."""
    with transaction.atomic():
        poll = lock_poll(poll.pk)
        if poll.state != Poll.State.CLOSED:
            raise VotingError(_("Close the vote before declaring the result."), code="not_closed")
        if poll.outcome == Poll.Outcome.TIE:
            raise VotingError(
                _("The votes are tied: the chair must decide before the result is declared."), code="tie"
            )
        poll.state = Poll.State.DECLARED
        poll.declared_at = timezone.now()
        poll.save()
        audit_record(
            action="poll.declare",
            actor=by,
            target=poll,
            data={
                "outcome": poll.outcome,
                "yes": poll.yes_count,
                "no": poll.no_count,
                "casting_vote": poll.casting_vote,
            },
        )
        poll_declared.send(sender=Poll, poll=poll, by=by)
        broadcast(poll.sitting, "poll")
    return poll
