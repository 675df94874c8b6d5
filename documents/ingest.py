"""Reads an uploaded PDF safely: in a separate process, with a wall-clock timeout and a memory limit.

``read_pdf(path)`` runs ``python -m documents.ingest_worker`` on the file, in a fresh process
group limited by ``RLIMIT_AS`` (``settings.COUNCIL_INGEST_MEMORY_MB``) and killed, children
included, after ``settings.COUNCIL_INGEST_TIMEOUT_S``. It returns an ``IngestResult`` whose
files live in a temporary folder the caller must ``cleanup()``, or raises ``IngestRefused`` with
a reason code and a message in the user's language.
"""

from __future__ import annotations

import json
import logging
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
logger = logging.getLogger("documents.ingest")


class IngestRefused(DocumentError):
    """The file was refused; ``message`` says why in the user's language, ``reason`` is a code
    and ``kind`` names the damage found, when there is a more precise word for it."""

    def __init__(self, reason: str, message: str, detail: str = "", kind: str = "") -> None:
        super().__init__(message, reason=reason)
        self.detail = detail
        self.kind = kind


# Reasons the worker names; any other code from it is shown as "damaged".


def refusal_message(reason: str) -> str:
    messages = {
        "not_pdf": _("This file is not a PDF. Save the document as a PDF and upload that file."),
        "damaged": _("This PDF is damaged and cannot be read. Save or export the PDF again and re-upload."),
        "encrypted": _("This PDF needs a password to open. Save it again without a password and re-upload."),
        "active_content": _(
            "This PDF contains scripts or actions that start other programs, which are not allowed. "
            "Export the PDF again without them (for example by printing it to PDF) and re-upload."
        ),
        "embedded_file": _(
            "This PDF contains attached files, which are not allowed. "
            "Remove the attachments, save the PDF again and re-upload."
        ),
        "remote_link": _(
            "This PDF contains links to other files or to places on a computer or network drive "
            "(not web addresses), which are not allowed. Remove those links, save the PDF again and re-upload."
        ),
        "timeout": _("This PDF took too long to read (more than %(seconds)s seconds).")
        % {"seconds": f"{settings.COUNCIL_INGEST_TIMEOUT_S:g}"},
        "memory": _(
            "This PDF needs too much memory to read (an image or page far too large). "
            "Export it again at a lower resolution and re-upload."
        ),
        "too_large": _("This file is larger than the limit of %(limit)s.")
        % {"limit": filesizeformat(settings.COUNCIL_UPLOAD_MAX_BYTES)},
    }
    return messages.get(reason, messages["damaged"])


def damage_message(kind: str, params: dict | None = None) -> str | None:
    """What was wrong with the file, more precisely than its reason: damage a reader could have
    repaired (``documents.ingest_damage``), and the stage of the check that failed."""
    params = params or {}
    page = params.get("page")
    if kind == "page_content" and isinstance(page, int):
        return _(
            "The content of page %(page)s cannot be decoded (its data is damaged or in a form no reader "
            "can draw); save or export the PDF again and re-upload."
        ) % {"page": page}
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
        "leading_format": _(
            "The file starts with another kind of file (such as a web page or an archive) before the PDF; "
            "save or export the PDF again and re-upload."
        ),
        "no_pages": _("This PDF has no pages."),
        "page_tree": _(
            "The list of pages in the file is damaged; save or export the PDF again and re-upload."
        ),
        "image": _(
            "An image in the file declares an impossible size; save or export the PDF again and re-upload."
        ),
        "write": _(
            "A copy of the file for reading could not be made; save or export the PDF again and re-upload."
        ),
        "render": _("The pages of the file could not be drawn; save or export the PDF again and re-upload."),
        "unexpected": _(
            "This PDF could not be checked because of an error in the checker. "
            "The administrator can find the details in the log; try saving or exporting the PDF again."
        ),
        "worker_failed": _(
            "This PDF could not be checked because the checking process stopped. "
            "The administrator can find the details in the log; try saving or exporting the PDF again."
        ),
    }
    return messages.get(kind)


def refuse(reason: str, detail: str = "", kind: str = "", params: dict | None = None) -> IngestRefused:
    if kind == "password":
        kind = ""  # the reason's sentence says it all
    message = damage_message(kind, params) or refusal_message(reason)
    return IngestRefused(reason, message, detail, kind)


def change_message(change: dict) -> str:
    """One sentence for something the platform changed in the served copy of an accepted file
    (``DocumentVersion.ingest_changes``, written by the ingest worker)."""
    code = change.get("code")
    if code == "restrictions_removed":
        return _(
            "The file's editing and printing restrictions (%(encryption)s encryption without an opening "
            "password) were removed from the copy members read."
        ) % {"encryption": change.get("encryption", "?")}
    if code == "leading_bytes_removed":
        return _(
            "%(bytes)s bytes before the start of the PDF (such as a byte-order mark or a printer banner) "
            "were removed from the copy members read."
        ) % {"bytes": change.get("bytes", "?")}
    if code == "open_action_removed":
        action = str(change.get("action", "?"))
        named = {
            "Named Print": _("opening the print dialog"),
            "Named FirstPage": _("going to the first page"),
            "Named LastPage": _("going to the last page"),
            "Named NextPage": _("going to the next page"),
            "Named PrevPage": _("going to the previous page"),
        }
        if action in named:
            action = f"{named[action]}: {action}"
        return _(
            "An action the file ran when opened (%(action)s) was removed from the copy members read."
        ) % {"action": action}
    if code == "document_actions_removed":
        return _("Actions the file ran on its own (when printed, saved or closed) were removed.")
    if code == "page_actions_removed":
        return _("Actions run when a page is opened were removed (pages %(pages)s).") % {
            "pages": ", ".join(str(n) for n in change.get("pages", []))
        }
    if code == "placeholder_thumbnails":
        return _(
            "The thumbnail of pages %(pages)s could not be drawn and shows a placeholder; "
            "check those pages in the reader."
        ) % {"pages": ", ".join(str(n) for n in change.get("pages", []))}
    return _("The file was changed for reading (%(code)s).") % {"code": code}


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
    # What was changed in the served copy ({"code": ...}; documents.ingest.change_message).
    changes: list[dict] = field(default_factory=list)

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
        text = stderr.decode("utf-8", "replace")
        if not result_file.exists():
            if "MemoryError" in text or "std::bad_alloc" in text or proc.returncode in (-signal.SIGKILL,):
                raise refuse("memory", text[-500:])
            logger.error(
                "The PDF checking worker exited with %s for %s without a result:\n%s",
                proc.returncode,
                os.fspath(path),
                text[-8000:],
            )
            raise refuse("damaged", text[-500:], "worker_failed")
        if proc.returncode != 0:
            logger.error("The PDF checking worker exited with %s:\n%s", proc.returncode, text[-8000:])
        result = json.loads(result_file.read_text(encoding="utf-8"))
        if not result["ok"]:
            if result.get("kind") == "unexpected":
                logger.error(
                    "The PDF checking worker failed on %s:\n%s", os.fspath(path), result.get("detail", "")
                )
            raise refuse(
                result["reason"], result.get("detail", ""), result.get("kind", ""), result.get("params")
            )
        return IngestResult(
            workdir=workdir,
            changes=result.get("changes", []),
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
                "cpu_seconds": result.get("cpu_seconds"),
            },
        )
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
