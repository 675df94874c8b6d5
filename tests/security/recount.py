"""Recount every vote in the current database with the voting app's own recount, when it has one.

Used by the backup test against a restored copy; returns how many polls were recounted."""

from __future__ import annotations

import importlib


def recount_all() -> int:
    try:
        services = importlib.import_module("meetings.voting.services")
    except ModuleNotFoundError:
        return 0
    recount = getattr(services, "poll_recount", None) or getattr(services, "recount", None)
    if recount is None:
        return 0
    from meetings.voting.models import Poll

    n = 0
    for poll in Poll.objects.all():
        recount(poll=poll)
        n += 1
    return n
