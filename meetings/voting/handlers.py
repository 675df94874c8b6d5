"""Inbound WebSocket messages of the voting area and its live state parts.

Registered from ``VotingConfig.ready``. Each handler fetches what the message names (within the
socket's sitting, so another sitting's ids are "not found"), checks permission with
``meetings.voting.permissions`` and calls one service. Refusals are ``VotingError`` (a
``ValidationError``); the consumer turns them into ``{"type": "error", "code", "message"}``.
"""

from __future__ import annotations

import functools
from fractions import Fraction

from django.utils.translation import gettext as _

from council.models import Person
from meetings.attendance.models import AttendanceSuggestion, Exclusion, RemoteAttendanceRequest
from meetings.live.models import LiveState
from meetings.models import AgendaItem, Sitting
from meetings.voting import permissions, selectors
from meetings.voting.errors import VotingError
from meetings.voting.models import FloorTurn, Motion, Poll
from meetings.voting.services import (
    ballots,
    exclusions,
    floor,
    identity,
    motions,
    polls,
    remote,
    roll,
    suggestions,
)

ID = {"type": "integer", "minimum": 1, "maximum": 2**53}
TOKEN = {"type": "string", "minLength": 1, "maxLength": 64}
SHORT = {"type": "string", "maxLength": 40}


def _sitting(sitting_id: int) -> Sitting:
    return Sitting.objects.select_related("body", "body__council", "session").get(pk=sitting_id)


def _forbidden() -> VotingError:
    return VotingError(_("You are not allowed to do this."), code="forbidden")


def _require(check, user, sitting: Sitting) -> None:
    if not check(user, sitting):
        raise _forbidden()


def _get(model, message_key: str, message: dict, **filters):
    obj = model.objects.filter(pk=message[message_key], **filters).first()
    if obj is None:
        raise VotingError(_("Not found."), code="not_found")
    return obj


def _person(sitting: Sitting, person_id: int) -> Person:
    person = Person.objects.filter(pk=person_id, council_id=sitting.body.council_id).first()
    if person is None:
        raise VotingError(_("Not found."), code="not_found")
    return person


def _current_item(sitting: Sitting) -> AgendaItem | None:
    state = LiveState.objects.filter(sitting=sitting).select_related("agenda_item").first()
    return getattr(state, "agenda_item", None)


def allowed(check):
    """Run the handler for users ``check(user, sitting)`` allows, with the sitting fetched."""

    def decorate(handle):
        @functools.wraps(handle)
        def handler(*, user, sitting_id, message):
            sitting = _sitting(sitting_id)
            _require(check, user, sitting)
            return handle(user=user, sitting=sitting, message=message)

        return handler

    return decorate


# --- attendance -------------------------------------------------------------------------------


def handle_checkin(*, user, sitting_id, message):
    row = roll.attendance_check_in(sitting=_sitting(sitting_id), user=user)
    return {"type": "attendance.checked_in", "status": row.status}


def handle_checkout(*, user, sitting_id, message):
    row = roll.attendance_check_out(sitting=_sitting(sitting_id), user=user)
    return {"type": "attendance.checked_out", "status": row.status}


@allowed(permissions.can_keep_roll)
def handle_mark(*, user, sitting, message):
    roll.attendance_mark(
        sitting=sitting,
        person=_person(sitting, message["person_id"]),
        status=message["status"],
        absence_reason=message.get("reason", ""),
        by=user,
    )


@allowed(permissions.can_keep_roll)
def handle_roll_all_present(*, user, sitting, message):
    marked = roll.roll_mark_all_present(sitting=sitting, by=user)
    return {"type": "attendance.all_present", "marked": len(marked)}


@allowed(permissions.can_keep_roll)
def handle_roll_prepare(*, user, sitting, message):
    roll.roll_prepare(sitting=sitting, by=user)


def handle_remote_apply(*, user, sitting_id, message):
    sitting = _sitting(sitting_id)
    person = permissions.person_of(user)
    if person is None:
        raise _forbidden()
    request = remote.remote_apply(sitting=sitting, person=person, reason=message["reason"], by=user)
    return {"type": "remote.applied", "request": request.pk, "decision": request.decision}


@allowed(permissions.can_decide_remote)
def handle_remote_decide(*, user, sitting, message):
    request = _get(RemoteAttendanceRequest, "request_id", message, sitting=sitting)
    remote.remote_decide(request=request, approve=message["approve"], by=user)


@allowed(permissions.can_keep_roll)
def handle_remote_check(*, user, sitting, message):
    request = _get(RemoteAttendanceRequest, "request_id", message, sitting=sitting)
    identity.identity_check_record(
        request=request,
        method=message["method"],
        passed=message["passed"],
        note=message.get("note", ""),
        by=user,
    )


@allowed(permissions.can_chair)
def handle_remote_disconnect(*, user, sitting, message):
    remote.remote_disconnect(sitting=sitting, person=_person(sitting, message["person_id"]), by=user)


@allowed(permissions.can_keep_roll)
def handle_suggestion_decide(*, user, sitting, message):
    suggestion = _get(AttendanceSuggestion, "suggestion_id", message, sitting=sitting)
    suggestions.suggestion_decide(suggestion=suggestion, accept=message["accept"], by=user)


@allowed(permissions.can_chair)
def handle_exclusion_add(*, user, sitting, message):
    item = _get(AgendaItem, "agenda_item_id", message, sitting=sitting)
    exclusions.exclusion_add(
        agenda_item=item,
        person=_person(sitting, message["person_id"]),
        reason=message.get("reason", ""),
        by=user,
    )


@allowed(permissions.can_chair)
def handle_exclusion_remove(*, user, sitting, message):
    exclusions.exclusion_remove(
        exclusion=_get(Exclusion, "exclusion_id", message, agenda_item__sitting=sitting), by=user
    )


# --- the floor --------------------------------------------------------------------------------


def handle_floor_request(*, user, sitting_id, message):
    sitting = _sitting(sitting_id)
    turn = floor.floor_request(sitting=sitting, user=user, agenda_item=_current_item(sitting))
    return {"type": "floor.requested", "turn": turn.pk}


def handle_floor_withdraw(*, user, sitting_id, message):
    floor.floor_withdraw(sitting=_sitting(sitting_id), user=user)


@allowed(permissions.can_chair)
def handle_floor_grant(*, user, sitting, message):
    floor.floor_grant(turn=_get(FloorTurn, "turn_id", message, sitting=sitting), by=user)


@allowed(permissions.can_chair)
def handle_floor_give(*, user, sitting, message):
    floor.floor_give(
        sitting=sitting,
        person=_person(sitting, message["person_id"]),
        by=user,
        agenda_item=_current_item(sitting),
    )


@allowed(permissions.can_chair)
def handle_floor_skip(*, user, sitting, message):
    floor.floor_skip(turn=_get(FloorTurn, "turn_id", message, sitting=sitting), by=user)


@allowed(permissions.can_chair)
def handle_floor_end(*, user, sitting, message):
    floor.floor_end(sitting=sitting, by=user)


# --- motions and votes ------------------------------------------------------------------------


@allowed(permissions.can_chair)
def handle_motion_create(*, user, sitting, message):
    item = _get(AgendaItem, "agenda_item_id", message, sitting=sitting)
    attendance = approval = None
    if message.get("approval"):
        approval = Fraction(*message["approval"])
        if message.get("attendance"):
            attendance = Fraction(*message["attendance"])
    motion = motions.motion_create(
        agenda_item=item,
        title=message["title"],
        text=message.get("text", ""),
        preset=message.get("preset", ""),
        attendance=attendance,
        approval=approval,
        by=user,
    )
    return {"type": "motion.created", "motion": motion.pk}


@allowed(permissions.can_chair)
def handle_vote_open(*, user, sitting, message):
    motion = _get(Motion, "motion_id", message, agenda_item__sitting=sitting)
    poll = polls.poll_open(motion=motion, method=message["method"], by=user)
    return {"type": "vote.opened", "poll": poll.pk}


def handle_vote_cast(*, user, sitting_id, message):
    result = handle_vote_cast_many(sitting_id=sitting_id, calls=[(user, message)])[0]
    if isinstance(result, Exception):
        raise result
    return result


def handle_vote_cast_many(*, sitting_id, calls):
    """Ballots that arrived together (see ``meetings.live.protocol``): one ``vote_cast_many``."""
    sitting = None
    answers: list = [None] * len(calls)
    requests, positions = [], []
    for index, (user, message) in enumerate(calls):
        member = None
        if message.get("member_id") is not None:  # the clerk records a room member's ballot
            try:
                sitting = sitting or _sitting(sitting_id)
                _require(permissions.can_keep_roll, user, sitting)
                member = _person(sitting, message["member_id"])
            except VotingError as exc:
                answers[index] = exc
                continue
        requests.append(
            ballots.CastRequest(
                poll_id=message["poll_id"],
                user=user,
                choice=message["choice"],
                client_token=message["token"],
                member=member,
            )
        )
        positions.append(index)
    outcomes = ballots.vote_cast_many(requests=requests, sitting_id=sitting_id) if requests else []
    for index, outcome in zip(positions, outcomes, strict=True):
        answers[index] = (
            outcome if isinstance(outcome, Exception) else {"type": "vote.receipt", **outcome.as_dict()}
        )
    return answers


def _poll(sitting: Sitting, message: dict) -> Poll:
    return _get(Poll, "poll_id", message, sitting=sitting)


@allowed(permissions.can_chair)
def handle_vote_close(*, user, sitting, message):
    poll = polls.poll_close(poll=_poll(sitting, message), by=user)
    return {"type": "vote.closed", "poll": poll.pk, "outcome": poll.outcome}


@allowed(permissions.can_chair)
def handle_vote_counts(*, user, sitting, message):
    poll = polls.poll_enter_counts(
        poll=_poll(sitting, message), yes=message["yes"], no=message["no"], by=user
    )
    return {"type": "vote.closed", "poll": poll.pk, "outcome": poll.outcome}


@allowed(permissions.can_chair)
def handle_vote_casting(*, user, sitting, message):
    poll = polls.poll_casting_vote(poll=_poll(sitting, message), choice=message["choice"], by=user)
    return {"type": "vote.decided", "poll": poll.pk, "outcome": poll.outcome}


@allowed(permissions.can_chair)
def handle_vote_declare(*, user, sitting, message):
    poll = polls.poll_declare(poll=_poll(sitting, message), by=user)
    return {"type": "vote.declared", "poll": poll.pk, "outcome": poll.outcome}


def handle_objection(*, user, sitting_id, message):
    poll = ballots.objection_raise(poll_id=message["poll_id"], user=user, sitting_id=sitting_id)
    return {"type": "objection.recorded", "poll": poll.pk}


# --- state parts ------------------------------------------------------------------------------


def _state_part(name: str):
    def build(*, sitting, audience, user):
        if audience == "members" and permissions.sees_clerk_view(user, sitting):
            audience = "clerks"
        return selectors.part(name, sitting=sitting, audience=audience, user=user)

    return build


def _personal_part(*, sitting, user):
    """The state's ``me``: who the user is in this sitting and their own ballots (by poll id)."""
    person = permissions.person_of(user)
    return {
        "person": person.pk if person is not None else None,
        "member": permissions.can_take_part(user, sitting),
        "chair": permissions.can_chair(user, sitting),
        "ballots": selectors.my_ballots(sitting=sitting, person=person) if person is not None else {},
    }


def register() -> None:
    from meetings.live.protocol import register_handler
    from meetings.live.state import register_personal_part, register_state_part

    for name in ("attendance", "quorum", "floor", "poll"):
        register_state_part(name, _state_part(name))
    register_personal_part("voting", _personal_part)

    empty: dict = {}
    register_handler("attendance.checkin", schema=empty, handler=handle_checkin)
    register_handler("attendance.checkout", schema=empty, handler=handle_checkout)
    register_handler(
        "attendance.mark",
        schema={
            "properties": {"person_id": ID, "status": SHORT, "reason": SHORT},
            "required": ["person_id", "status"],
        },
        handler=handle_mark,
    )
    register_handler("attendance.prepare", schema=empty, handler=handle_roll_prepare)
    register_handler("attendance.all_present", schema=empty, handler=handle_roll_all_present)
    register_handler(
        "remote.apply",
        schema={"properties": {"reason": {"type": "string", "maxLength": 300}}, "required": ["reason"]},
        handler=handle_remote_apply,
    )
    register_handler(
        "remote.decide",
        schema={
            "properties": {"request_id": ID, "approve": {"type": "boolean"}},
            "required": ["request_id", "approve"],
        },
        handler=handle_remote_decide,
    )
    register_handler(
        "remote.check",
        schema={
            "properties": {
                "request_id": ID,
                "method": SHORT,
                "passed": {"type": "boolean"},
                "note": {"type": "string", "maxLength": 200},
            },
            "required": ["request_id", "method", "passed"],
        },
        handler=handle_remote_check,
    )
    register_handler(
        "remote.disconnect",
        schema={"properties": {"person_id": ID}, "required": ["person_id"]},
        handler=handle_remote_disconnect,
    )
    register_handler(
        "suggestion.decide",
        schema={
            "properties": {"suggestion_id": ID, "accept": {"type": "boolean"}},
            "required": ["suggestion_id", "accept"],
        },
        handler=handle_suggestion_decide,
    )

    register_handler(
        "exclusion.add",
        schema={
            "properties": {
                "agenda_item_id": ID,
                "person_id": ID,
                "reason": {"type": "string", "maxLength": 300},
            },
            "required": ["agenda_item_id", "person_id", "reason"],
        },
        handler=handle_exclusion_add,
    )
    register_handler(
        "exclusion.remove",
        schema={"properties": {"exclusion_id": ID}, "required": ["exclusion_id"]},
        handler=handle_exclusion_remove,
    )
    register_handler("floor.request", schema=empty, handler=handle_floor_request)
    register_handler("floor.withdraw", schema=empty, handler=handle_floor_withdraw)
    register_handler(
        "floor.grant",
        schema={"properties": {"turn_id": ID}, "required": ["turn_id"]},
        handler=handle_floor_grant,
    )
    register_handler(
        "floor.give",
        schema={"properties": {"person_id": ID}, "required": ["person_id"]},
        handler=handle_floor_give,
    )
    register_handler(
        "floor.skip",
        schema={"properties": {"turn_id": ID}, "required": ["turn_id"]},
        handler=handle_floor_skip,
    )
    register_handler("floor.end", schema=empty, handler=handle_floor_end)

    fraction = {
        "type": "array",
        "items": {"type": "integer", "minimum": 1, "maximum": 100},
        "minItems": 2,
        "maxItems": 2,
    }
    register_handler(
        "motion.create",
        schema={
            "properties": {
                "agenda_item_id": ID,
                "title": {"type": "string", "maxLength": 300},
                "text": {"type": "string", "maxLength": 4000},
                "preset": SHORT,
                "attendance": fraction,
                "approval": fraction,
            },
            "required": ["agenda_item_id", "title"],
        },
        handler=handle_motion_create,
    )
    register_handler(
        "vote.open",
        schema={"properties": {"motion_id": ID, "method": SHORT}, "required": ["motion_id", "method"]},
        handler=handle_vote_open,
    )
    # The choice is not an enum here on purpose: an unknown choice is refused by the service,
    # with a translated message and an audit entry, like every other refused ballot.
    register_handler(
        "vote.cast",
        schema={
            "properties": {"poll_id": ID, "choice": SHORT, "token": TOKEN, "member_id": ID},
            "required": ["poll_id", "choice", "token"],
        },
        handler=handle_vote_cast,
        batch_handler=handle_vote_cast_many,
    )
    register_handler(
        "vote.close",
        schema={"properties": {"poll_id": ID}, "required": ["poll_id"]},
        handler=handle_vote_close,
    )
    count = {"type": "integer", "minimum": 0, "maximum": 1000}
    register_handler(
        "vote.counts",
        schema={
            "properties": {"poll_id": ID, "yes": count, "no": count},
            "required": ["poll_id", "yes", "no"],
        },
        handler=handle_vote_counts,
    )
    register_handler(
        "vote.casting",
        schema={"properties": {"poll_id": ID, "choice": SHORT}, "required": ["poll_id", "choice"]},
        handler=handle_vote_casting,
    )
    register_handler(
        "vote.declare",
        schema={"properties": {"poll_id": ID}, "required": ["poll_id"]},
        handler=handle_vote_declare,
    )
    register_handler(
        "objection.raise",
        schema={"properties": {"poll_id": ID}, "required": ["poll_id"]},
        handler=handle_objection,
    )
