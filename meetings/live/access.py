"""Access re-checks for open sockets: who may still follow which sitting, whose session still exists.

Used by the hub every 30 s and after a channel-layer restore (``recheck``), and by the consumer on
its heartbeat (``still_allowed``). Sign-outs and lost roles are normally announced at once through
the hubs' control group; these checks catch what was missed (e.g. while Redis was down).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from channels.db import database_sync_to_async

from meetings.live.sockets import CLOSE_FORBIDDEN, CLOSE_SIGNED_OUT, LiveSocket


def still_allowed(pairs: list[tuple[int, int]]) -> dict[tuple[int, int], bool]:
    """For each ``(user id, sitting id)``: may that user still follow that sitting? (sync)"""
    from django.contrib.auth import get_user_model

    from meetings.live.permissions import can_follow
    from meetings.models import Sitting

    User = get_user_model()
    users = {u.pk: u for u in User.objects.filter(pk__in={p[0] for p in pairs}).select_related("person")}
    sittings = {s.pk: s for s in Sitting.objects.filter(pk__in={p[1] for p in pairs}).select_related("body")}
    result = {}
    for user_id, sitting_id in pairs:
        user, sitting = users.get(user_id), sittings.get(sitting_id)
        result[(user_id, sitting_id)] = bool(user and sitting and can_follow(user, sitting))
    return result


Grant = tuple[tuple[str, ...], bool]  # the streams received, may read closed-session papers


def authorize(
    requests: list[tuple[int | None, int, bool]],
) -> dict[tuple[int | None, int, bool], Grant | None]:
    """For each connecting ``(user id, sitting id, public endpoint)``: the streams it receives and
    whether it may read closed-session papers, or None when it may not connect. In bulk: one query
    for the users, one for the sittings, then each distinct user and sitting checked once. Checked
    afresh for every batch of handshakes (nothing remembered: a lost role refuses the next one).
    (sync)"""
    from django.contrib.auth import get_user_model

    from meetings.live.permissions import can_follow, can_run, can_watch_public, reads_closed_session
    from meetings.models import Sitting

    User = get_user_model()
    user_ids = {r[0] for r in requests if r[0] is not None and not r[2]}
    users = (
        {u.pk: u for u in User.objects.filter(pk__in=user_ids).select_related("person")} if user_ids else {}
    )
    sittings = {
        s.pk: s for s in Sitting.objects.filter(pk__in={r[1] for r in requests}).select_related("body")
    }
    result: dict[tuple[int | None, int, bool], Grant | None] = {}
    for request in requests:
        user_id, sitting_id, public = request
        sitting = sittings.get(sitting_id)
        if sitting is None:
            result[request] = None
        elif public:
            result[request] = (("public",), False) if can_watch_public(sitting) else None
        else:
            user = users.get(user_id)
            if user is None or not can_follow(user, sitting):
                result[request] = None
            else:
                streams = ("members", "clerks") if can_run(user, sitting) else ("members",)
                result[request] = (streams, reads_closed_session(user, sitting))
    return result


def sessions_alive(keys: set[str]) -> set[str]:
    """Which of these sessions still exist (a signed-out session is deleted). (sync)"""
    from importlib import import_module

    from django.conf import settings
    from django.utils import timezone

    if not keys:
        return set()
    if settings.SESSION_ENGINE in (
        "django.contrib.sessions.backends.db",
        "django.contrib.sessions.backends.cached_db",
    ):
        from django.contrib.sessions.models import Session

        return set(
            Session.objects.filter(session_key__in=keys, expire_date__gt=timezone.now()).values_list(
                "session_key", flat=True
            )
        )
    store = import_module(settings.SESSION_ENGINE).SessionStore
    return {key for key in keys if store().exists(key)}


def _access_now(pairs: list[tuple[int, int]], session_keys: set[str]):
    return still_allowed(pairs), sessions_alive(session_keys)


async def recheck(sockets: Iterable[LiveSocket]) -> None:
    """Close sockets of users who lost access (one check per user and sitting), and of sessions
    that ended (signed out) without the hub hearing of it."""
    pairs: dict[tuple[int, int], list[LiveSocket]] = defaultdict(list)
    sessions: dict[str, list[LiveSocket]] = defaultdict(list)
    for sock in sockets:
        if sock.user_id is not None and not sock.public and not sock.closed:
            pairs[(sock.user_id, sock.sitting_id)].append(sock)
            key = sock.session_key
            if key:
                sessions[key].append(sock)
    if not pairs:
        return
    allowed, alive = await database_sync_to_async(_access_now)(list(pairs), set(sessions))
    for key, socks in sessions.items():
        if key not in alive:
            for sock in socks:
                sock.close_from_hub(CLOSE_SIGNED_OUT)
    for pair, socks in pairs.items():
        if not allowed.get(pair, False):
            for sock in socks:
                sock.close_from_hub(CLOSE_FORBIDDEN)
