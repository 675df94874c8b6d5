"""A real vote through the voting app's own services, for tests that need polls and ballots."""

from __future__ import annotations

from meetings.attendance.models import Attendance
from meetings.models import Sitting
from meetings.voting.models import Poll
from meetings.voting.services import ballots, motions, polls, roll


def open_with_everyone_present(sitting: Sitting, people, clerk_user) -> Sitting:
    Sitting.objects.filter(pk=sitting.pk).update(status=Sitting.Status.OPEN)
    sitting.refresh_from_db()
    for person in people:
        roll.attendance_mark(sitting=sitting, person=person, status=Attendance.Status.PRESENT_ROOM,
                                 by=clerk_user)
    return sitting


def open_roll_call(*, item, chair_user, title: str = "原案に賛成の諸君の起立を求めます") -> Poll:
    motion = motions.motion_create(agenda_item=item, title=title, by=chair_user)
    return polls.poll_open(motion=motion, method=Poll.Method.ROLL_CALL, by=chair_user)


def roll_call_vote(*, sitting, item, voters, chair_user, choices=None) -> Poll:
    """Open a roll-call ballot, let each voter cast (yes unless told), close it."""
    poll = open_roll_call(item=item, chair_user=chair_user)
    for n, person in enumerate(voters):
        choice = (choices or {}).get(person.pk, "yes" if n % 3 else "no")
        ballots.vote_cast(poll_id=poll.pk, user=person.user, choice=choice, client_token=f"t-{poll.pk}-{n}",
                           sitting_id=sitting.pk)
    return polls.poll_close(poll=poll, by=chair_user)
