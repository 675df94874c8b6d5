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


# The state is built in two parts. The shared part (core state and parts) depends on the sitting,
# the audience's view (main stream, streams received, whether closed-session papers may be read)
# and the counters of every stream; it is built once per view and sequence numbers and shared by
# every socket of that view (``build_states`` answers a whole batch of handshakes with one build
# per view). Parts must depend on the user only through that view (the voting area's clerk view is
# for those who run the sitting, the same as the ``clerks`` stream). ``me`` is built per user.
# Entries live a couple of seconds at most, so unpublished edits (a corrected item title) show up
# quickly; a moved counter makes a new key at once.
STATE_CACHE_SECONDS = 2.0
_STATE_CACHE_SIZE = 2000
_cache: OrderedDict[tuple, tuple[float, dict]] = OrderedDict()
_cache_lock = threading.Lock()
builds = {"shared": 0, "me": 0}  # how many were built (tests, the reconnect-storm benchmark)


def build_state(*, sitting_id: int, audience: str, user: Any, streams: tuple[str, ...] = ()) -> dict:
    """The full-state message for one socket, in the language of every live payload
    (``meetings.events.live_language``). (sync; call off the event loop)

    ``audience`` is the socket's main stream (``members`` or ``public``); ``streams`` lists every
    stream it receives (a clerk console receives ``members`` and ``clerks``). ``seq`` is the main
    stream's counter and ``seqs`` holds every counter the socket must track.
    """
    from meetings.events import live_language
    from meetings.live import selectors
    from meetings.live.permissions import reads_closed_session

    with live_language():
        live, sitting = selectors.live_state_with_sitting(sitting_id=sitting_id)
        reads_closed = audience != "public" and reads_closed_session(user, sitting)
        shared = _shared(live, sitting, audience, streams or (audience,), reads_closed, user)
        return {**shared, "me": None if audience == "public" else _me(live, sitting, user)}


StateRequest = tuple[int, str, tuple[str, ...], "int | None", bool]


def build_states(requests: list[StateRequest]) -> dict[StateRequest, dict]:
    """Full states for many sockets at once: ``(sitting id, audience, streams, user id,
    reads closed-session papers)`` each. One read of each sitting's live state, one shared part
    per view, one ``me`` per user, one query for the users. (sync)"""
    from django.contrib.auth import get_user_model

    from meetings.events import live_language
    from meetings.live import selectors

    user_ids = {r[3] for r in requests if r[3] is not None}
    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=user_ids).select_related("person")}
    result: dict[StateRequest, dict] = {}
    with live_language():
        loaded: dict[int, tuple] = {}
        for request in requests:
            sitting_id, audience, streams, user_id, reads_closed = request
            if sitting_id not in loaded:
                loaded[sitting_id] = selectors.live_state_with_sitting(sitting_id=sitting_id)
            live, sitting = loaded[sitting_id]
            user = users.get(user_id) if user_id is not None else None
            if audience != "public" and user is None:
                continue  # the user is gone: no state (the socket is refused)
            if audience == "public":
                from django.contrib.auth.models import AnonymousUser

                user = AnonymousUser()
            shared = _shared(live, sitting, audience, streams or (audience,), reads_closed, user)
            result[request] = {**shared, "me": None if audience == "public" else _me(live, sitting, user)}
    return result


def _counters(live) -> tuple:
    return (live.seq, live.public_seq, live.clerk_seq, live.updated_at)


def _cached(key: tuple, make: Callable[[], dict], kind: str) -> dict:
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
    value = make()
    builds[kind] += 1
    if value.get("incomplete"):
        # A part that failed (a dropped database connection, say) is missing from this state: the
        # client asks again shortly (docs/protocol.md, "incomplete"), and nobody else is served
        # this state from the cache.
        return value
    with _cache_lock:
        _cache[key] = (now + STATE_CACHE_SECONDS, value)
        _cache.move_to_end(key)
        while len(_cache) > _STATE_CACHE_SIZE:
            _cache.popitem(last=False)
    return value


def _shared(live, sitting, audience: str, streams: tuple[str, ...], reads_closed: bool, user: Any) -> dict:
    from meetings.live import selectors

    key = (
        "shared",
        sitting.pk,
        audience,
        streams,
        reads_closed,
        *_counters(live),
        sitting.updated_at,
        translation.get_language(),
    )

    def make() -> dict:
        counters = {"members": live.seq, "public": live.public_seq, "clerks": live.clerk_seq}
        message: dict[str, Any] = {
            "type": "state",
            "stream": audience,
            "seq": counters[audience],
            "seqs": {s: counters[s] for s in streams},
            "sitting": sitting.pk,
        }
        message.update(
            selectors.core_state(
                live=live, sitting=sitting, audience=audience, reads_closed_session=reads_closed
            )
        )
        failed: list[str] = []
        message["parts"] = build_parts(sitting=sitting, audience=audience, user=user, failed=failed)
        if failed:
            message["incomplete"] = sorted(failed)
        return message

    return _cached(key, make, "shared")


def _me(live, sitting, user: Any) -> dict | None:
    if not getattr(user, "is_authenticated", False):
        return None
    key = ("me", sitting.pk, user.pk, *_counters(live), sitting.updated_at, translation.get_language())
    return _cached(key, lambda: build_me(sitting=sitting, user=user), "me")


def clear_state_cache() -> None:
    with _cache_lock:
        _cache.clear()
