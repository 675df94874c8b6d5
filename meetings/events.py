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


def encode(message: dict[str, Any]) -> str:
    """Serialize a message the way every live frame is serialized (compact UTF-8 JSON)."""
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder)


def publish(*, sitting_id: int, type: str, payload: dict, audience: str = "members") -> int:  # noqa: A002
    """Queue one live event for after the commit of the current transaction; return its seq.

    Must be called inside ``transaction.atomic``. The returned sequence number belongs to the
    audience's stream (``members``, ``public`` or ``clerks``).
    """
    from meetings.live.models import LiveState

    if audience not in AUDIENCES:
        raise ValueError(f"unknown audience {audience!r}")
    if not _TYPE_RE.match(type):
        raise ValueError(f"event type {type!r} must be dotted lower-case, e.g. 'session.page'")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("publish() must be called inside transaction.atomic")
    field = _SEQ_FIELD[audience]
    state, _created = LiveState.objects.select_for_update().get_or_create(sitting_id=sitting_id)
    seq = getattr(state, field) + 1
    LiveState.objects.filter(pk=state.pk).update(**{field: seq, "updated_at": timezone.now()})
    message = {"type": type, "stream": audience, "seq": seq, "sitting": int(sitting_id), "payload": payload}
    text = encode(message)
    group = group_name(sitting_id, audience)
    transaction.on_commit(lambda: send_frame(group=group, stream=audience, seq=seq, text=text))
    return seq


def send_frame(*, group: str, stream: str, seq: int, text: str) -> None:
    """Hand one pre-encoded frame to the channel layer (called after commit, from sync code)."""
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(
            group, {"type": "live.frame", "group": group, "stream": stream, "seq": seq, "text": text}
        )
    except Exception:  # the change is committed; followers resync on the next message or reconnect
        logger.exception("live: could not send %s seq %s to %s", stream, seq, group)
