"""At-rest cryptography of the device store: the PIN-wrapped data key and sealed records.

A random 32-byte data key encrypts every record with AES-256-GCM. The data key itself is
stored only wrapped (AES-256-GCM) under a key derived from the nurse's PIN with scrypt, so
changing the PIN rewraps 32 bytes instead of re-encrypting the store, and destroying the
wrapped key destroys every record at once.

A PIN is a small secret: anyone holding a copy of the file can try every 6-digit PIN
offline at scrypt's cost. Mobile clients must additionally wrap the data key with a
hardware-backed key (Android Keystore, Secure Enclave) that enforces attempt limits; this
reference client, which runs on a workstation, has only the PIN.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from offline_store.errors import StoreCorrupt, WrongPin
from sync.envelope import b64u_decode, b64u_encode

KEY_LENGTH = 32
NONCE_LENGTH = 12
SALT_LENGTH = 16
DEFAULT_SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
# Binds the wrapped key to its purpose and parameters: a wrapped key cannot be reused as a
# record, and edited parameters fail like a wrong PIN instead of deriving a weaker key.
_WRAP_LABEL = b"infusync/device-store/v1/data-key"


@dataclass(frozen=True)
class WrappedKey:
    """The data key encrypted under the PIN, with everything needed to derive that key."""

    n: int
    r: int
    p: int
    salt: bytes
    nonce: bytes
    ciphertext: bytes

    def to_json(self) -> str:
        """Serialise for the store's plaintext meta table (nothing here is secret)."""
        return json.dumps({
            "kdf": "scrypt", "n": self.n, "r": self.r, "p": self.p,
            "salt": b64u_encode(self.salt), "aead": "AES-256-GCM",
            "nonce": b64u_encode(self.nonce), "ciphertext": b64u_encode(self.ciphertext),
        }, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> WrappedKey:
        """Load what ``to_json`` wrote; anything else means the store is damaged."""
        try:
            raw = json.loads(text)
            return cls(
                n=int(raw["n"]), r=int(raw["r"]), p=int(raw["p"]),
                salt=b64u_decode(raw["salt"]), nonce=b64u_decode(raw["nonce"]),
                ciphertext=b64u_decode(raw["ciphertext"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise StoreCorrupt("the wrapped data key is damaged") from exc

    def associated_data(self) -> bytes:
        """The AD of the wrap: label and scrypt parameters."""
        return b"%s\x00%d\x00%d\x00%d" % (_WRAP_LABEL, self.n, self.r, self.p)


def new_data_key() -> bytes:
    """Generate a fresh random data key for a new store."""
    return os.urandom(KEY_LENGTH)


def _pin_key(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    """Derive the key-wrapping key from the PIN; scrypt makes each guess cost memory."""
    kdf = Scrypt(salt=salt, length=KEY_LENGTH, n=n, r=r, p=p)
    return kdf.derive(pin.encode("utf-8"))


def wrap_data_key(data_key: bytes, pin: str, n: int = DEFAULT_SCRYPT_N) -> WrappedKey:
    """Encrypt the data key under a key derived from the PIN with a fresh salt."""
    salt, nonce = os.urandom(SALT_LENGTH), os.urandom(NONCE_LENGTH)
    shell = WrappedKey(n=n, r=SCRYPT_R, p=SCRYPT_P, salt=salt, nonce=nonce, ciphertext=b"")
    kek = _pin_key(pin, salt, n, SCRYPT_R, SCRYPT_P)
    ciphertext = AESGCM(kek).encrypt(nonce, data_key, shell.associated_data())
    return WrappedKey(n=n, r=SCRYPT_R, p=SCRYPT_P, salt=salt, nonce=nonce, ciphertext=ciphertext)


def unwrap_data_key(wrapped: WrappedKey, pin: str) -> bytes:
    """Recover the data key; a wrong PIN fails the GCM tag and raises ``WrongPin``."""
    try:
        kek = _pin_key(pin, wrapped.salt, wrapped.n, wrapped.r, wrapped.p)
        key = AESGCM(kek).decrypt(wrapped.nonce, wrapped.ciphertext, wrapped.associated_data())
    except (InvalidTag, ValueError) as exc:
        raise WrongPin("the PIN is not correct") from exc
    if len(key) != KEY_LENGTH:
        raise StoreCorrupt("the unwrapped data key has the wrong length")
    return key


def record_ad(table: str, record_id: str) -> bytes:
    """Associated data of a sealed row: a ciphertext only opens in the row it was made for."""
    return table.encode("utf-8") + b"\x00" + record_id.encode("utf-8")


def seal_record(data_key: bytes, table: str, record_id: str, plaintext: bytes) -> bytes:
    """Encrypt one row's value: nonce (12 bytes) followed by ciphertext and GCM tag."""
    nonce = os.urandom(NONCE_LENGTH)
    return nonce + AESGCM(data_key).encrypt(nonce, plaintext, record_ad(table, record_id))


def open_record(data_key: bytes, table: str, record_id: str, sealed: bytes) -> bytes:
    """Decrypt one row's value, refusing a value tampered with or moved from another row."""
    nonce, body = sealed[:NONCE_LENGTH], sealed[NONCE_LENGTH:]
    try:
        return AESGCM(data_key).decrypt(nonce, body, record_ad(table, record_id))
    except (InvalidTag, ValueError) as exc:
        raise StoreCorrupt(f"a sealed value in {table!r} does not open") from exc
