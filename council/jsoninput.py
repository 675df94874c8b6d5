"""JSON bodies of HTTP endpoints, validated the way the WebSocket messages are
(``meetings.live.protocol``): one JSON Schema (Draft 2020-12, ``jsonschema``) per endpoint,
checked before the view runs, and one refusal for what does not fit.

    @json_input({"properties": {"page": {"type": "integer"}}, "required": ["page"]})
    def api_bookmark(request, body): ...

A body that is not JSON, not an object, holds a lone surrogate (which no database can store) or
breaks the schema gets ``400 {"code": "malformed"|"invalid", "error": <translated>}`` and the view
does not run. Field rules the schema cannot say (a page within the document) stay in the service.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator

from council.errors import DomainError, refusal_response


class BadInput(DomainError):
    """The request body is not the JSON the endpoint takes; nothing was done."""

    default_code = "invalid"


def validator(schema: dict) -> Draft202012Validator:
    """The validator of an object schema (``type: object`` unless the schema says otherwise)."""
    full = {"type": "object", **schema}
    Draft202012Validator.check_schema(full)
    return Draft202012Validator(full)


def parse(raw: bytes, checker: Draft202012Validator) -> dict[str, Any]:
    """The request's JSON object, or ``BadInput``."""
    try:
        value = json.loads(raw.decode("utf-8") or "{}")
        json.dumps(value, ensure_ascii=False).encode("utf-8")  # a lone surrogate has no UTF-8 form
    except (ValueError, UnicodeError, RecursionError):
        raise BadInput(_("The request is not valid JSON."), code="malformed") from None
    error = next(iter(sorted(checker.iter_errors(value), key=lambda e: list(e.absolute_path))), None)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or _("request")
        raise BadInput(_("The request is not valid (%(where)s).") % {"where": where})
    return value


def json_input(schema: dict):
    """Decorate a view that takes a JSON object: the view gets it as ``body``."""
    checker = validator(schema)

    def decorate(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            try:
                body = parse(request.body, checker)
            except BadInput as exc:
                return refusal_response(exc)
            return view(request, *args, body=body, **kwargs)

        return wrapped

    return decorate
