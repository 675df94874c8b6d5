"""The signed minutes' PDF gets a real PDF signature (PAdES B-B, pyHanko), so anyone can check
it in an ordinary PDF reader, outside the platform (§123: the electronic equivalent of the
chair's and the signing members' signatures).

The signature is made with the council's key and certificate (``council.keys``); its reason
names the chair and the signing members, in the order of the signature block. It is an
incremental update, so the PDF/A-3b document underneath is unchanged byte for byte.
"""

from __future__ import annotations

import asyncio
import io
from concurrent.futures import ThreadPoolExecutor

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

from council import keys
from meetings.minutes.models import Minutes


def signature_reason(minutes: Minutes) -> str:
    rows = []
    for signature in minutes.signatures.select_related("person").order_by("signed_at"):
        title = "議長" if signature.role == "chair" else "署名議員"
        rows.append(f"{title} {signature.person.full_name if signature.person else ''}".strip())
    return "地方自治法第123条第2項による署名: " + "、".join(rows)


def sign_minutes_pdf(*, data: bytes, minutes: Minutes) -> bytes:
    """Return ``data`` with the council's PAdES signature appended."""
    council_name = minutes.sitting.body.council.name
    key_path, cert_path = keys.signing_files(organisation=council_name)
    signer = signers.SimpleSigner.load(str(key_path), str(cert_path))
    chair = minutes.signatures.filter(role="chair").select_related("person").first()
    meta = signers.PdfSignatureMetadata(
        field_name="CouncilSignature",
        reason=signature_reason(minutes),
        location=council_name,
        name=(chair.person.full_name if chair and chair.person else council_name),
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
    )

    async def sign() -> bytes:
        writer = IncrementalPdfFileWriter(io.BytesIO(data))
        return (await signers.async_sign_pdf(writer, meta, signer=signer)).getvalue()

    return _run(sign)


def _run(make_coroutine):
    """pyHanko signs asynchronously. Run it to completion whether or not this thread already
    has an event loop running (a job started from async code, a browser test's loop)."""
    if not _loop_running():
        return asyncio.run(make_coroutine())
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make_coroutine())).result()


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
