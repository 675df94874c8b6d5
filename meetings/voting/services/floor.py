"""The floor (発言): members ask for it from the tablet, the chair grants, gives, skips and ends turns."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from council.audit import audit_record
from council.models import Person
from council.permissions import person_of
from meetings.attendance.models import Attendance
from meetings.attendance.quorum import body_member_ids
from meetings.models import AgendaItem, Sitting
from meetings.voting.errors import VotingError
from meetings.voting.models import FloorTurn
from meetings.voting.services.common import broadcast, lock_sitting


def _present_person(sitting: Sitting, person: Person) -> Attendance | None:
    row = Attendance.objects.filter(sitting=sitting, person=person).first()
    if row and (row.in_room or row.status == Attendance.Status.PRESENT_ONLINE):
        return row
    return None


def _official_on_roll(sitting: Sitting, person: Person) -> bool:
    """An executive official (説明員) the clerk has put on this sitting's roll."""
    return (
        person.kind == Person.Kind.OFFICIAL
        and Attendance.objects.filter(sitting=sitting, person=person, role=Attendance.Role.OFFICIAL).exists()
    )


def floor_request(*, sitting: Sitting, user, agenda_item: AgendaItem | None = None) -> FloorTurn:
    """A member, or an official on the roll (to answer or explain), asks for the floor
    (発言の許可を求める) from the tablet. Officials speak; they never vote nor count for quorum."""
    person = person_of(user)
    if person is None or (
        person.pk not in body_member_ids(sitting) and not _official_on_roll(sitting, person)
    ):
        raise VotingError(
            _("Only members of %(body)s and the officials attending can ask for the floor.")
            % {"body": sitting.body},
            code="not_member",
        )
    if sitting.status != Sitting.Status.OPEN:
        raise VotingError(_("The sitting is not in progress."), code="sitting_not_open")
    row = _present_person(sitting, person)
    if row is None:
        raise VotingError(_("You are not recorded as present."), code="not_present")
    with transaction.atomic():
        if FloorTurn.objects.filter(
            sitting=sitting, person=person, status__in=[FloorTurn.Status.WAITING, FloorTurn.Status.SPEAKING]
        ).exists():
            raise VotingError(_("You have already asked for the floor."), code="already_waiting")
        try:
            with transaction.atomic():
                turn = FloorTurn.objects.create(
                    sitting=sitting,
                    person=person,
                    agenda_item=agenda_item,
                    remote=row.status == Attendance.Status.PRESENT_ONLINE,
                )
        except IntegrityError:
            raise VotingError(_("You have already asked for the floor."), code="already_waiting") from None
        audit_record(
            action="floor.request", actor=user, target=turn, data={"sitting": sitting.pk, "person": person.pk}
        )
        broadcast(sitting, "floor")
    return turn


def floor_withdraw(*, sitting: Sitting, user) -> FloorTurn:
    person = person_of(user)
    with transaction.atomic():
        turn = (
            FloorTurn.objects.select_for_update()
            .filter(sitting=sitting, person=person, status=FloorTurn.Status.WAITING)
            .first()
        )
        if turn is None:
            raise VotingError(_("You are not waiting for the floor."), code="not_waiting")
        turn.status = FloorTurn.Status.WITHDRAWN
        turn.ended_at = timezone.now()
        turn.save()
        audit_record(action="floor.withdraw", actor=user, target=turn, data={"sitting": sitting.pk})
        broadcast(sitting, "floor")
    return turn


def _end_current(sitting: Sitting, *, by, now) -> FloorTurn | None:
    current = (
        FloorTurn.objects.select_for_update()
        .filter(sitting=sitting, status=FloorTurn.Status.SPEAKING)
        .first()
    )
    if current:
        current.status = FloorTurn.Status.DONE
        current.ended_at = now
        current.save()
        audit_record(action="floor.end", actor=by, target=current, data={"sitting": sitting.pk})
    return current


def floor_grant(*, turn: FloorTurn, by) -> FloorTurn:
    """The chair gives the floor to a waiting member (ending the current turn)."""
    with transaction.atomic():
        sitting = lock_sitting(turn.sitting_id)
        turn = FloorTurn.objects.select_for_update().get(pk=turn.pk)
        if turn.status != FloorTurn.Status.WAITING:
            raise VotingError(_("This request is no longer waiting."), code="not_waiting")
        now = timezone.now()
        _end_current(sitting, by=by, now=now)
        turn.status = FloorTurn.Status.SPEAKING
        turn.granted_at = now
        turn.granted_by = by
        turn.save()
        audit_record(
            action="floor.grant",
            actor=by,
            target=turn,
            data={"sitting": sitting.pk, "person": turn.person_id},
        )
        broadcast(sitting, "floor")
    return turn


def floor_give(*, sitting: Sitting, person: Person, by, agenda_item: AgendaItem | None = None) -> FloorTurn:
    """The chair gives the floor directly (an official explaining a bill, a member named)."""
    if person.council_id != sitting.body.council_id:
        raise VotingError(_("This person belongs to another council."), code="invalid", field="person_id")
    with transaction.atomic():
        sitting = lock_sitting(sitting.pk)
        now = timezone.now()
        _end_current(sitting, by=by, now=now)
        waiting = (
            FloorTurn.objects.select_for_update()
            .filter(sitting=sitting, person=person, status=FloorTurn.Status.WAITING)
            .first()
        )
        if waiting:
            turn = waiting
        else:
            turn = FloorTurn(sitting=sitting, person=person, agenda_item=agenda_item, requested_at=now)
        turn.status = FloorTurn.Status.SPEAKING
        turn.granted_at = now
        turn.granted_by = by
        turn.save()
        audit_record(
            action="floor.grant",
            actor=by,
            target=turn,
            data={"sitting": sitting.pk, "person": person.pk, "direct": waiting is None},
        )
        broadcast(sitting, "floor")
    return turn


def floor_skip(*, turn: FloorTurn, by) -> FloorTurn:
    with transaction.atomic():
        turn = FloorTurn.objects.select_for_update().select_related("sitting").get(pk=turn.pk)
        if turn.status != FloorTurn.Status.WAITING:
            raise VotingError(_("This request is no longer waiting."), code="not_waiting")
        turn.status = FloorTurn.Status.SKIPPED
        turn.ended_at = timezone.now()
        turn.save()
        audit_record(action="floor.skip", actor=by, target=turn, data={"sitting": turn.sitting_id})
        broadcast(turn.sitting, "floor")
    return turn


def floor_end(*, sitting: Sitting, by) -> FloorTurn:
    with transaction.atomic():
        sitting = lock_sitting(sitting.pk)
        ended = _end_current(sitting, by=by, now=timezone.now())
        if ended is None:
            raise VotingError(_("Nobody has the floor."), code="nobody_speaking")
        broadcast(sitting, "floor")
    return ended


def floor_schedule(
    *,
    sitting: Sitting,
    agenda_item: AgendaItem,
    people: list[Person],
    by,
    replaces: list[Person] | tuple = (),
) -> dict:
    """A published speaking order (the 一般質問 list) becomes the floor queue of ``agenda_item``:
    one waiting turn per person, placed in the given order from the sitting's scheduled start
    (``requested_at``, the queue's order); each turn's ``queued_at`` is when it was really queued,
    so the chair's waiting time counts from then, or from the actual opening (``waiting_since``).

    Idempotent: a person already waiting on the item is moved to their place, never queued twice;
    a turn already taken (speaking, done or skipped) is kept as it is; the waiting turns of
    ``replaces`` (the previous order) who are no longer in ``people`` are withdrawn. A person who
    is waiting on another item of the sitting keeps that request (one request each) and is reported
    under ``busy``. A closed or cancelled sitting's floor is left as it was."""
    import datetime

    from django.db.models import Q

    if agenda_item.sitting_id != sitting.pk:
        raise VotingError(
            _("The agenda item belongs to another sitting."), code="invalid", field="agenda_item"
        )
    if any(p.council_id != sitting.body.council_id for p in people):
        raise VotingError(_("This person belongs to another council."), code="invalid", field="people")
    report: dict[str, list[int]] = {"created": [], "moved": [], "kept": [], "withdrawn": [], "busy": []}
    with transaction.atomic():
        sitting = lock_sitting(sitting.pk)
        if sitting.status in (Sitting.Status.CLOSED, Sitting.Status.CANCELLED):
            # Nobody will be called any more: the record of the sitting stays as it was.
            audit_record(
                action="floor.schedule",
                actor=by,
                target=agenda_item,
                data={"sitting": sitting.pk, "order": [p.pk for p in people], "closed": True, **report},
            )
            return report
        start = timezone.make_aware(datetime.datetime.combine(sitting.date, sitting.start_time))
        turns = FloorTurn.objects.select_for_update().filter(
            Q(agenda_item=agenda_item) | Q(status=FloorTurn.Status.WAITING), sitting=sitting
        )
        on_item: dict[int, list[FloorTurn]] = {}
        waiting_elsewhere: set[int] = set()
        for turn in turns:
            if turn.agenda_item_id == agenda_item.pk:
                on_item.setdefault(turn.person_id, []).append(turn)
            else:
                waiting_elsewhere.add(turn.person_id)
        wanted = [p.pk for p in people]
        for position, person in enumerate(people):
            slot = start + datetime.timedelta(seconds=position)
            mine = on_item.get(person.pk, [])
            waiting = next((t for t in mine if t.status == FloorTurn.Status.WAITING), None)
            taken = [t for t in mine if t.status in ("speaking", "done", "skipped")]
            if taken:
                report["kept"].append(person.pk)
            elif waiting is not None:
                if waiting.requested_at != slot:
                    waiting.requested_at = slot
                    waiting.save(update_fields=["requested_at"])
                    report["moved"].append(person.pk)
            elif person.pk in waiting_elsewhere:
                report["busy"].append(person.pk)
            else:
                FloorTurn.objects.create(
                    sitting=sitting, person=person, agenda_item=agenda_item, requested_at=slot
                )
                report["created"].append(person.pk)
        now = timezone.now()
        for person in replaces:
            if person.pk in wanted:
                continue
            for turn in on_item.get(person.pk, []):
                if turn.status == FloorTurn.Status.WAITING:
                    turn.status, turn.ended_at = FloorTurn.Status.WITHDRAWN, now
                    turn.save(update_fields=["status", "ended_at"])
                    report["withdrawn"].append(person.pk)
        audit_record(
            action="floor.schedule",
            actor=by,
            target=agenda_item,
            data={"sitting": sitting.pk, "order": wanted, **report},
        )
        broadcast(sitting, "floor")
    return report
