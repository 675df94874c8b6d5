"""Quorum (定足数, §113) as a pure function: no database, no request (``docs/procedure.md#quorum``)."""

from __future__ import annotations


def quorum_met(*, quorum: int, present: int, excluded: int = 0) -> tuple[bool, bool]:
    """(met, by_proviso). Excluded members restore quorum only as the §113 proviso allows."""
    if present >= quorum:
        return True, False
    if present + excluded >= quorum:
        return True, True
    return False, False
