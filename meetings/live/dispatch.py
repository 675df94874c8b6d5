"""Running the handlers of inbound messages, off the event loop, and the answer each sender gets.

``handle(entry, message, ...)`` runs a registered handler (``meetings.live.protocol``) in a
worker thread and returns the reply for the sender: the handler's answer, an ``ack`` when the
message had an ``id``, or a translated ``error``. Permission to follow the sitting is checked again
for every message with a freshly read user (``REVOKED`` tells the consumer to close the socket).

Group commit: for a type with a ``batch_handler`` (``vote.cast``), the messages of one sitting that
arrive while a batch runs wait, in order, and form the next batch, handled in one call and one
transaction. The first message is never held back for others, so a lone ballot is as fast as ever.
"""

from __future__ import annotations

import asyncio
import logging
import weakref

from channels.db import database_sync_to_async
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _

from meetings.live.protocol import Registered

logger = logging.getLogger(__name__)

REVOKED = object()  # the sender may no longer follow the sitting: close its socket


async def handle(entry: Registered, message: dict, *, sitting_id: int, user_id: int | None, lang: str):
    """The reply to one message (a dict, None for no reply, or ``REVOKED``)."""
    if entry.batch_handler is not None:
        return await batches_here().submit(entry, message, sitting_id=sitting_id, user_id=user_id, lang=lang)
    return (
        await database_sync_to_async(run_calls)(
            entry, sitting_id=sitting_id, lang=lang, calls=[(user_id, message)]
        )
    )[0]


def reply_for(message: dict, result) -> dict | None:
    """What the sender gets: the handler's answer, an ``ack`` when it asked with an ``id``, or the
    refusal's translated message."""
    kind, msg_id = message["type"], message.get("id")
    re = {"re": msg_id} if msg_id is not None else {}
    if isinstance(result, ValidationError):
        text = str(result.messages[0]) if result.messages else _("The request was refused.")
        field = getattr(result, "field", None)  # an ``invalid`` refusal names its field
        return {
            "type": "error",
            "code": getattr(result, "code", None) or "refused",
            "message": text,
            "for": kind,
            **({"field": field} if field else {}),
            **re,
        }
    if isinstance(result, Exception):
        return {
            "type": "error",
            "code": "server",
            "message": _("Something went wrong; nothing was changed."),
            "for": kind,
            **re,
        }
    if result is None:
        return {"type": "ack", "for": kind, **re} if re else None
    reply = dict(result)
    reply.setdefault("type", "reply")
    reply.setdefault("for", kind)
    reply.update(re)
    return reply


def _unavailable(message: dict) -> dict:
    msg_id = message.get("id")
    return {
        "type": "error",
        "code": "unavailable",
        "for": message.get("type"),
        "message": _("The server could not reach its database; nothing was changed. Please try again."),
        **({"re": msg_id} if msg_id is not None else {}),
    }


def run_calls(entry: Registered, *, sitting_id: int, lang: str, calls: list[tuple[int | None, dict]]) -> list:
    """Run inbound messages of one type and sitting in a worker thread; one answer for each.

    With a batch handler the allowed messages are handled in one call; otherwise one by one. A
    database that went away for a moment (restart, failover) gets "try again" and keeps the
    socket: the transaction rolled back, so nothing changed, and a retry with the same token
    counts once.
    """
    from django.contrib.auth import get_user_model
    from django.db import DatabaseError, close_old_connections

    from meetings.live.permissions import can_follow
    from meetings.models import Sitting

    with translation.override(lang):
        try:
            users = (
                get_user_model()
                .objects.select_related("person")
                .filter(is_active=True)
                .in_bulk({user_id for user_id, _message in calls if user_id is not None})
            )
            sitting = Sitting.objects.select_related("body").filter(pk=sitting_id).first()
            answers: list = [None] * len(calls)
            allowed: list[tuple[int, object, dict]] = []
            for index, (user_id, message) in enumerate(calls):
                user = users.get(user_id)
                if user is None or sitting is None or not can_follow(user, sitting):
                    answers[index] = REVOKED
                else:
                    allowed.append((index, user, message))
            if entry.batch_handler is not None and allowed:
                try:
                    results = entry.batch_handler(
                        sitting_id=sitting_id, calls=[(user, message) for _i, user, message in allowed]
                    )
                except DatabaseError:
                    raise
                except Exception as exc:
                    logger.exception("live: batch handler for %s failed", entry.type)
                    results = [exc] * len(allowed)
                for (index, _user, message), result in zip(allowed, results, strict=True):
                    answers[index] = reply_for(message, result)
                return answers
            for index, user, message in allowed:
                try:
                    result = entry.handler(user=user, sitting_id=sitting_id, message=message)
                except ValidationError as exc:
                    result = exc
                except DatabaseError:
                    raise
                except Exception as exc:
                    logger.exception("live: handler for %s failed", message["type"])
                    result = exc
                answers[index] = reply_for(message, result)
            return answers
        except DatabaseError:
            logger.warning("live: database unavailable while handling %s", entry.type)
            close_old_connections()
            return [_unavailable(message) for _user_id, message in calls]


class Batches:
    """Group commit per sitting, type and language (see the module's notes)."""

    def __init__(self) -> None:
        self.waiting: dict[tuple, list[tuple[int | None, dict, asyncio.Future]]] = {}
        self.running: set[tuple] = set()
        self.sizes: list[int] = []  # batch sizes handled so far (tests, diagnostics; last 100)

    async def submit(
        self, entry: Registered, message: dict, *, sitting_id: int, user_id: int | None, lang: str
    ):
        key = (entry.type, sitting_id, lang)
        future = asyncio.get_running_loop().create_future()
        self.waiting.setdefault(key, []).append((user_id, message, future))
        if key not in self.running:
            self.running.add(key)
            asyncio.get_running_loop().create_task(self._drain(key, entry))
        return await future

    async def _drain(self, key: tuple, entry: Registered) -> None:
        _type, sitting_id, lang = key
        try:
            while self.waiting.get(key):
                items = self.waiting.pop(key)
                self.sizes = [*self.sizes[-99:], len(items)]
                try:
                    answers = await database_sync_to_async(run_calls)(
                        entry,
                        sitting_id=sitting_id,
                        lang=lang,
                        calls=[(user_id, message) for user_id, message, _f in items],
                    )
                except BaseException as exc:  # noqa: BLE001 - every waiter must hear of it
                    for _u, _m, future in items:
                        if not future.done():
                            future.set_exception(exc)
                    if isinstance(exc, asyncio.CancelledError):
                        raise
                    continue
                for (_u, _m, future), answer in zip(items, answers, strict=True):
                    if not future.done():
                        future.set_result(answer)
        finally:
            self.running.discard(key)
            for _u, _m, future in self.waiting.pop(key, []):  # only when cancelled (shutdown)
                if not future.done():
                    future.cancel()


_batches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Batches] = weakref.WeakKeyDictionary()


def batches_here() -> Batches:
    """The batches of this event loop (one per process under daphne; one per test in the tests)."""
    loop = asyncio.get_running_loop()
    batches = _batches.get(loop)
    if batches is None:
        batches = _batches[loop] = Batches()
    return batches
