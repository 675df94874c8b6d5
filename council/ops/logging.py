"""Structured logs: one JSON line per request (access) and per error, naming the request and the user.

nginx gives every request an id (``X-Request-ID: $request_id``) and logs it too, so one request can
be followed from nginx's log through daphne's. A line names the user by id, never by name, and
holds the path without its query string; request bodies (a ballot, a password) are never logged.
"""

from __future__ import annotations

import contextvars
import json
import logging
import time
import uuid

access_logger = logging.getLogger("council.access")
request_context: contextvars.ContextVar[dict | None] = contextvars.ContextVar("council_request", default=None)


def _request_id(request) -> str:
    given = request.META.get("HTTP_X_REQUEST_ID", "")
    if given and len(given) <= 64 and given.replace("-", "").isalnum():
        return given
    return uuid.uuid4().hex


class AccessLogMiddleware:
    """Logs each request once it is answered: id, method, path, status, time, user id, client."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.monotonic()
        context = {"request_id": _request_id(request), "client": request.META.get("REMOTE_ADDR")}
        request.request_id = context["request_id"]
        token = request_context.set(context)
        try:
            response = self.get_response(request)
        finally:
            request_context.reset(token)
        user = getattr(request, "user", None)
        access_logger.info(
            "request",
            extra={
                "request_id": context["request_id"],
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
                "user_id": user.pk if user is not None and user.is_authenticated else None,
                "client": context["client"],
            },
        )
        response["X-Request-ID"] = context["request_id"]
        return response


FIELDS = ("request_id", "method", "path", "status", "duration_ms", "user_id", "client")


class JsonFormatter(logging.Formatter):
    """One JSON object per line; a record about a request (django.request) names its id and user."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "at": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        request = getattr(record, "request", None)
        if request is not None and not isinstance(request, str):
            line.setdefault("request_id", getattr(request, "request_id", None))
            line.setdefault("method", getattr(request, "method", None))
            line.setdefault("path", getattr(request, "path", None))
            user = getattr(request, "user", None)
            line.setdefault(
                "user_id", user.pk if user is not None and getattr(user, "is_authenticated", False) else None
            )
        context = request_context.get()
        if context:
            for key, value in context.items():
                line.setdefault(key, value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)
