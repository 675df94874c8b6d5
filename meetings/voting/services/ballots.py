"""Ballots, the members' side of a vote: casting (alone or many at once), receipts, refusals and
the objection to a no-objection question (「異議あり」).

Concurrency: casting locks the poll row (``select_for_update`` on PostgreSQL; on SQLite every
transaction begins IMMEDIATE, so writers are serialized). A ballot is therefore either committed
before the close (and counted) or sees the poll closed (and refused); the unique constraint per
poll and member makes a second ballot impossible either way. Every refusal is audited.

Secret ballots: the voter's participation row (who voted) and the choice sealed to the poll's
in-memory key (``meetings.voting.sealing``) are written in one transaction; no row, audit entry,
log line or broadcast holds the choice next to the voter, and no running count exists.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from council.audit import AuditItem, audit_record, audit_record_many
from council.models import Person
from council.permissions import person_of
from meetings.attendance.models import Attendance, Exclusion
from meetings.attendance.quorum import present_now, remote_counts_here
from meetings.attendance.rules import quorum_met
from meetings.events import publish_many
from meetings.voting import sealing
from meetings.voting.errors import VotingError
from meetings.voting.models import Ballot, Choice, Objection, Poll, SealedBallot, SecretParticipation
from meetings.voting.services.common import broadcast
from meetings.voting.services.polls import lock_poll

# A receipt is read off the tablet and typed or read aloud to check a ballot: eight characters
# from an alphabet without look-alikes (no 0/O, 1/I/L), unique within its poll (a constraint).
RECEIPT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
RECEIPT_LENGTH = 8


def new_receipt() -> str:
    return "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))


def _unused_receipts(model, poll: Poll, rows: list) -> dict[int, str]:
    """Codes for ``rows`` (by position) that no earlier ballot of the poll holds: one query, and
    again only in the rare case of a clash."""
    codes = {i: row.receipt for i, row in enumerate(rows)}
    while True:
        taken = set(
            model.objects.filter(poll=poll, receipt__in=set(codes.values())).values_list("receipt", flat=True)
        )
        clashes = [i for i, code in codes.items() if code in taken]
        if not clashes:
            return codes
        in_batch = set(codes.values())
        for i in clashes:
            code = new_receipt()
            while code in in_batch:
                code = new_receipt()
            in_batch.add(code)
            codes[i] = code


@dataclass(frozen=True)
class Receipt:
    poll_id: int
    member_id: int
    receipt: str
    voted: int
    entitled: int
    choice: str | None = None  # never set for a secret ballot
    repeated: bool = False

    def as_dict(self) -> dict:
        data = {
            "poll": self.poll_id,
            "receipt": self.receipt,
            "voted": self.voted,
            "entitled": self.entitled,
            "repeated": self.repeated,
        }
        if self.choice is not None:
            data["choice"] = self.choice
        return data


def _refuse_cast(*, poll_id: int, person: Person | None, user, code: str, message: str) -> VotingError:
    """Audit a refused ballot in its own transaction (the ballot's transaction was rolled back)."""
    with transaction.atomic():
        audit_record(
            action="vote.refused",
            actor=user,
            target_type="voting.poll",
            target_id=poll_id,
            data={"person": person.pk if person else None, "code": code},
        )
    return VotingError(message, code=code)


@dataclass(frozen=True)
class CastRequest:
    """One ballot for ``vote_cast_many``: the arguments of ``vote_cast``."""

    poll_id: int
    user: Any
    choice: str
    client_token: str
    member: Person | None = None  # given when the clerk records a room member's ballot


def vote_cast(
    *,
    poll_id: int,
    user,
    choice: str,
    client_token: str,
    member: Person | None = None,
    sitting_id: int | None = None,
) -> Receipt:
    """Cast one ballot. ``member`` is given when the clerk records a room member's ballot.

    Idempotent: the same member and client token return the same receipt. Every refusal is
    audited and raises ``VotingError``; nothing else is written.
    """
    request = CastRequest(poll_id=poll_id, user=user, choice=choice, client_token=client_token, member=member)
    outcome = vote_cast_many(requests=[request], sitting_id=sitting_id)[0]
    if isinstance(outcome, VotingError):
        raise outcome
    return outcome


def vote_cast_many(
    *, requests: Sequence[CastRequest], sitting_id: int | None = None
) -> list[Receipt | VotingError]:
    """Cast ballots that arrived together; each gets the outcome it would get from ``vote_cast``
    alone, taken in the order given, and a refusal is returned (not raised) in its place.

    The ballots of one poll share one transaction: one lock of the poll, one read of the roll and
    of the earlier ballots, one insert, one update of the counters, one append to the audit chain
    and one tally frame for the console. Sixty members voting at the same moment therefore cost
    about as much as a few ballots one after another (``bench.voting``). A refused ballot writes
    only its audit entry, as alone.
    """
    outcomes: list[Receipt | VotingError | None] = [None] * len(requests)
    by_poll: dict[int, list[int]] = {}
    for index, request in enumerate(requests):
        by_poll.setdefault(request.poll_id, []).append(index)
    for poll_id, indexes in by_poll.items():
        batch = [requests[i] for i in indexes]
        try:
            with transaction.atomic():
                results = _cast_batch(poll_id=poll_id, requests=batch, sitting_id=sitting_id)
        except IntegrityError:
            # Another writer inserted a ballot between our read and our insert (the poll's row
            # lock prevents that on PostgreSQL, SQLite's single writer does too; this is the last
            # line). The constraint has decided: retry each ballot alone, which then finds it.
            if len(batch) > 1:
                results = [vote_cast_many(requests=[r], sitting_id=sitting_id)[0] for r in batch]
            else:
                results = [_after_conflict(batch[0])]
        for index, result in zip(indexes, results, strict=True):
            outcomes[index] = result
    return outcomes  # type: ignore[return-value]


def _after_conflict(request: CastRequest) -> Receipt | VotingError:
    member = request.member if request.member is not None else person_of(request.user)
    try:
        with transaction.atomic():
            poll = Poll.objects.get(pk=request.poll_id)
            model = SecretParticipation if poll.is_secret else Ballot
            row = model.objects.filter(poll=poll, member=member).order_by().first()
            existing = _existing_receipt(poll, member, request.client_token, row, poll.voted_count)
            if existing is not None:
                return existing
    except VotingError:
        pass
    return _refuse_cast(
        poll_id=request.poll_id,
        person=member,
        user=request.user,
        code="already_voted",
        message=_("You have already voted; a vote cannot be changed."),
    )


def _existing_receipt(poll: Poll, member: Person, client_token: str, row, voted: int) -> Receipt | None:
    """The receipt of the member's earlier ballot when this is its retry; refused when it is not."""
    if row is None:
        return None
    if row.client_token != client_token:
        raise VotingError(_("You have already voted; a vote cannot be changed."), code="already_voted")
    return Receipt(
        poll_id=poll.pk,
        member_id=member.pk,
        receipt=row.receipt,
        voted=voted,
        entitled=len(poll.entitled),
        choice=None if poll.is_secret else row.choice,
        repeated=True,
    )


def _refusal(request: CastRequest, member: Person | None, exc: VotingError) -> AuditItem:
    return AuditItem(
        action="vote.refused",
        actor=request.user,
        target_type="voting.poll",
        target_id=request.poll_id,
        data={"person": member.pk if member else None, "code": exc.code},
    )


def _cast_batch(
    *, poll_id: int, requests: list[CastRequest], sitting_id: int | None
) -> list[Receipt | VotingError]:
    # The hot path of a vote: few queries, and the locks others wait for (the poll row, the audit
    # head, the live counters) are taken as late as possible.
    poll = (
        Poll.objects.select_for_update(of=("self",))
        .select_related("motion", "sitting__body")
        .filter(pk=poll_id)
        .first()
    )
    members = [r.member if r.member is not None else person_of(r.user) for r in requests]
    results: list[Receipt | VotingError] = []
    audits: list[AuditItem] = []
    if poll is None or (sitting_id is not None and poll.sitting_id != sitting_id):
        for request, member in zip(requests, members, strict=True):
            error = VotingError(_("There is no such vote."), code="no_poll")
            results.append(error)
            audits.append(_refusal(request, member, error))
        audit_record_many(entries=audits)
        return results

    model = SecretParticipation if poll.is_secret else Ballot
    earlier = {
        row.member_id: row
        for row in model.objects.filter(
            poll=poll, member_id__in={m.pk for m in members if m is not None}
        ).order_by()
    }
    roll: list = []  # read once, when the first ballot needs it

    def present():
        if not roll:
            roll.append(present_now(sitting=poll.sitting, agenda_item_id=poll.motion.agenda_item_id))
        return roll[0]

    voted = poll.voted_count
    counts = {"yes_count": 0, "no_count": 0}
    new_rows = []
    sealed_rows: list[SealedBallot] = []
    voters: list[int] = []
    batch_receipts: set[str] = set()
    for request, member in zip(requests, members, strict=True):
        recorded_by = request.user if request.member is not None else None
        try:
            existing = _admit(
                poll=poll,
                member=member,
                request=request,
                recorded_by=recorded_by,
                earlier=earlier,
                voted=voted,
                present=present,
            )
        except VotingError as exc:
            results.append(exc)
            audits.append(_refusal(request, member, exc))
            continue
        if existing is not None:
            results.append(existing)
            continue
        receipt = new_receipt()
        while receipt in batch_receipts:
            receipt = new_receipt()
        batch_receipts.add(receipt)
        choice = request.choice
        if poll.is_secret:
            row = SecretParticipation(
                poll=poll, member=member, client_token=request.client_token, receipt=receipt
            )
            sealed_rows.append(
                SealedBallot(
                    poll=poll,
                    sealed=sealing.seal(
                        public_key=bytes(poll.seal_public_key), poll_id=poll.pk, choice=choice
                    ),
                )
            )
            data = {"person": member.pk, "method": poll.method}
        else:
            row = Ballot(
                poll=poll,
                member=member,
                choice=choice,
                client_token=request.client_token,
                receipt=receipt,
                recorded_by=recorded_by,
            )
            data = {
                "person": member.pk,
                "method": poll.method,
                "choice": choice,
                "recorded_by_clerk": recorded_by is not None,
            }
        earlier[member.pk] = row  # a second ballot of the same member in this batch finds this one
        new_rows.append(row)
        if not poll.is_secret:  # a secret ballot has no running count, only sealed choices
            counts["yes_count" if choice == Choice.YES else "no_count"] += 1
        voted += 1
        voters.append(member.pk)
        audits.append(AuditItem(action="vote.cast", actor=request.user, target=poll, data=data))
        results.append(
            Receipt(
                poll_id=poll.pk,
                member_id=member.pk,
                receipt=receipt,
                voted=voted,
                entitled=len(poll.entitled),
                choice=None if poll.is_secret else choice,
            )
        )
    if new_rows:
        codes = _unused_receipts(model, poll, new_rows)
        for i, row in enumerate(new_rows):
            if row.receipt != codes[i]:  # a clash with an earlier ballot: the member gets the new code
                results = [
                    dataclasses.replace(r, receipt=codes[i])
                    if isinstance(r, Receipt) and r.receipt == row.receipt and r.member_id == row.member_id
                    else r
                    for r in results
                ]
                row.receipt = codes[i]
        model.objects.bulk_create(new_rows)
        if sealed_rows:
            # Not in the voters' order: a batch's sealed rows say nothing of who came first.
            secrets.SystemRandom().shuffle(sealed_rows)
            SealedBallot.objects.bulk_create(sealed_rows)
        Poll.objects.filter(pk=poll.pk).update(
            voted_count=F("voted_count") + len(new_rows),
            **{name: F(name) + n for name, n in counts.items() if n},
        )
        _publish_tally(poll, voted, voters)
    audit_record_many(entries=audits)
    return results


def _admit(
    *,
    poll: Poll,
    member: Person | None,
    request: CastRequest,
    recorded_by,
    earlier: dict,
    voted: int,
    present,
) -> Receipt | None:
    """May this ballot be counted? ``None`` when it may; the earlier receipt for a retry; else
    ``VotingError`` with the reason."""
    if member is None:
        raise VotingError(_("You are not entitled to vote on this question."), code="not_entitled")
    if not poll.members_vote:
        raise VotingError(
            _("This vote is taken by %(method)s; members do not cast ballots on the tablet.")
            % {"method": poll.get_method_display()},
            code="wrong_method",
        )
    if poll.is_secret and recorded_by is not None:
        raise VotingError(
            _("In a secret ballot every member casts their own ballot; nobody can record one for them."),
            code="secret_own_ballot",
        )
    if request.client_token:
        existing = _existing_receipt(poll, member, request.client_token, earlier.get(member.pk), voted)
        if existing is not None:
            return existing
    if poll.state != Poll.State.OPEN:
        raise VotingError(_("This vote is closed; your ballot was not counted."), code="poll_closed")
    if request.choice not in Choice.values:
        raise VotingError(_("Unknown choice: vote yes or no."), code="unknown_choice")
    if not request.client_token:
        raise VotingError(_("The ballot has no client token."), code="invalid", field="token")
    sitting = poll.sitting
    agenda_item_id = poll.motion.agenda_item_id
    if member.pk not in poll.entitled:
        row = Attendance.objects.filter(sitting=sitting, person=member).first()
        if (
            row is not None
            and row.status == Attendance.Status.PRESENT_ONLINE
            and not remote_counts_here(sitting)
        ):
            if sitting.body.is_plenary:
                raise VotingError(
                    _(
                        "Members attending online cannot vote in the plenary: plenary votes must "
                        "be taken in the chamber."
                    ),
                    code="remote_plenary",
                )
            raise VotingError(
                _("%(body)s does not allow remote attendance, so you cannot vote online.")
                % {"body": sitting.body},
                code="remote_not_allowed",
            )
        if Exclusion.objects.filter(agenda_item_id=agenda_item_id, person=member).exists():
            raise VotingError(_("You are excluded (除斥) from this item and cannot vote."), code="excluded")
        if member.pk == poll.chair_id:
            raise VotingError(_("The chair does not vote under the ordinary rule (§116)."), code="chair")
        raise VotingError(_("You are not entitled to vote on this question."), code="not_entitled")
    count = present()
    if recorded_by is not None and member.pk in count.online:
        raise VotingError(_("Members attending online vote on their own tablet."), code="online_member")
    if member.pk not in count.present:
        raise VotingError(
            _("You are no longer recorded as present; only members present may vote."), code="not_present"
        )
    met, _proviso = quorum_met(
        quorum=poll.quorum_required, present=len(count.present), excluded=len(count.excluded_present)
    )
    if not met:
        raise VotingError(
            _(
                "No quorum: no vote can be taken until it is restored (%(present)d present, "
                "%(required)d needed)."
            )
            % {"present": len(count.present), "required": poll.quorum_required},
            code="no_quorum",
        )
    return None


def _publish_tally(poll: Poll, voted: int, voter_ids: list[int]) -> None:
    """How many have voted, never how (the running split is not shown while a vote is open), to
    every audience whose poll part shows the count; to the console also who has just voted, to
    strike them off its "not yet voted" list. Tablets learn their own ballot from the receipt and
    everyone's result when it is declared; one frame per audience and batch of ballots keeps sixty
    simultaneous ballots fast. Clients apply it to ``parts.poll`` (docs/protocol.md)."""
    count = {"poll": poll.pk, "voted": voted, "entitled": len(poll.entitled)}
    publish_many(
        sitting_id=poll.sitting_id,
        events=[
            ("voting.tally", count, "members"),
            ("voting.tally", count, "public"),
            ("voting.tally", {**count, "voters": voter_ids}, "clerks"),
        ],
    )


def objection_raise(*, poll_id: int, user, sitting_id: int | None = None) -> Poll:
    """A member objects to a no-objection question (「異議あり」): it becomes a formal vote."""
    member = person_of(user)
    try:
        with transaction.atomic():
            poll = lock_poll(poll_id)
            if sitting_id is not None and poll.sitting_id != sitting_id:
                raise VotingError(_("There is no such vote."), code="no_poll")
            if poll.method != Poll.Method.NO_OBJECTION:
                raise VotingError(
                    _("Objections are raised only when the chair asks for objections."), code="wrong_method"
                )
            if poll.state != Poll.State.OPEN:
                raise VotingError(
                    _("This vote is closed; your objection was not recorded."), code="poll_closed"
                )
            if member is None or member.pk not in poll.entitled:
                raise VotingError(_("You are not entitled to vote on this question."), code="not_entitled")
            Objection.objects.create(poll=poll, member=member)
            poll.state = Poll.State.CLOSED
            poll.closed_at = timezone.now()
            poll.outcome = Poll.Outcome.OBJECTED
            poll.save()
            audit_record(
                action="vote.objection",
                actor=user,
                target=poll,
                data={"person": member.pk, "outcome": poll.outcome},
            )
            broadcast(poll.sitting, "poll")
            return poll
    except VotingError as exc:
        raise _refuse_cast(
            poll_id=poll_id, person=member, user=user, code=exc.code, message=exc.text
        ) from None
