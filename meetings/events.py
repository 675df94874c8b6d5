"""The single choke point for live events: every live message leaves the server through ``publish``.

``publish`` runs inside the caller's transaction. It locks the sitting's ``LiveState`` row, takes
the next sequence number of the audience's stream, serializes the message once, and registers an
``on_commit`` hook that hands the pre-encoded text to the channel layer as ONE group message per
sitting and audience. Each server process receives that message once and writes the same bytes to
all of its local sockets (``meetings.live.fanout``). Nothing is sent if the transaction rolls back.

Audiences (one stream and one counter each, so every audience detects its own gaps):

* ``members`` – signed-in participants of the sitting (members, clerks, officials);
* ``public``  – the public view (傍聴); only public-safe payloads may be published here;
* ``clerks``  – the clerk console only (presence, tallies-in-progress …).

See ``docs/protocol.md`` for the message format.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

AUDIENCES = ("members", "public", "clerks")
_SEQ_FIELD = {"members": "seq", "public": "public_seq", "clerks": "clerk_seq"}
_TYPE_RE = re.compile(r"^[a-z][a-z_]*(\.[a-z][a-z_]*)+$")


def group_name(sitting_id: int, audience: str) -> str:
    """The channel-layer group of one sitting's audience stream (one subscriber per process)."""
    return f"live.s{int(sitting_id)}.{audience}"


class LiveJSONEncoder(DjangoJSONEncoder):
    """Times in the sitting's zone (the council's ``TIME_ZONE``, e.g. ``+09:00``), to the second."""

    def default(self, o):
        if isinstance(o, datetime.datetime) and timezone.is_aware(o):
            return local_iso(o)
        return super().default(o)


def local_iso(value: datetime.datetime | None) -> str | None:
    """An aware time as the protocol sends it: ``2026-11-27T10:00:03+09:00``."""
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def live_language():
    """The language of every live payload, states and events alike: the council's own
    (``LANGUAGE_CODE``). An event is serialized once for a whole audience, so its labels
    (``status_label``, ``method_label``, the quorum's ``reason`` …) cannot follow each reader's
    language; the state uses the same, so that a state plus events equals a fresh state. Replies and
    errors, sent to one socket, are in that user's language."""
    from django.conf import settings
    from django.utils import translation

    return translation.override(settings.LANGUAGE_CODE)


def encode(message: dict[str, Any]) -> str:
    """Serialize a message the way every live frame is serialized (compact UTF-8 JSON)."""
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"), cls=LiveJSONEncoder)


def publish(*, sitting_id: int, type: str, payload: dict, audience: str = "members") -> int:  # noqa: A002
    """Queue one live event for after the commit of the current transaction; return its seq.

    Must be called inside ``transaction.atomic``. The returned sequence number belongs to the
    audience's stream (``members``, ``public`` or ``clerks``).
    """
    return publish_many(sitting_id=sitting_id, events=[(type, payload, audience)])[0]


def publish_many(*, sitting_id: int, events: list[tuple[str, dict, str]]) -> list[int]:
    """Publish several events of one sitting (``(type, payload, audience)`` each) in one round trip.

    An event may carry a fourth element, the payload for the audience's followers who may not open
    closed-session papers (the same event with the presentation blanked): same seq, other text.

    The counters are bumped with one ``UPDATE`` (which row-locks the sitting's live state until
    the transaction ends, so concurrent publishers get consecutive numbers in commit order) and
    read back with one ``SELECT``.
    """
    from django.db.models import F

    from meetings.live.models import LiveState

    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("publish() must be called inside transaction.atomic")
    bumps: dict[str, int] = {}
    for type_, _payload, audience, *_narrow in events:
        if audience not in AUDIENCES:
            raise ValueError(f"unknown audience {audience!r}")
        if not _TYPE_RE.match(type_):
            raise ValueError(f"event type {type_!r} must be dotted lower-case, e.g. 'session.page'")
        field = _SEQ_FIELD[audience]
        bumps[field] = bumps.get(field, 0) + 1
    changes = {field: F(field) + n for field, n in bumps.items()}
    if not LiveState.objects.filter(sitting_id=sitting_id).update(**changes, updated_at=timezone.now()):
        LiveState.objects.get_or_create(sitting_id=sitting_id)
        LiveState.objects.filter(sitting_id=sitting_id).update(**changes, updated_at=timezone.now())
    counters = dict(
        zip(bumps, LiveState.objects.filter(sitting_id=sitting_id).values_list(*bumps).get(), strict=True)
    )
    # Number the events in order: the first of a stream gets (new counter - count + 1).
    next_seq = {field: counters[field] - bumps[field] + 1 for field in bumps}
    seqs = []
    for type_, payload, audience, *narrow in events:
        field = _SEQ_FIELD[audience]
        seq = next_seq[field]
        next_seq[field] += 1
        message = {
            "type": type_,
            "stream": audience,
            "seq": seq,
            "sitting": int(sitting_id),
            "payload": payload,
        }
        text = encode(message)
        narrow_text = encode({**message, "payload": narrow[0]}) if narrow else None
        group = group_name(sitting_id, audience)
        extra = {"narrow": narrow_text} if narrow_text is not None else {}
        transaction.on_commit(
            lambda g=group, a=audience, q=seq, t=text, x=extra: send_frame(
                group=g, stream=a, seq=q, text=t, **x
            )
        )
        seqs.append(seq)
    return seqs


def send_frame(*, group: str, stream: str, seq: int, text: str, narrow: str | None = None) -> None:
    """Hand one pre-encoded frame to the channel layer (called after commit, from sync code).

    ``narrow`` is the same event for the stream's followers who may not open closed-session papers
    (executive officials on the members' stream): the hub sends it to them instead."""
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(
            group,
            {
                "type": "live.frame",
                "group": group,
                "stream": stream,
                "seq": seq,
                "text": text,
                **({"narrow": narrow} if narrow is not None else {}),
            },
        )
    except Exception:  # the change is committed; followers resync on the next message or reconnect
        logger.exception("live: could not send %s seq %s to %s", stream, seq, group)
