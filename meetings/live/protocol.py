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

from council.jsontext import valid_unicode

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
    type: str,
    *,
    schema: dict,
    handler: Handler | None,
    public: bool = False,  # noqa: A002
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
    _registry[type] = Registered(
        type=type,
        validator=Draft202012Validator(full),
        handler=handler,
        public=public,
        batch_handler=batch_handler,
    )


def registered(type_: str) -> Registered | None:
    return _registry.get(type_)


def registered_types() -> list[str]:
    """Every inbound type registered so far (the tests hold each to the protocol's contract)."""
    return sorted(_registry)


class Invalid(Exception):
    """An inbound message that is refused before any handler runs.

    ``msg_id`` is the message's ``id`` (echoed as ``re``), ``for_type`` its ``type`` (sent as
    ``for``) and ``field`` the offending field of an ``invalid`` message, each when known.
    """

    def __init__(
        self,
        code: str,
        message: str,
        msg_id: Any = None,
        *,
        for_type: str | None = None,
        field: str | None = None,
    ):
        super().__init__(message)
        self.code = code
        self.message = message
        self.msg_id = msg_id
        self.for_type = for_type
        self.field = field

    def as_error(self) -> dict:
        """The ``error`` message that answers the refused one."""
        error: dict[str, Any] = {"type": "error", "code": self.code, "message": self.message}
        if self.for_type is not None:
            error["for"] = self.for_type
        if self.field is not None:
            error["field"] = self.field
        if self.msg_id is not None:
            error["re"] = self.msg_id
        return error


# An oversized message is still read (up to this size) for its ``type`` and ``id``, so the error
# can say what it answers; anything larger is refused unread.
MAX_READ_FOR_ID = 8 * MAX_MESSAGE_BYTES


def _valid_id(value: Any) -> Any:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and abs(value) <= 2**53:
        return value
    if isinstance(value, str) and len(value) <= 64 and _encodable(value):
        return value
    return None


def _encodable(text: str) -> bool:
    return valid_unicode(text)


def _identify(text: str) -> tuple[Any, str | None]:
    """The ``id`` and ``type`` of an oversized message, when it is small enough to read at all."""
    if len(text) > MAX_READ_FOR_ID:
        return None, None
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):
        return None, None
    if not isinstance(message, dict):
        return None, None
    kind = message.get("type")
    kind = kind if isinstance(kind, str) and len(kind) <= 64 and _encodable(kind) else None
    return _valid_id(message.get("id")), kind


def _field_of(error) -> str:
    """The name (a path for nested fields) of the field a schema error is about."""
    path = [str(p) for p in error.absolute_path]
    instance = error.instance if isinstance(error.instance, dict) else {}
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in instance]
        path.append(missing[0] if missing else "")
    elif error.validator == "additionalProperties":
        known = set((error.schema or {}).get("properties", {}))
        extra = sorted(name for name in instance if name not in known)
        path.append(extra[0] if extra else "")
    return "/".join(p for p in path if p) or "message"


def parse(text: str | None, *, public: bool = False) -> tuple[Registered, dict]:
    """Decode and validate one inbound text frame; raise ``Invalid`` with a translated message."""
    if text is None:
        raise Invalid("malformed", _("Only text messages are accepted."))
    try:
        size = len(text.encode("utf-8")) if len(text) <= MAX_MESSAGE_BYTES else len(text)
    except UnicodeEncodeError:  # a raw lone surrogate: only an in-process client can send one
        raise Invalid("malformed", _("The message holds text that is not valid Unicode.")) from None
    if size > MAX_MESSAGE_BYTES:
        msg_id, kind = _identify(text)
        raise Invalid("too_large", _("The message is too large."), msg_id, for_type=kind)
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: brackets nested deeper than the parser goes
        raise Invalid("malformed", _("The message is not valid JSON.")) from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise Invalid("malformed", _("The message has no type."))
    if "\\" in text and not valid_unicode(message):  # "\ud800": a string with no UTF-8 form
        raise Invalid("malformed", _("The message holds text that is not valid Unicode."))
    msg_id = _valid_id(message.get("id"))
    kind = message["type"]
    entry = _registry.get(kind)
    if entry is None or (public and not entry.public):
        raise Invalid("unknown_type", _("Unknown message type."), msg_id, for_type=kind[:64])
    error = next(
        iter(sorted(entry.validator.iter_errors(message), key=lambda e: list(map(str, e.path)))), None
    )
    if error is not None:
        field = _field_of(error)
        raise Invalid(
            "invalid",
            _("The message is not valid (%(where)s).") % {"where": field},
            msg_id,
            for_type=kind,
            field=field,
        )
    return entry, message
