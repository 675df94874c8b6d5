"""Who is connected to a sitting (for the clerk console), written in batches.

Each process keeps its connection changes for a second and writes them in one transaction, then
tells the sittings' consoles (``presence.changed`` on the clerks' stream), so a hundred tablets
connecting at once cost the database one write, not a hundred. The hub refreshes its rows every
housekeeping round; rows of a process that died expire after an hour.
"""

from __future__ import annotations

import asyncio
import datetime
import logging

from channels.db import database_sync_to_async

logger = logging.getLogger(__name__)

FLUSH_SECONDS = 1.0


class PresenceWriter:
    """One process's pending connection changes, keyed by connection key."""

    def __init__(self, server_id: str) -> None:
        self.server_id = server_id
        self._dirty: set[int] = set()
        self._ops: dict[str, dict] = {}
        self.task: asyncio.Task | None = None

    def opened(self, *, key: str, sitting_id: int, user_id: int) -> None:
        self._ops[key] = {
            "op": "open",
            "sitting": sitting_id,
            "user": user_id,
            "following": True,
            "page": None,
        }
        self.changed(sitting_id)

    def followed(self, *, key: str, sitting_id: int, following: bool, page: int | None) -> None:
        op = self._ops.get(key)
        if op is not None and op["op"] == "open":
            op.update(following=following, page=page)
        else:
            self._ops[key] = {"op": "update", "sitting": sitting_id, "following": following, "page": page}
        self.changed(sitting_id)

    def closed(self, *, key: str, sitting_id: int) -> None:
        op = self._ops.get(key)
        if op is not None and op["op"] == "open":
            del self._ops[key]  # opened and closed within one batch: nothing to write
        else:
            self._ops[key] = {"op": "close", "sitting": sitting_id}
        self.changed(sitting_id)

    def changed(self, sitting_id: int) -> None:
        """Tell clerk consoles (debounced, once a second per process) that presence changed."""
        self._dirty.add(sitting_id)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self, delay: float = FLUSH_SECONDS) -> None:
        while True:
            await asyncio.sleep(delay)
            dirty, self._dirty = self._dirty, set()
            ops, self._ops = self._ops, {}
            try:
                await database_sync_to_async(write_presence)(self.server_id, ops, sorted(dirty))
            except Exception:
                logger.exception("live hub: presence for sittings %s", sorted(dirty))
            if not self._dirty:  # changes made while writing go in the next batch
                return

    async def flush_now(self) -> None:
        """Write pending presence at once (tests, shutdown)."""
        if self.task is not None and not self.task.done():
            self.task.cancel()
        await self._flush(delay=0)

    async def refresh(self) -> None:
        """Mark this process's rows as alive and drop rows nobody refreshed for an hour."""
        await database_sync_to_async(refresh_presence)(self.server_id)

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()


def write_presence(server_id: str, ops: dict[str, dict], sittings: list[int]) -> None:
    """Apply a batch of connection changes and tell each sitting's console, in one transaction."""
    from django.db import transaction
    from django.utils import timezone

    from meetings.events import live_language, publish
    from meetings.live import selectors
    from meetings.live.models import LiveConnection

    now = timezone.now()
    with transaction.atomic():
        opened = [
            LiveConnection(
                sitting_id=op["sitting"],
                user_id=op["user"],
                server=server_id,
                key=key,
                following=op["following"],
                page=op["page"],
                connected_at=now,
                seen_at=now,
            )
            for key, op in ops.items()
            if op["op"] == "open"
        ]
        if opened:
            LiveConnection.objects.bulk_create(opened, ignore_conflicts=True)
        closed = [key for key, op in ops.items() if op["op"] == "close"]
        if closed:
            LiveConnection.objects.filter(key__in=closed).delete()
        for key, op in ops.items():
            if op["op"] == "update":
                LiveConnection.objects.filter(key=key).update(
                    following=op["following"], page=op["page"], seen_at=now
                )
        for sitting_id in sittings:
            with live_language():
                connections = selectors.connections(sitting_id=sitting_id)
            publish(
                sitting_id=sitting_id,
                type="presence.changed",
                audience="clerks",
                payload={"connections": connections},
            )


def refresh_presence(server_id: str) -> None:
    from django.utils import timezone

    from meetings.live.models import LiveConnection

    now = timezone.now()
    LiveConnection.objects.filter(server=server_id).update(seen_at=now)
    LiveConnection.objects.filter(seen_at__lt=now - datetime.timedelta(hours=1)).delete()
