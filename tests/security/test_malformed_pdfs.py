"""The hostile-PDF corpus against the documents ingestion API (``documents.services.document_create``).

Each file is refused with its reason within the time limit, leaves no process and no temporary
folder behind, stores nothing (no rows, no files, no audit entry), and the reading worker's memory
stays under its limit. Damage qpdf could repair (a looping xref, deep nesting, a bogus object
stream, a huge declared length, an appended archive) is refused too, with a sentence naming it.
The control set (``hostile_pdfs.CONTROLS``: incremental updates, padding, minor xref and length
errors, WeasyPrint and qpdf output) must still be accepted."""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

import psutil
import pytest

from bench.support import hostile_pdfs
from council.models import AuditEntry
from documents.errors import DocumentError
from documents.ingest import damage_message
from documents.models import Document, DocumentVersion
from documents.services import document_create

TIMEOUT_S = 30.0
MEMORY_MB = 512

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile-pdfs")
    files = {}
    builders = {name: build for name, (build, _reasons, _kind) in hostile_pdfs.CORPUS.items()}
    builders.update({f"control-{name}": build for name, build in hostile_pdfs.CONTROLS.items()})
    for name, build in builders.items():
        files[name] = folder / f"{name}.pdf"
        files[name].write_bytes(build())
    return files


class WorkerMemory(threading.Thread):
    """Samples the resident memory of this process's ingest worker tree while a file is read."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.peak_mb = 0.0
        self.me = psutil.Process()

    def run(self):
        while not self.stop.is_set():
            total = 0
            try:
                for child in self.me.children(recursive=False):
                    try:
                        # The ingest worker and its renderers only: a child that is still a fork of
                        # this test process before its exec shows this process's own memory.
                        if "documents.ingest_worker" not in child.cmdline():
                            continue
                        total += child.memory_info().rss
                        total += sum(p.memory_info().rss for p in child.children(recursive=True))
                    except psutil.Error:
                        continue
            except psutil.Error:
                pass
            self.peak_mb = max(self.peak_mb, total / 2**20)
            time.sleep(0.02)


def descendants() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


def media_files(root) -> list[Path]:
    root = Path(root)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
def ingest(org, settings, tmp_path, monkeypatch):
    settings.COUNCIL_INGEST_TIMEOUT_S = TIMEOUT_S
    settings.COUNCIL_INGEST_MEMORY_MB = MEMORY_MB
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))  # the worker's folders land here

    def run(path: Path):
        before = dict(
            docs=Document.objects.count(),
            versions=DocumentVersion.objects.count(),
            audit=AuditEntry.objects.count(),
            files=len(media_files(settings.MEDIA_ROOT)),
            children=descendants(),
        )
        sampler = WorkerMemory()
        sampler.start()
        started = time.monotonic()
        outcome: Document | DocumentError
        try:
            outcome = document_create(
                body=org["plenary"],
                title=f"議案 {path.stem}",
                path=path,
                original_name=path.name,
                actor=org["clerk"].user,
            )
        except DocumentError as exc:
            outcome = exc
        elapsed = time.monotonic() - started
        sampler.stop.set()
        sampler.join()
        leftover = descendants() - before["children"]
        alive = [
            pid
            for pid in leftover
            if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        ]
        assert not alive, f"processes left behind: {alive}"
        assert not list(private_tmp.iterdir()), "temporary folders left behind"
        assert elapsed < TIMEOUT_S + 5, f"took {elapsed:.1f}s"
        assert sampler.peak_mb < MEMORY_MB + 64, f"worker used {sampler.peak_mb:.0f} MB"
        return outcome, before, elapsed, sampler.peak_mb

    return run


def assert_nothing_stored(before, settings):
    assert Document.objects.count() == before["docs"]
    assert DocumentVersion.objects.count() == before["versions"]
    assert AuditEntry.objects.count() == before["audit"]
    assert len(media_files(settings.MEDIA_ROOT)) == before["files"]


@pytest.mark.parametrize("name", list(hostile_pdfs.CORPUS))
def test_malformed_pdf_is_refused(name, corpus, ingest, settings):
    _build, reasons, kind = hostile_pdfs.CORPUS[name]
    outcome, before, _elapsed, _peak = ingest(corpus[name])
    assert isinstance(outcome, DocumentError), f"{name} was accepted; expected {', '.join(sorted(reasons))}"
    assert outcome.reason in reasons, f"{name}: refused as {outcome.reason}, expected {reasons}"
    if kind:
        assert outcome.kind == kind, f"{name}: named {outcome.kind!r}, expected {kind!r} ({outcome.detail})"
        assert str(outcome) == damage_message(kind)
    assert str(outcome)  # a sentence for the clerk, in their language
    assert_nothing_stored(before, settings)


@pytest.mark.parametrize("name", list(hostile_pdfs.CONTROLS))
def test_malformed_corpus_control_file_is_accepted(name, corpus, ingest):
    """Files real software writes, minor damage qpdf fixes and padding included, must pass."""
    outcome, _before, _elapsed, peak_mb = ingest(corpus[f"control-{name}"])
    assert isinstance(outcome, Document), f"{name}: {outcome} ({getattr(outcome, 'detail', '')})"
    assert peak_mb > 10  # the memory sampler does see the worker
    two_pages = name in ("weasyprint", "object_streams_linearized")
    assert outcome.versions.get().page_count == (2 if two_pages else 1)


def test_malformed_refusal_messages_are_translated(corpus, ingest):
    from django.utils import translation

    with translation.override("ja"):
        outcome, _before, _elapsed, _peak = ingest(corpus["launch_action"])
    assert isinstance(outcome, DocumentError)
    assert "スクリプト" in str(outcome) or "許可" in str(outcome), str(outcome)


def test_malformed_damage_messages_are_translated(corpus, ingest):
    from django.utils import translation

    with translation.override("ja"):
        outcome, _before, _elapsed, _peak = ingest(corpus["looping_xref"])
    assert isinstance(outcome, DocumentError)
    assert "相互参照" in str(outcome) and "アップロード" in str(outcome), str(outcome)
