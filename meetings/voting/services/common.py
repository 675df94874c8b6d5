"""What the voting services share: the broadcast of the live state parts and the sitting lock.

Every voting service publishes through ``broadcast`` (after commit, via ``meetings.events``), so
the state parts and their audiences are named in one place.
"""

from __future__ import annotations

from meetings.events import live_language, publish_many
from meetings.models import Sitting
from meetings.voting import selectors

LIVE_STATUSES = (Sitting.Status.OPEN, Sitting.Status.RECESS)


# --- broadcasting -----------------------------------------------------------------------------

# The console receives the members' and the clerks' streams: parts with a richer clerks' view
# go to both and the console keeps the clerks' one; the others go to members and public only.
PART_AUDIENCES = {
    "attendance": ("members", "public", "clerks"),
    "quorum": ("members", "public"),
    "floor": ("members", "public"),
    "poll": ("members", "public", "clerks"),
}


def broadcast(sitting: Sitting, *parts: str) -> None:
    """Publish the named state parts to their audiences (one payload per audience)."""
    events = []
    with live_language():  # one payload per audience, in the council's language (meetings.events)
        for part in parts:
            for audience in PART_AUDIENCES[part]:
                payload = selectors.part(part, sitting=sitting, audience=audience)
                if payload is not None:
                    events.append((f"voting.{part}", payload, audience))
    if events:
        publish_many(sitting_id=sitting.pk, events=events)


def lock_sitting(sitting_id: int) -> Sitting:
    return Sitting.objects.select_for_update().select_related("body", "body__council").get(pk=sitting_id)
