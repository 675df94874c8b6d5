"""A real vote through the voting app's own services, for tests that need polls and ballots."""

from __future__ import annotations

from bench.support.scenario import open_with_everyone_present  # noqa: F401 (shared with the benchmarks)
from meetings.voting.models import Poll
from meetings.voting.services import ballots, motions, polls


def open_roll_call(*, item, chair_user, title: str = "原案に賛成の諸君の起立を求めます") -> Poll:
    motion = motions.motion_create(agenda_item=item, title=title, by=chair_user)
    return polls.poll_open(motion=motion, method=Poll.Method.ROLL_CALL, by=chair_user)


def roll_call_vote(*, sitting, item, voters, chair_user, choices=None) -> Poll:
    """Open a roll-call ballot, let each voter cast (yes unless told), close it."""
    poll = open_roll_call(item=item, chair_user=chair_user)
    for n, person in enumerate(voters):
        choice = (choices or {}).get(person.pk, "yes" if n % 3 else "no")
        ballots.vote_cast(
            poll_id=poll.pk,
            user=person.user,
            choice=choice,
            client_token=f"t-{poll.pk}-{n}",
            sitting_id=sitting.pk,
        )
    return polls.poll_close(poll=poll, by=chair_user)
