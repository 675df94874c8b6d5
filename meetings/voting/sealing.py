"""Sealed secret ballots (無記名投票): a choice nobody can link to its voter, the operator included.

While a secret poll is open its choices are sealed to a key that exists only in memory:

- ``poll_open`` makes an X25519 key pair for the poll. The public half is stored on the poll;
  the private half is held by the ``KeyStore``: the server process's memory on the embedded
  default (one process), or Redis when ``REDIS_URL`` is set (several processes share it; Redis
  keeps nothing on disk in the shipped configuration and the key expires). It is never written
  to the database, a log, an event or a backup.
- each ballot is sealed (ECIES: an ephemeral X25519 key, HKDF-SHA256, AES-256-GCM) and stored as
  a ``SealedBallot`` row holding nothing but the poll and the ciphertext: no voter, no token,
  no time. The participation row (who voted) is written beside it; the plaintexts are padded to
  one length, so ciphertexts of "yes" and "no" look alike. No running count exists anywhere.
- ``poll_close`` opens every sealed ballot in memory, shuffles and counts them, writes only the
  totals, deletes the sealed rows and destroys the key. What remains on disk (row versions,
  WAL, backups) is ciphertext under a key that no longer exists.
- if the key is gone (every process restarted on the embedded default, Redis restarted), the
  ballot cannot be opened: the poll is voided and the chair puts the question again, as with a
  disrupted paper ballot.

Threat model and tests: docs/security.md, ``pytest -k secret_ballot``.
"""

from __future__ import annotations

import os
import secrets
import threading
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

PLAINTEXT_LENGTH = 8
KEY_TTL_SECONDS = 2 * 24 * 3600


class KeyLost(Exception):
    """The poll's private key is no longer held anywhere: the ballot cannot be opened."""


class BallotUnreadable(Exception):
    """A sealed ballot does not open with the poll's key (tampered or foreign)."""


def _raw_public(key: X25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _raw_private(key: X25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def _derive(shared: bytes, poll_id: int) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=b"gikai secret ballot v1 poll " + str(poll_id).encode(),
    ).derive(shared)


def _pad(choice: str) -> bytes:
    raw = choice.encode()
    if len(raw) >= PLAINTEXT_LENGTH:
        raise ValueError("choice too long to seal")
    return raw + b"\x00" * (PLAINTEXT_LENGTH - len(raw))


def seal(*, public_key: bytes, poll_id: int, choice: str) -> bytes:
    """Seal one choice to the poll's public key: ephemeral public key ‖ nonce ‖ ciphertext."""
    ephemeral = X25519PrivateKey.generate()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(public_key))
    nonce = os.urandom(12)
    ciphertext = AESGCM(_derive(shared, poll_id)).encrypt(nonce, _pad(choice), str(poll_id).encode())
    return _raw_public(ephemeral.public_key()) + nonce + ciphertext


def unseal(*, private_key: bytes, poll_id: int, sealed: bytes) -> str:
    key = X25519PrivateKey.from_private_bytes(private_key)
    ephemeral, nonce, ciphertext = sealed[:32], sealed[32:44], sealed[44:]
    try:
        shared = key.exchange(X25519PublicKey.from_public_bytes(ephemeral))
        plain = AESGCM(_derive(shared, poll_id)).decrypt(nonce, ciphertext, str(poll_id).encode())
    except (InvalidTag, ValueError) as exc:
        raise BallotUnreadable(str(exc)) from exc
    return plain.rstrip(b"\x00").decode()


# -- where the private keys live ------------------------------------------------------------


class MemoryKeyStore:
    """This process's memory: right for the embedded default, where one process serves all."""

    def __init__(self) -> None:
        self._keys: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def put(self, name: str, key: bytes) -> None:
        with self._lock:
            self._keys[name] = key

    def get(self, name: str) -> bytes | None:
        with self._lock:
            return self._keys.get(name)

    def destroy(self, name: str) -> None:
        with self._lock:
            self._keys.pop(name, None)

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()


class RedisKeyStore:
    """Redis, shared by the server processes (the channel layer's server); expires on its own."""

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url)

    def put(self, name: str, key: bytes) -> None:
        self._redis.set(f"gikai:ballot-key:{name}", key, ex=KEY_TTL_SECONDS)

    def get(self, name: str) -> bytes | None:
        return self._redis.get(f"gikai:ballot-key:{name}")

    def destroy(self, name: str) -> None:
        self._redis.delete(f"gikai:ballot-key:{name}")

    def clear(self) -> None:  # tests: "every process restarted"
        for name in self._redis.scan_iter("gikai:ballot-key:*"):
            self._redis.delete(name)


_store: MemoryKeyStore | RedisKeyStore | None = None
_store_url: str | None = None


def key_store() -> MemoryKeyStore | RedisKeyStore:
    global _store, _store_url
    url = getattr(settings, "REDIS_URL", "") or ""
    if _store is None or _store_url != url:
        _store = RedisKeyStore(url) if url else MemoryKeyStore()
        _store_url = url
    return _store


@dataclass(frozen=True)
class PollKey:
    public_key: bytes
    name: str  # where the private half is kept (random: nothing in the database derives it)


def new_poll_key() -> PollKey:
    private = X25519PrivateKey.generate()
    name = secrets.token_hex(16)
    key_store().put(name, _raw_private(private))
    return PollKey(public_key=_raw_public(private.public_key()), name=name)


def open_and_count(
    *, key_name: str, poll_id: int, sealed: list[bytes], choices: tuple[str, ...]
) -> dict[str, int]:
    """Open every ballot in memory, shuffle, count. Raises ``KeyLost`` when the key is gone and
    ``BallotUnreadable`` when a ballot does not open or holds no valid choice."""
    private = key_store().get(key_name)
    if private is None:
        raise KeyLost(key_name)
    opened = [unseal(private_key=private, poll_id=poll_id, sealed=bytes(s)) for s in sealed]
    secrets.SystemRandom().shuffle(opened)
    counts = {c: 0 for c in choices}
    for choice in opened:
        if choice not in counts:
            raise BallotUnreadable("a sealed ballot holds no valid choice")
        counts[choice] += 1
    del opened
    return counts


def destroy_key(key_name: str) -> None:
    key_store().destroy(key_name)
