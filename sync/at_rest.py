"""Encryption at rest of what devices sent (inbox payloads), under the server's data key."""

from __future__ import annotations

import functools
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


class CannotDecrypt(Exception):
    """The ciphertext was altered, moved to another record, or the data key is wrong."""


@functools.lru_cache(maxsize=4)
def _cipher(data_key: bytes) -> AESGCM:
    """One cipher per data key (a push seals a few hundred payloads under the same key)."""
    return AESGCM(data_key)


def encrypt(data_key: bytes, plaintext: bytes, associated: bytes) -> bytes:
    """AES-256-GCM: ``nonce || ciphertext || tag``, bound to ``associated`` (the record id)."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + _cipher(data_key).encrypt(nonce, plaintext, associated)


def decrypt(data_key: bytes, sealed: bytes, associated: bytes) -> bytes:
    """Reverse ``encrypt``; raise ``CannotDecrypt`` rather than return garbage."""
    try:
        return _cipher(data_key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], associated)
    except (InvalidTag, ValueError) as exc:
        raise CannotDecrypt("stored payload does not decrypt") from exc
