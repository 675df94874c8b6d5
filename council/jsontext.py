"""JSON from clients, held to valid Unicode.

JSON may spell a lone UTF-16 surrogate (``"\\ud800"``), which ``json.loads`` turns into a Python
string that has no UTF-8 form: it can be neither stored (PostgreSQL refuses it) nor sent back
(encoding fails). Every endpoint that reads JSON from a client refuses such input as malformed,
through here, instead of failing later with a server error.
"""

from __future__ import annotations

import json
from typing import Any


def valid_unicode(value: Any) -> bool:
    """True when every string in ``value`` (keys included, at any depth) encodes as UTF-8."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def loads(text: str | bytes) -> Any:
    """``json.loads`` that also refuses lone surrogates (``ValueError``; ``RecursionError`` when
    nested deeper than the parser goes)."""
    value = json.loads(text)
    if (b"\\" in text if isinstance(text, bytes) else "\\" in text) and not valid_unicode(value):
        raise ValueError("the JSON text holds a lone surrogate (not valid Unicode)")
    return value
