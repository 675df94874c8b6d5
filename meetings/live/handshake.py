"""The database work of WebSocket handshakes: batched, shared, and on its own threads.

A restart under a full chamber brings every tablet back at once. Run one by one, each handshake's
queries (session, user, authorization, full state) would wait in asgiref's single thread-sensitive
worker, the very thread that serves votes and page turns. Instead:

* handshake work runs on its own small pool (``HANDSHAKE_THREADS`` threads, ``run``), never on the
  thread-sensitive worker;
* handshakes arriving together are served together (``Batcher``): each stage (sessions and users,
  authorization, state) takes every request waiting, drops those whose client has already left,
  and answers them all with one job, in bulk: one query for the sessions, one for the users, one
  authorization per distinct user and sitting, one state per audience and sequence number
  (``state.build_states``). Nothing is remembered between batches, so a sign-out or a lost role
  takes effect on the very next handshake.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import SyncToAsync
from channels.auth import AuthMiddleware, CookieMiddleware, SessionMiddleware

logger = logging.getLogger(__name__)

HANDSHAKE_THREADS = int(os.environ.get("COUNCIL_LIVE_HANDSHAKE_THREADS", "2"))
MAX_BATCH = 500

_executor: ThreadPoolExecutor | None = None


def executor() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=HANDSHAKE_THREADS, thread_name_prefix="live-handshake")
    return _executor


def _with_connections(func: Callable, *args: Any) -> Any:
    from django.db import close_old_connections

    close_old_connections()
    try:
        return func(*args)
    finally:
        close_old_connections()


async def run(func: Callable, *args: Any) -> Any:
    """Run ``func(*args)`` (sync, may query) on the handshake threads."""
    return await SyncToAsync(_with_connections, thread_sensitive=False, executor=executor())(func, *args)


def close_connections() -> None:
    """Close the handshake threads' database connections (tests, before the database is dropped)."""
    from django.db import connections

    if _executor is None:
        return
    for _ in range(HANDSHAKE_THREADS * 2):
        _executor.submit(connections.close_all).result(timeout=10)


class Batcher:
    """Answers ``get(key)`` for everyone waiting with one call of ``loader(keys) -> {key: value}``.

    Requests made while a batch runs go in the next one. A request whose ``alive()`` is False by
    the time its batch starts is dropped (answered with ``None``), so is a key whose every waiter
    was cancelled: nothing is loaded for clients that are gone. A missing key answers ``None``.
    """

    def __init__(self, name: str, loader: Callable[[list], dict]) -> None:
        self.name = name
        self.loader = loader
        self.loop: asyncio.AbstractEventLoop | None = None
        self.pending: dict[Hashable, list[tuple[asyncio.Future, Callable[[], bool] | None]]] = {}
        self.worker: asyncio.Task | None = None
        self.batches = 0
        self.loaded = 0
        self.skipped = 0

    async def get(self, key: Hashable, alive: Callable[[], bool] | None = None) -> Any:
        loop = asyncio.get_running_loop()
        if loop is not self.loop:  # a new event loop (tests): start afresh
            self.loop, self.pending, self.worker = loop, {}, None
        future = loop.create_future()
        self.pending.setdefault(key, []).append((future, alive))
        if self.worker is None or self.worker.done():
            self.worker = loop.create_task(self._work())
        return await future

    async def _work(self) -> None:
        while self.pending:
            await asyncio.sleep(0)  # let the handshakes of this turn of the loop join the batch
            taken = list(self.pending.items())[:MAX_BATCH]
            for key, _waiters in taken:
                del self.pending[key]
            try:
                await self._serve(taken)
            except Exception as exc:  # never leave a waiter hanging
                logger.exception("live: handshake stage %s failed for %d requests", self.name, len(taken))
                for _key, waiters in taken:
                    for future, _alive in waiters:
                        if not future.done():
                            future.set_exception(exc)

    async def _serve(self, taken: list) -> None:
        batch: dict[Hashable, list[asyncio.Future]] = {}
        for key, waiters in taken:
            live = []
            for future, alive in waiters:
                if future.done():
                    continue
                if alive is not None and not alive():
                    self.skipped += 1
                    future.set_result(None)
                    continue
                live.append(future)
            if live:
                batch[key] = live
        if not batch:
            return
        self.batches += 1
        self.loaded += len(batch)
        results = await run(self.loader, list(batch))
        for key, futures in batch.items():
            value = results.get(key)
            for future in futures:
                if not future.done():
                    future.set_result(value)

    def stats(self) -> dict[str, int]:
        return {
            "batches": self.batches,
            "loaded": self.loaded,
            "skipped": self.skipped,
            "waiting": len(self.pending),
        }


# --- who is connecting: sessions and users in bulk --------------------------------------------


def load_users(session_keys: list[str | None]) -> dict[str | None, tuple[Any, dict | None]]:
    """``{session key: (user or AnonymousUser, the session's data or None)}``, in bulk for the
    database session engines (one query for the sessions, one for the users), as
    ``channels.auth.get_user`` would answer each. (sync)"""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.auth.backends import ModelBackend
    from django.contrib.auth.models import AnonymousUser
    from django.utils import timezone
    from django.utils.crypto import constant_time_compare
    from django.utils.module_loading import import_string

    anonymous = AnonymousUser()
    keys = [k for k in session_keys if k]
    result: dict[str | None, tuple[Any, dict | None]] = {k: (anonymous, None) for k in session_keys}
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    if settings.SESSION_ENGINE in (
        "django.contrib.sessions.backends.db",
        "django.contrib.sessions.backends.cached_db",
    ):
        from django.contrib.sessions.models import Session

        rows = Session.objects.filter(session_key__in=keys, expire_date__gt=timezone.now()).values_list(
            "session_key", "session_data"
        )
        decoder = store_class()
        data = {key: decoder.decode(text) for key, text in rows}
    else:
        data = {key: store_class(key).load() for key in keys}
    wanted: dict[str, Any] = {}
    for key, values in data.items():
        backend = values.get(BACKEND_SESSION_KEY)
        if SESSION_KEY in values and backend in settings.AUTHENTICATION_BACKENDS:
            wanted[key] = (values[SESSION_KEY], backend)
    User = get_user_model()
    ids = {User._meta.pk.to_python(uid) for uid, _backend in wanted.values()}
    users = {u.pk: u for u in User.objects.filter(pk__in=ids).select_related("person")} if ids else {}
    fallbacks = list(getattr(settings, "SECRET_KEY_FALLBACKS", []))
    for key, (uid, backend_path) in wanted.items():
        backend = import_string(backend_path)()
        user = users.get(User._meta.pk.to_python(uid))
        if type(backend).get_user is not ModelBackend.get_user:  # a backend of its own: ask it
            user = backend.get_user(uid)
        elif user is not None and not backend.user_can_authenticate(user):
            user = None
        if user is None or not hasattr(user, "get_session_auth_hash"):
            continue
        sent = data[key].get(HASH_SESSION_KEY)
        verified = bool(sent) and (
            constant_time_compare(sent, user.get_session_auth_hash())
            or any(
                constant_time_compare(sent, user._get_session_auth_hash(secret=secret))
                for secret in fallbacks
            )
        )
        if verified:
            result[key] = (user, data[key])
    for key in keys:
        if key in data and result[key][1] is None:
            result[key] = (anonymous, data[key])
    return result


users = Batcher("users", load_users)


class BatchedAuthMiddleware(AuthMiddleware):
    """channels' ``AuthMiddleware``, resolving the user in bulk on the handshake threads."""

    async def resolve_scope(self, scope):
        from meetings.live.admission import ticket_of

        session = scope["session"]
        key = session.session_key
        ticket = ticket_of(scope)
        found = await users.get(key, ticket.alive if ticket is not None else None)
        if found is None:  # the client left before its turn: nobody to authenticate
            from django.contrib.auth.models import AnonymousUser

            scope["user"]._wrapped = AnonymousUser()
            return
        user, data = found
        if data is not None:  # the session is loaded: no query when it is read later
            session._session_cache = dict(data)
        scope["user"]._wrapped = user


def BatchedAuthMiddlewareStack(inner):
    return CookieMiddleware(SessionMiddleware(BatchedAuthMiddleware(inner)))


# --- may they connect, and what they see ------------------------------------------------------


def _grants(requests: list) -> dict:
    from meetings.live.access import authorize

    return authorize(requests)


def _states(requests: list) -> dict:
    from meetings.live.state import build_states

    return build_states(requests)


grants = Batcher("access", _grants)
states = Batcher("state", _states)
