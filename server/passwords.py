"""Password hashing with scrypt (pyca/cryptography); parameters travel with each hash."""

from __future__ import annotations

import base64
import functools
import secrets

from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

# OWASP's minimum for scrypt: N=2^17 is stronger but costs ~0.5 s a login on small hosts.
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
LENGTH = 32


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, n: int = SCRYPT_N) -> str:
    """Return ``scrypt$N$r$p$salt$key`` for storage (a lower ``n`` is for test fixtures)."""
    salt = secrets.token_bytes(16)
    key = Scrypt(salt=salt, length=LENGTH, n=n, r=SCRYPT_R, p=SCRYPT_P).derive(
        password.encode()
    )
    return f"scrypt${n}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches ``stored``; False for any malformed hash."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        kdf = Scrypt(salt=_unb64(salt), length=LENGTH, n=int(n), r=int(r), p=int(p))
        kdf.verify(password.encode(), _unb64(key))
    except (ValueError, InvalidKey):
        return False
    return True


@functools.cache
def dummy_hash() -> str:
    """A hash to verify against when the account does not exist, so timing reveals nothing."""
    return hash_password(secrets.token_urlsafe(16))
