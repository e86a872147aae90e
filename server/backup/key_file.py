"""The keys of a backup, in a file of their own encrypted with a passphrase.

The database backup holds the server's private keys and every stored push encrypted under
the data key; the data key is not in it. So the keys travel separately, in this file:
scrypt stretches the passphrase into an AES-256-GCM key, and the file is useless without
the passphrase — it can sit in the same vault as the database backups, the passphrase must
not. Format (JSON): ``{"format", "kdf": {"name", "n", "r", "p", "salt"}, "nonce",
"ciphertext"}``; the plaintext is ``{"secret_key", "data_key"}``.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

FORMAT = "infusync-keys/1"
MIN_PASSPHRASE = 12
# scrypt at n=2**17, r=8: about 128 MiB and a few tenths of a second, once per backup.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1


class KeyFileError(Exception):
    """A key file that cannot be written or opened; the message says why, in plain words."""


@dataclass(frozen=True)
class Keys:
    """What a restored instance needs besides the database."""

    secret_key: str
    data_key: bytes


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode(), validate=True)


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode())


def check_passphrase(passphrase: str) -> None:
    """Refuse a passphrase too short to stand up to guessing."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise KeyFileError(f"the passphrase must be at least {MIN_PASSPHRASE} characters")


def seal(keys: Keys, passphrase: str) -> bytes:
    """The key file's bytes for ``keys`` under ``passphrase``."""
    check_passphrase(passphrase)
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    key = _derive(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    plaintext = json.dumps({"secret_key": keys.secret_key,
                            "data_key": _b64(keys.data_key)}).encode()
    document = {
        "format": FORMAT,
        "kdf": {"name": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P, "salt": _b64(salt)},
        "nonce": _b64(nonce),
        "ciphertext": _b64(AESGCM(key).encrypt(nonce, plaintext, FORMAT.encode())),
    }
    return json.dumps(document, indent=1).encode() + b"\n"


def open_sealed(content: bytes, passphrase: str) -> Keys:
    """The keys in a key file's bytes; ``KeyFileError`` for a wrong passphrase or file."""
    try:
        document = json.loads(content)
        if document.get("format") != FORMAT:
            raise KeyFileError("this is not an infusync key file (written by infusync backup)")
        kdf = document["kdf"]
        key = _derive(passphrase, _unb64(kdf["salt"]), int(kdf["n"]), int(kdf["r"]),
                      int(kdf["p"]))
        plaintext = AESGCM(key).decrypt(_unb64(document["nonce"]),
                                        _unb64(document["ciphertext"]), FORMAT.encode())
    except InvalidTag as exc:
        raise KeyFileError("the passphrase does not open this key file") from exc
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise KeyFileError("this key file is damaged or not an infusync key file") from exc
    keys = json.loads(plaintext)
    return Keys(secret_key=str(keys["secret_key"]), data_key=_unb64(keys["data_key"]))


def write_new(path: Path, content: bytes) -> None:
    """Write ``content`` to a new file readable by its owner only (never overwrite)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise KeyFileError(f"{path} exists: choose a new file") from exc
    except OSError as exc:
        raise KeyFileError(f"cannot write {path}: {exc.strerror}") from exc
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
