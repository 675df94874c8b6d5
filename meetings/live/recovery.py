"""Keeping a hub's channel-layer subscriptions alive across a Redis restart.

Redis keeps no data across a restart, so the hub's group subscriptions vanish with it, and events
published meanwhile never arrive. ``LayerRecovery`` notices either way: the hub's receive fails (it
then backs off and retries), or the hub's own heartbeat, sent through the layer to a group only it
joins, does not come back. It then joins every group again and asks every local socket to resync
(a fresh full state), a few at a time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from meetings.live import access
from meetings.live.sockets import LiveSocket

if TYPE_CHECKING:
    from meetings.live.fanout import Hub

logger = logging.getLogger(__name__)

RETRY_FIRST, RETRY_MAX = 0.1, 2.0  # backoff while the channel layer is unreachable (seconds)
DROP_POOLS_EVERY = 5  # failed restores in a row before the layer's pooled connections are dropped
# The hub's heartbeat through the layer: it catches subscriptions lost without a receive error
# (a Redis restart hidden by redis-py's reconnect-and-retry, a flush, an eviction).
WATCH_SECONDS = 5.0
WATCH_TIMEOUT = 5.0
RESYNC_CONCURRENCY = 32


class LayerRecovery:
    """The hub's receive loop, its heartbeat through the layer, and the restore after a loss."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.watch_group = f"live.hub.{hub.server_id}"
        self.restores = 0  # times the subscriptions were restored (tests, diagnostics)
        self.receive_failing = False
        self.watch_sent = 0
        self.watch_seen = 0
        self._watch_back: asyncio.Event | None = None
        self._restore_lock = asyncio.Lock()
        self.resync_task: asyncio.Task | None = None
        self._resync_wanted = False

    # receiving -------------------------------------------------------------------------------
    async def receive_loop(self) -> None:
        hub = self.hub
        backoff = RETRY_FIRST
        failures = 0
        while True:
            hub.stop_if_cancelled()
            try:
                message = await self._receive_one()
                backoff, failures = RETRY_FIRST, 0  # only now: a receive that keeps failing backs off
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # e.g. Redis restarting
                hub.stop_if_cancelled()
                if not self.receive_failing:
                    logger.warning("live hub: receive failed (%s); restoring subscriptions", brief(exc))
                self.receive_failing = True
                # Whatever Redis held may be gone (groups, queued events): join again and resync
                # every socket once it answers, backing off while it does not.
                while True:
                    hub.stop_if_cancelled()
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, RETRY_MAX)
                    try:
                        await self.restore(f"receive failed: {brief(exc)}")
                    except asyncio.CancelledError:
                        raise
                    except Exception as again:
                        hub.stop_if_cancelled()
                        failures += 1
                        logger.warning(
                            "live hub: channel layer still unreachable (%s); next try in %.1fs",
                            brief(again),
                            backoff,
                        )
                        if failures % DROP_POOLS_EVERY == 0:
                            await self._drop_pools()
                        continue
                    break
                self.receive_failing = False
                continue
            try:
                hub.dispatch(message)
            except Exception:
                logger.exception("live hub: could not dispatch %r", message.get("type"))

    async def _receive_one(self) -> dict:
        """``layer.receive`` in a task of its own, so that cancelling the hub always ends it.

        redis-py sends each command under ``asyncio.wait_for``, which on Python 3.11 swallows a
        cancellation that arrives just as the send completes; channels_redis then keeps repeating
        its blocking read (BZPOPMIN) until a message comes, and shutdown would wait for ever.
        """
        hub = self.hub
        receiving = hub.loop.create_task(hub.layer.receive(hub.channel))
        try:
            return await asyncio.shield(receiving)
        except asyncio.CancelledError:
            cancel_until_done(receiving)
            raise

    async def _drop_pools(self) -> None:
        """Drop the layer's pooled connections, so the next try starts from fresh ones."""
        close_pools = getattr(self.hub.layer, "close_pools", None)
        if close_pools is None:
            return
        try:
            async with asyncio.timeout(5):
                await close_pools()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.hub.stop_if_cancelled()
            logger.warning("live hub: could not drop the channel layer's connections (%s)", brief(exc))

    # the heartbeat ---------------------------------------------------------------------------
    def heard(self, nonce: int) -> None:
        """The hub received its own heartbeat ``nonce``."""
        self.watch_seen = max(self.watch_seen, nonce)
        if self._watch_back is not None and self.watch_seen >= self.watch_sent:
            self._watch_back.set()

    async def watch_loop(self) -> None:
        """Send a heartbeat through the layer to ourselves; when it does not come back, restore."""
        hub = self.hub
        while True:
            hub.stop_if_cancelled()
            await asyncio.sleep(WATCH_SECONDS)
            if self.receive_failing:
                continue  # the receive loop is restoring already
            self.watch_sent += 1
            nonce, restores = self.watch_sent, self.restores
            self._watch_back = asyncio.Event()
            try:
                await hub.layer.group_send(self.watch_group, {"type": "live.watch", "nonce": nonce})
                async with asyncio.timeout(WATCH_TIMEOUT):
                    await self._watch_back.wait()
                continue
            except asyncio.CancelledError:
                raise
            except TimeoutError:
                if self.watch_seen >= nonce:
                    continue
                why = f"own heartbeat not back within {WATCH_TIMEOUT:g}s"
            except Exception as exc:
                hub.stop_if_cancelled()
                # Unreachable: the next heartbeat that gets through shows whether the groups survived.
                logger.warning("live hub: heartbeat not sent (%s)", brief(exc))
                continue
            if self.receive_failing or self.restores != restores:
                continue  # restored meanwhile (the heartbeat may have been lost on the way)
            try:
                await self.restore(why)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                hub.stop_if_cancelled()
                logger.warning(
                    "live hub: could not restore subscriptions (%s); trying again soon", brief(exc)
                )

    # restoring -------------------------------------------------------------------------------
    async def restore(self, why: str) -> None:
        """Join every group again (Redis keeps none across a restart), then send every local socket
        a fresh state: the events published while the subscriptions were gone never arrive.

        Raises when the layer is still unreachable; the caller retries.
        """
        async with self._restore_lock:
            groups = await self.hub.rejoin_all()
            self.restores += 1
        logger.warning(
            "live hub: rejoined %d groups (%s); sending a fresh state to every socket", len(groups), why
        )
        self.resync_all()

    def resync_all(self) -> None:
        """Send every local socket a fresh full state (in the background, a few at a time)."""
        self._resync_wanted = True
        if self.resync_task is None or self.resync_task.done():
            self.resync_task = self.hub.loop.create_task(self._resync_loop())
            self.hub.keep_task(self.resync_task)

    async def _resync_loop(self) -> None:
        hub = self.hub
        limit = asyncio.Semaphore(RESYNC_CONCURRENCY)

        async def one(sock: LiveSocket) -> bool:
            async with limit:
                return await _resync_socket(sock)

        # Never cancelled half-way by a newer restore (a socket would keep holding its events):
        # a restore meanwhile asks for one more round instead.
        while self._resync_wanted:
            self._resync_wanted = False
            # Sign-outs and lost access announced while the layer was down never arrived.
            try:
                await access.recheck(hub.all_sockets())
            except asyncio.CancelledError:
                raise
            except Exception:
                hub.stop_if_cancelled()
                logger.exception("live hub: access recheck after a restore failed")
            started = time.monotonic()
            socks = list(hub.all_sockets())
            sent = sum(await asyncio.gather(*(one(sock) for sock in socks)))
            logger.warning(
                "live hub: fresh state sent to %d of %d sockets in %.1fs",
                sent,
                len(socks),
                time.monotonic() - started,
            )


async def _resync_socket(sock: LiveSocket) -> bool:
    if sock.closed:
        return False
    try:
        return await sock.resync()
    except asyncio.CancelledError:
        raise
    except Exception:
        logger.warning("live hub: could not send a fresh state to a socket", exc_info=True)
        return False


def cancel_until_done(task: asyncio.Task, tries: int = 100) -> None:
    """Cancel a task, and again every 0.1 s (up to ``tries`` times) while a library swallows it."""
    if task.done():
        return
    if tries == 100:
        task.add_done_callback(lambda t: t.cancelled() or t.exception())  # nobody awaits it now
    task.cancel()
    if tries > 1:
        task.get_loop().call_later(0.1, cancel_until_done, task, tries - 1)


def brief(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:200]
