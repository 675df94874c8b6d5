"""Inbound WebSocket messages: a JSON schema and a small handler per message type.

Other areas register their types (``vote.cast``, ``floor.request`` …) from their ``AppConfig.ready``::

    register_handler("vote.cast", schema={...}, handler=handle_vote_cast)

The consumer validates each message against the schema of its type (unknown types, oversized or
malformed messages are refused with an error and change nothing), then runs
``handler(*, user, sitting_id, message) -> dict | None`` in a worker thread. A returned dict is sent
back to the sender only (with ``re`` set to the message's ``id`` when it had one); a refusal is
raised as ``meetings.live.errors.Refused`` (or any ``ValidationError``) with a translated message.
Live changes for everyone go through ``meetings.events.publish`` inside the handler's service.

A type may also register ``batch_handler(*, sitting_id, calls) -> list``: messages of that type
for one sitting that arrive while an earlier batch is being handled are then handled together,
in arrival order, in one call (``calls`` is a list of ``(user, message)``; the answer holds, for
each, what ``handler`` would return, or the ``ValidationError`` it would raise). Sixty ballots
cast at the same moment become one or two transactions instead of sixty in a row.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

MAX_MESSAGE_BYTES = 8 * 1024

Handler = Callable[..., "dict | None"]
BatchHandler = Callable[..., "list[dict | None | Exception]"]

# Every message may carry a client-chosen ``id`` echoed back as ``re`` in the reply.
_ID_SCHEMA = {"type": ["string", "integer"], "maxLength": 64}


@dataclass(frozen=True)
class Registered:
    type: str
    validator: Draft202012Validator
    handler: Handler | None
    public: bool = False
    batch_handler: BatchHandler | None = None


_registry: dict[str, Registered] = {}


def _full_schema(type_: str, schema: dict) -> dict:
    full = dict(schema)
    full.setdefault("type", "object")
    props = dict(full.get("properties", {}))
    props["type"] = {"const": type_}
    props.setdefault("id", _ID_SCHEMA)
    full["properties"] = props
    full["required"] = sorted(set(full.get("required", [])) | {"type"})
    full.setdefault("additionalProperties", False)
    return full


def register_handler(  # noqa: A002
    type: str, *, schema: dict, handler: Handler | None, public: bool = False,  # noqa: A002
    batch_handler: BatchHandler | None = None,
) -> None:
    """Register an inbound message type with its JSON schema (an object schema of its fields).

    ``type`` and an optional ``id`` are added to the schema; unless the schema says otherwise, no
    other fields are allowed. ``public=True`` also accepts the type on the public (傍聴) endpoint.
    ``batch_handler`` handles messages of the type that arrive together (see the module's notes).
    """
    full = _full_schema(type, schema)
    try:
        Draft202012Validator.check_schema(full)
    except SchemaError as exc:
        raise ValueError(f"invalid schema for {type!r}: {exc.message}") from exc
    _registry[type] = Registered(type=type, validator=Draft202012Validator(full), handler=handler, public=public,
                                 batch_handler=batch_handler)


def registered(type_: str) -> Registered | None:
    return _registry.get(type_)


class Invalid(Exception):
    """An inbound message that is refused before any handler runs."""

    def __init__(self, code: str, message: str, msg_id: Any = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.msg_id = msg_id


def parse(text: str | None, *, public: bool = False) -> tuple[Registered, dict]:
    """Decode and validate one inbound text frame; raise ``Invalid`` with a translated message."""
    if text is None:
        raise Invalid("malformed", _("Only text messages are accepted."))
    if len(text) > MAX_MESSAGE_BYTES or len(text.encode("utf-8")) > MAX_MESSAGE_BYTES:
        raise Invalid("too_large", _("The message is too large."))
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: brackets nested deeper than the parser goes
        raise Invalid("malformed", _("The message is not valid JSON.")) from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise Invalid("malformed", _("The message has no type."))
    msg_id = message.get("id") if isinstance(message.get("id"), (str, int)) else None
    entry = _registry.get(message["type"])
    if entry is None or (public and not entry.public):
        raise Invalid("unknown_type", _("Unknown message type."), msg_id)
    error = next(iter(sorted(entry.validator.iter_errors(message), key=lambda e: e.path)), None)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "message"
        raise Invalid("invalid", _("The message is not valid (%(where)s).") % {"where": where}, msg_id)
    return entry, message
