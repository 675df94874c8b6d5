"""Key files the platform signs with, kept outside the database (like ``SECRET_KEY``):

- the audit checkpoint key (Ed25519, ``COUNCIL_AUDIT_KEY_FILE``; ``council.checkpoints``);
- the council's document-signing key and certificate (``COUNCIL_SIGNING_KEY_FILE``,
  ``COUNCIL_SIGNING_CERT_FILE``), with which signed minutes get a PAdES signature. A council
  with a certificate from a CA (e.g. LGPKI) points the settings at it; otherwise
  ``manage.py make_keys`` makes a self-signed one, and demo mode makes one on first use.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings


class KeyFileMissing(RuntimeError):
    """A key file named by the settings is absent (in production it is never made silently)."""


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def generate_signing_certificate(
    *, key_path: Path, cert_path: Path, organisation: str, years: int = 10
) -> None:
    """A self-signed ECDSA P-256 certificate for the council's document signatures."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{organisation} 会議録署名"),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    _write_private(
        key_path,
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )
    cert_path.parent.mkdir(parents=True, exist_ok=True)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def signing_files(*, organisation: str = "") -> tuple[Path, Path]:
    """(key, certificate) for document signatures; made in demo mode when absent."""
    key_path = Path(settings.COUNCIL_SIGNING_KEY_FILE)
    cert_path = Path(settings.COUNCIL_SIGNING_CERT_FILE)
    if not (key_path.exists() and cert_path.exists()):
        if settings.PRODUCTION:
            raise KeyFileMissing(
                f"the document-signing key or certificate is missing ({key_path}, {cert_path}); "
                "run manage.py make_keys or set COUNCIL_SIGNING_KEY_FILE and COUNCIL_SIGNING_CERT_FILE"
            )
        if not key_path.exists():
            try:
                generate_signing_certificate(
                    key_path=key_path, cert_path=cert_path, organisation=organisation or "議会"
                )
            except FileExistsError:  # another process made it first
                pass
    return key_path, cert_path
