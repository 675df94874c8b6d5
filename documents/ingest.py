"""Reads an uploaded PDF safely: in a separate process, with a wall-clock timeout and a memory limit.

``read_pdf(path)`` runs ``python -m documents.ingest_worker`` on the file, in a fresh process
group limited by ``RLIMIT_AS`` (``settings.COUNCIL_INGEST_MEMORY_MB``) and killed, children
included, after ``settings.COUNCIL_INGEST_TIMEOUT_S``. It returns an ``IngestResult`` whose
files live in a temporary folder the caller must ``cleanup()``, or raises ``IngestRefused`` with
a reason code and a message in the user's language.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from documents.errors import DocumentError
from documents.ingest_damage import MAX_NESTING

ROOT = Path(__file__).resolve().parent.parent


class IngestRefused(DocumentError):
    """The file was refused; ``message`` says why in the user's language, ``reason`` is a code
    and ``kind`` names the damage found, when there is a more precise word for it."""

    def __init__(self, reason: str, message: str, detail: str = "", kind: str = "") -> None:
        super().__init__(message, reason=reason)
        self.detail = detail
        self.kind = kind


def refusal_message(reason: str) -> str:
    messages = {
        "not_pdf": _("This file is not a PDF."),
        "damaged": _("This PDF is damaged and cannot be read."),
        "encrypted": _("This PDF is password-protected. Save it without a password and upload it again."),
        "active_content": _("This PDF contains scripts or other active content, which are not allowed."),
        "embedded_file": _("This PDF contains embedded files, which are not allowed."),
        "timeout": _("This PDF took too long to read (more than %(seconds)s seconds).")
        % {"seconds": f"{settings.COUNCIL_INGEST_TIMEOUT_S:g}"},
        "memory": _("This PDF needs too much memory to read."),
        "too_large": _("This file is larger than the limit of %(limit)s.")
        % {"limit": filesizeformat(settings.COUNCIL_UPLOAD_MAX_BYTES)},
    }
    return messages.get(reason, messages["damaged"])


def damage_message(kind: str) -> str | None:
    """What was wrong with a file that a reader could have repaired (``documents.ingest_damage``)."""
    messages = {
        "xref_loop": _(
            "The file's cross-reference table is damaged (it loops); save or export the PDF again and re-upload."
        ),
        "nesting": _(
            "The file contains data nested more than %(limit)s levels deep; "
            "save or export the PDF again and re-upload."
        )
        % {"limit": MAX_NESTING},
        "object_stream": _(
            "An object stream in the file declares an impossible number of objects or start position; "
            "save or export the PDF again and re-upload."
        ),
        "stream_length": _(
            "A stream in the file declares a length larger than the whole file; "
            "save or export the PDF again and re-upload."
        ),
        "unreadable_object": _(
            "Part of the file cannot be read; save or export the PDF again and re-upload."
        ),
        "appended_file": _(
            "Another file (such as a ZIP archive or a web page) is attached after the end of the PDF; "
            "save or export the PDF again and re-upload."
        ),
        "trailing_data": _(
            "The file has unexpected data after the end of the PDF; save or export the PDF again and re-upload."
        ),
    }
    return messages.get(kind)


def refuse(reason: str, detail: str = "", kind: str = "") -> IngestRefused:
    message = damage_message(kind) or refusal_message(reason)
    return IngestRefused(reason, message, detail, kind)


@dataclass
class IngestResult:
    workdir: Path
    page_count: int
    pages: list[dict]
    original_sha256: str
    served_sha256: str
    served_size: int
    seconds: float
    peak_rss_mb: float
    extra: dict = field(default_factory=dict)

    @property
    def served_path(self) -> Path:
        return self.workdir / "served.pdf"

    def thumbnail_path(self, page: dict) -> Path:
        return self.workdir / page["thumbnail"]

    def cleanup(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)


def read_pdf(
    path: str | os.PathLike, *, timeout: float | None = None, memory_mb: int | None = None
) -> IngestResult:
    """Checks and reads the PDF at ``path`` in a limited worker process."""
    timeout = settings.COUNCIL_INGEST_TIMEOUT_S if timeout is None else timeout
    memory_mb = settings.COUNCIL_INGEST_MEMORY_MB if memory_mb is None else memory_mb
    workdir = Path(tempfile.mkdtemp(prefix="council-ingest-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "DATABASE", "REDIS", "SECRET"))}
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "documents.ingest_worker", os.fspath(path), str(workdir), str(memory_mb)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        # Its own session, so the timeout kills the renderer children too. The worker applies the
        # memory limit to itself first thing (preexec_fn is unsafe in a threaded server).
        start_new_session=True,
    )
    try:
        try:
            _, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise refuse("timeout") from None
        seconds = time.monotonic() - started
        result_file = workdir / "result.json"
        if not result_file.exists():
            text = stderr.decode("utf-8", "replace")
            if "MemoryError" in text or "std::bad_alloc" in text or proc.returncode in (-signal.SIGKILL,):
                raise refuse("memory", text[-500:])
            raise refuse("damaged", text[-500:])
        result = json.loads(result_file.read_text(encoding="utf-8"))
        if not result["ok"]:
            raise refuse(result["reason"], result.get("detail", ""), result.get("kind", ""))
        return IngestResult(
            workdir=workdir,
            page_count=result["page_count"],
            pages=result["pages"],
            original_sha256=result["original_sha256"],
            served_sha256=result["served_sha256"],
            served_size=result["served_size"],
            seconds=seconds,
            peak_rss_mb=result["peak_rss_mb"],
            extra={
                "timings": result.get("timings", {}),
                "peak_total_rss_mb": result.get("peak_total_rss_mb"),
            },
        )
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
