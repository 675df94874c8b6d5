"""Recount every stored vote from its ballots and check it against the audit chain.

For each closed poll: the totals on the poll row must equal the ballots (roll call), the
participations (secret ballot: how many, never who voted what), the entitled list (standing,
hands, no objection); every ballot's voter must have been entitled; the stored result must be what
``rules.decide`` gives for the stored counts and requirement; and the counts must match those the
audit chain recorded when the poll closed (and, for roll calls, each ballot the chain recorded).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from council.models import AuditEntry
from meetings.voting.models import Ballot, Objection, Poll, SecretParticipation


@dataclass
class Recount:
    poll_id: int
    method: str
    yes: int
    no: int
    outcome: str
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def recount(poll: Poll) -> Recount:
    report = Recount(poll.pk, poll.method, poll.yes_count, poll.no_count, poll.outcome)
    problems = report.problems
    entitled = set(poll.entitled)
    if poll.method == Poll.Method.ROLL_CALL:
        ballots = list(Ballot.objects.filter(poll=poll).values_list("member_id", "choice"))
        counts = Counter(choice for _m, choice in ballots)
        if (counts["yes"], counts["no"]) != (poll.yes_count, poll.no_count):
            problems.append(
                f"ballots give {counts['yes']} yes / {counts['no']} no, the poll says "
                f"{poll.yes_count} / {poll.no_count}"
            )
        if len(ballots) != poll.voted_count:
            problems.append(f"{len(ballots)} ballots but {poll.voted_count} recorded as voted")
        outsiders = {m for m, _c in ballots} - entitled
        if outsiders:
            problems.append(f"ballots from members not entitled: {sorted(outsiders)}")
        chained = {
            e.data.get("person"): e.data.get("choice")
            for e in AuditEntry.objects.filter(
                action="vote.cast", target_type="voting.poll", target_id=str(poll.pk)
            )
        }
        if chained != dict(ballots):
            problems.append("the ballots differ from the ballots recorded in the audit chain")
    elif poll.method == Poll.Method.SECRET:
        voters = list(SecretParticipation.objects.filter(poll=poll).values_list("member_id", flat=True))
        if len(voters) != poll.voted_count:
            problems.append(f"{len(voters)} took part but {poll.voted_count} are recorded as having voted")
        if poll.state == Poll.State.OPEN:
            # Sealed until the close: no count may exist yet.
            if poll.yes_count or poll.no_count:
                problems.append("an open secret ballot has running totals")
        elif poll.outcome != Poll.Outcome.VOIDED:
            if poll.yes_count + poll.no_count != len(voters):
                problems.append(
                    f"{len(voters)} took part but the totals are {poll.yes_count} + {poll.no_count}"
                )
            closing = AuditEntry.objects.filter(
                action="poll.close", target_type="voting.poll", target_id=str(poll.pk)
            ).first()
            if (
                closing is not None
                and "sealed_ballots" in closing.data
                and (closing.data["sealed_ballots"] != closing.data.get("participations"))
            ):
                problems.append(
                    f"{closing.data['sealed_ballots']} sealed ballots were opened for "
                    f"{closing.data.get('participations')} participations"
                )
        if set(voters) - entitled:
            problems.append(f"participants not entitled: {sorted(set(voters) - entitled)}")
    elif poll.method in (Poll.Method.STANDING, Poll.Method.HANDS) and poll.state != Poll.State.OPEN:
        if poll.yes_count + poll.no_count != len(entitled):
            problems.append(
                f"counts {poll.yes_count} + {poll.no_count} do not add up to {len(entitled)} entitled"
            )
    elif poll.method == Poll.Method.NO_OBJECTION and poll.state != Poll.State.OPEN:
        objected = Objection.objects.filter(poll=poll).exists()
        if objected != (poll.outcome == Poll.Outcome.OBJECTED):
            problems.append("the result does not match the objections recorded")
    if poll.state != Poll.State.OPEN and poll.outcome == Poll.Outcome.VOIDED:
        if not AuditEntry.objects.filter(
            action="poll.voided", target_type="voting.poll", target_id=str(poll.pk)
        ).exists():
            problems.append("voided without a record in the audit chain")
    elif poll.state != Poll.State.OPEN and poll.outcome != Poll.Outcome.OBJECTED:
        try:
            decision = poll.decide(casting_vote=poll.casting_vote or None)
            if decision.outcome != poll.outcome:
                problems.append(f"the law gives {decision.outcome!r}, the poll says {poll.outcome!r}")
        except ValueError as exc:
            problems.append(f"impossible counts: {exc}")
        closing = (
            AuditEntry.objects.filter(action="poll.close", target_type="voting.poll", target_id=str(poll.pk))
            .order_by("-id")
            .first()
        )
        if closing is None:
            problems.append("no closing entry in the audit chain")
        elif (closing.data.get("yes"), closing.data.get("no")) != (poll.yes_count, poll.no_count):
            problems.append("the counts differ from those recorded in the audit chain at closing")
    return report


def recount_all() -> list[Recount]:
    return [recount(poll) for poll in Poll.objects.order_by("id")]
