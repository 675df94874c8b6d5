"""Signed minutes carry a real PDF signature (PAdES, pyHanko) that a reader outside the
platform can check, and the signed audit checkpoint of the sign-off is printed in them."""

from __future__ import annotations

import io

import pypdf
import pytest
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from council.models import AuditCheckpoint
from meetings.minutes import services
from tests.shared_data import built_once, fresh_copy

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def _signed_once(django_db_setup, django_db_blocker, tmp_path_factory):
    """Signed once for the module (tests/shared_data.py): drafting, rendering and three signatures
    cost seconds, and every test here only reads the result."""
    from django.test import TestCase, override_settings
    from django.utils import translation

    from tests import factories
    from tests.minutes.conftest import build_recorded_sitting

    folder = tmp_path_factory.mktemp("signed")
    with (
        built_once(django_db_blocker, folder),
        translation.override("en"),
        override_settings(
            MINUTES_JOBS_INLINE=True,
            COUNCIL_SIGNING_KEY_FILE=folder / "keys" / "signing-key.pem",
            COUNCIL_SIGNING_CERT_FILE=folder / "keys" / "signing-cert.pem",
        ),
    ):
        recorded = build_recorded_sitting(factories.make_small_council())
        clerk_user = recorded["clerk"].user
        draft = services.draft_generate(sitting=recorded["sitting"], actor=clerk_user)
        members = recorded["members"]
        services.signers_nominate(minutes=draft, people=[members[4], members[5]], actor=clerk_user)
        services.minutes_submit(minutes=draft, actor=clerk_user)
        with TestCase.captureOnCommitCallbacks(execute=True):
            for person in (members[0], members[4], members[5]):
                services.minutes_sign(minutes=draft, user=person.user)
        draft.refresh_from_db()
        yield dict(recorded=recorded, signed=(draft, draft.pdf.read(), folder / "keys" / "signing-cert.pem"))


@pytest.fixture
def recorded(db, _signed_once):
    return fresh_copy(_signed_once["recorded"])


@pytest.fixture
def signed_pdf(db, _signed_once):
    return fresh_copy(_signed_once["signed"])


def _validate(data: bytes, cert_file):
    vc = ValidationContext(trust_roots=[load_cert_from_pemder(str(cert_file))])
    reader = PdfFileReader(io.BytesIO(data))
    assert len(reader.embedded_signatures) == 1
    return reader.embedded_signatures[0], validate_pdf_signature(reader.embedded_signatures[0], vc)


def test_signed_minutes_pdf_has_a_pades_signature_that_verifies(signed_pdf, recorded):
    minutes, data, cert = signed_pdf
    embedded, status = _validate(data, cert)
    assert status.intact and status.valid and status.trusted and status.bottom_line
    assert embedded.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    reason = str(embedded.sig_object["/Reason"])
    # names the chair and the signing members
    for i in (0, 4, 5):
        assert recorded["members"][i].full_name in reason
    assert reason.startswith("地方自治法第123条第2項")


def test_signed_minutes_pdf_signature_fails_after_one_changed_byte(signed_pdf):
    _minutes, data, cert = signed_pdf
    changed = bytearray(data)
    changed[len(data) // 3] ^= 0x01
    try:
        _embedded, status = _validate(bytes(changed), cert)
    except Exception:  # an unreadable file is a failed check too
        return
    assert not status.intact and not status.bottom_line


def test_signed_minutes_stay_pdf_a_and_print_the_signed_audit_checkpoint(signed_pdf):
    minutes, data, _cert = signed_pdf
    reader = pypdf.PdfReader(io.BytesIO(data))
    xmp = reader.xmp_metadata
    assert xmp is not None and "pdfaid" in (
        reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    )
    checkpoint = AuditCheckpoint.objects.get(pk=minutes.audit_checkpoint_id)
    assert checkpoint.reason == "minutes.signed"
    text = "".join(page.extract_text() for page in reader.pages).replace("\n", "")
    assert f"第{checkpoint.seq}号" in text
    assert checkpoint.head_hash[:16] in text


def test_signing_works_while_an_event_loop_runs_in_the_thread(signed_pdf, monkeypatch):
    """Playwright's sync API (browser tests) keeps an event loop marked running in the thread
    that seeds the demo and signs minutes; pyHanko's own asyncio.run would fail there."""
    import threading

    from meetings.minutes import pdfsign

    minutes, data, _cert = signed_pdf
    caller = threading.get_ident()
    threads = []
    real_run = pdfsign.asyncio.run

    def run(coroutine):
        threads.append(threading.get_ident())
        return real_run(coroutine)

    monkeypatch.setattr(pdfsign, "_loop_running", lambda: True)
    monkeypatch.setattr(pdfsign.asyncio, "run", run)
    import weasyprint

    plain = weasyprint.HTML(string="<p>会議録</p>").write_pdf()
    signed = pdfsign.sign_minutes_pdf(data=plain, minutes=minutes)
    assert threads and threads[0] != caller  # signed in a thread of its own
    assert len(PdfFileReader(io.BytesIO(signed)).embedded_signatures) == 1
