"""The bridge to the live area's event choke point (``meetings.events.publish``).

Kept in one place so the voting services never broadcast any other way.
"""

from __future__ import annotations


def publish(*, sitting_id: int, type: str, payload: dict, audience: str = "members") -> None:  # noqa: A002
    try:
        from meetings.events import publish as _publish
    except ImportError:  # the live area is not installed (bare tests of the rules)
        return
    _publish(sitting_id=sitting_id, type=type, payload=payload, audience=audience)
