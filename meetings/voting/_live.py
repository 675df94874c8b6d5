"""The bridge to the live area's event choke point (``meetings.events``).

Kept in one place so the voting services never broadcast any other way.
"""

from __future__ import annotations


def publish_many(*, sitting_id: int, events: list[tuple[str, dict, str]]) -> None:
    """Publish ``(type, payload, audience)`` events of one sitting, after commit, in one round trip."""
    if not events:
        return
    try:
        from meetings.events import publish_many as _publish_many
    except ImportError:  # the live area is not installed (bare tests of the rules)
        return
    _publish_many(sitting_id=sitting_id, events=events)


def publish(*, sitting_id: int, type: str, payload: dict, audience: str = "members") -> None:  # noqa: A002
    publish_many(sitting_id=sitting_id, events=[(type, payload, audience)])
