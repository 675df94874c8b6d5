"""The full-state message: the core live state of a sitting plus every registered state part.

Sent on connect, on every reconnect and on request (``{"type": "state.request"}``). Other areas
add their parts with ``register_state_part`` (the voting area adds ``attendance``, ``quorum``,
``floor`` and ``poll``). Part functions are synchronous and run in a worker thread; they receive
the audience (``members``, ``public`` or ``clerks``) and must return only what that audience may see.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from django.utils import translation

from meetings.models import Sitting

logger = logging.getLogger(__name__)

StatePart = Callable[..., dict]
_parts: dict[str, StatePart] = {}
_personal: dict[str, StatePart] = {}


def register_state_part(name: str, func: StatePart) -> None:
    """Add ``func(*, sitting, audience, user) -> dict`` to the full state under ``parts[name]``.

    Registering the same name again replaces the function (safe for repeated ``ready()`` calls).
    """
    if not name or not name.replace("_", "").isalnum():
        raise ValueError(f"state part name {name!r} must be a simple identifier")
    _parts[name] = func


def register_personal_part(name: str, func: StatePart) -> None:
    """Add ``func(*, sitting, user) -> dict`` to the state's ``me``: what concerns the signed-in user
    alone (who they are in this sitting, their own ballots). Never in an event (events are the same
    for a whole audience); it changes only through the user's own requests and their replies."""
    _personal[name] = func


def build_me(*, sitting: Sitting, user: Any) -> dict | None:
    if not getattr(user, "is_authenticated", False):
        return None
    me: dict[str, Any] = {"user": user.pk}
    for name, func in _personal.items():
        try:
            me.update(func(sitting=sitting, user=user))
        except Exception:
            logger.exception("live: personal part %r failed for sitting %s", name, sitting.pk)
    return me


def registered_parts() -> dict[str, StatePart]:
    return dict(_parts)


def build_parts(
    *, sitting: Sitting, audience: str, user: Any, failed: list[str] | None = None
) -> dict[str, dict]:
    """Every registered part; the names of parts that raised are appended to ``failed``."""
    parts: dict[str, dict] = {}
    for name, func in _parts.items():
        try:
            parts[name] = func(sitting=sitting, audience=audience, user=user)
        except Exception:  # one broken part must not keep a follower off the live page
            logger.exception("live: state part %r failed for sitting %s", name, sitting.pk)
            if failed is not None:
                failed.append(name)
    return parts


# Recently built states, keyed by everything they depend on that can change: the counters of every
# stream (each published change bumps one), the audience, the user and the language. A burst of
# (re)connections (late joiners, a process killed under 500 tablets, many public viewers) then
# costs one build per user instead of one per socket. Entries live a couple of seconds at most, so
# unpublished edits (say, a corrected item title) show up quickly.
STATE_CACHE_SECONDS = 2.0
_STATE_CACHE_SIZE = 2000
_cache: OrderedDict[tuple, tuple[float, dict]] = OrderedDict()
_cache_lock = threading.Lock()


def build_state(*, sitting_id: int, audience: str, user: Any, streams: tuple[str, ...] = ()) -> dict:
    """The full-state message for one socket, in the language of every live payload
    (``meetings.events.live_language``)."""
    from meetings.events import live_language

    with live_language():
        return _build_state(sitting_id=sitting_id, audience=audience, user=user, streams=streams)


def _build_state(*, sitting_id: int, audience: str, user: Any, streams: tuple[str, ...] = ()) -> dict:
    """The full-state message for one socket (sync; call through ``database_sync_to_async``).

    ``audience`` is the socket's main stream (``members`` or ``public``); ``streams`` lists every
    stream it receives (a clerk console receives ``members`` and ``clerks``). ``seq`` is the main
    stream's counter and ``seqs`` holds every counter the socket must track.
    """
    from meetings.live import selectors

    live, sitting = selectors.live_state_with_sitting(sitting_id=sitting_id)
    streams = streams or (audience,)
    counters = {"members": live.seq, "public": live.public_seq, "clerks": live.clerk_seq}
    user_key = getattr(user, "pk", None) if getattr(user, "is_authenticated", False) else None
    key = (
        sitting.pk,
        audience,
        streams,
        user_key,
        live.seq,
        live.public_seq,
        live.clerk_seq,
        live.updated_at,
        sitting.updated_at,
        translation.get_language(),
    )
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
    message: dict[str, Any] = {
        "type": "state",
        "stream": audience,
        "seq": counters[audience],
        "seqs": {s: counters[s] for s in streams},
        "sitting": sitting.pk,
    }
    from meetings.live.permissions import reads_closed_session

    reads_closed = audience != "public" and reads_closed_session(user, sitting)
    message.update(
        selectors.core_state(live=live, sitting=sitting, audience=audience, reads_closed_session=reads_closed)
    )
    failed: list[str] = []
    message["parts"] = build_parts(sitting=sitting, audience=audience, user=user, failed=failed)
    message["me"] = None if audience == "public" else build_me(sitting=sitting, user=user)
    if failed:
        # A part that failed (a dropped database connection, say) is missing from this state: the
        # client asks again shortly (docs/protocol.md, "incomplete"), and nobody else is served
        # this state from the cache.
        message["incomplete"] = sorted(failed)
        return message
    with _cache_lock:
        _cache[key] = (now + STATE_CACHE_SECONDS, message)
        _cache.move_to_end(key)
        while len(_cache) > _STATE_CACHE_SIZE:
            _cache.popitem(last=False)
    return message


def clear_state_cache() -> None:
    with _cache_lock:
        _cache.clear()
