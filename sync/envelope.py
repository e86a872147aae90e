"""Envelope cryptography for sync protocol v1: HPKE-sealed push batches, Ed25519 signatures.

This is the one module that touches key material for the protocol; everything else handles
base64url text and the named exceptions below. The wire format is specified in
docs/protocol.md and pinned by tests/sync/vectors-v1.json.
"""

from __future__ import annotations

import base64
import re

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey,
    X25519PublicKey,
)

SUITE_NAME = "DHKEM(X25519, HKDF-SHA256)/HKDF-SHA256/AES-256-GCM"
PUSH_LABEL = b"infusync/push/v1"
PULL_PREFIX = b"infusync/pull/v1\n"
ENC_LENGTH = 32
TAG_LENGTH = 16
KEY_LENGTH = 32
SIGNATURE_LENGTH = 64

_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
_B64U_TEXT = re.compile(r"[A-Za-z0-9_-]*")
# RFC 3986 unreserved characters: no NUL, newline, comma or "=" can ever reach a message
# or header, so the framing of info bytes, signed text and the header cannot be ambiguous.
_IDENTIFIER = re.compile(r"[A-Za-z0-9._~-]{1,128}")
# Device and batch ids are UUIDs (RFC 9562's 8-4-4-4-12 form), read in either case.
_UUID = re.compile(r"[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}")


class EnvelopeError(Exception):
    """Base of every failure this module reports, so callers can map them in one place."""


class InvalidBase64(EnvelopeError, ValueError):
    """Text is not canonical base64url without padding."""


class InvalidIdentifier(EnvelopeError, ValueError):
    """A device, batch or key id would make the signed or sealed framing ambiguous."""


class InvalidKey(EnvelopeError, ValueError):
    """Text does not hold a raw 32-byte key."""


class EnvelopeDoesNotOpen(EnvelopeError):
    """A sealed batch cannot be opened: wrong key, wrong context, tampered or malformed."""


class BadSignature(EnvelopeError):
    """A signature or signature header is malformed or does not verify."""


def b64u_encode(data: bytes) -> str:
    """Encode as base64url without padding, the only binary encoding on the wire."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_B64U_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# A text whose length is 2 or 3 modulo 4 ends in a character with 4 or 2 unused low bits.
_UNUSED_BITS = {2: 0b1111, 3: 0b11}


def _is_b64u_text(text: str) -> bool:
    """``_B64U_TEXT.fullmatch(text)``, for the sealed batch: bytes.translate deletes the
    alphabet in C, where the regular expression took over a millisecond per push of 200
    vital signs, twice (the signed text, then the envelope)."""
    return text.isascii() and not text.encode("ascii").translate(None, _B64U_ALPHABET)


def b64u_decode(text: str) -> bytes:
    """Decode canonical base64url without padding; anything else is refused, not guessed."""
    tail = len(text) % 4
    if not _is_b64u_text(text) or tail == 1:
        raise InvalidBase64("not base64url without padding")
    # Non-zero trailing bits would give one value two encodings; refuse them (checked on the
    # last character: encoding the decoded bytes again to compare cost as much as decoding).
    if tail and _B64U_ALPHABET.index(text[-1].encode("ascii")) & _UNUSED_BITS[tail]:
        raise InvalidBase64("non-canonical base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def identifier(name: str, value: str) -> bytes:
    """Return an id as ASCII bytes, refusing any character that could break the framing."""
    if not _IDENTIFIER.fullmatch(value):
        raise InvalidIdentifier(f"{name} must be 1-128 characters from A-Z a-z 0-9 . _ ~ -")
    return value.encode("ascii")


def uuid_identifier(name: str, value: str) -> bytes:
    """A device or batch id as it enters signed and sealed bytes: its canonical form.

    Ids are UUIDs in either case on the wire (Swift writes them in upper case, Java and
    Python in lower), but the server stores the value, not the spelling, and rebuilds a
    pull's info from the id enrollment gave: so every signed or sealed byte string holds
    the lowercase hyphenated form, whatever case the body carries.
    """
    if not _UUID.fullmatch(value):
        raise InvalidIdentifier(f"{name} must be a UUID: 8-4-4-4-12 hexadecimal digits")
    return value.lower().encode("ascii")


def push_info(device_id: str, batch_id: str) -> bytes:
    """HPKE info binding a sealed batch to its device and batch, so it cannot be replayed."""
    device = uuid_identifier("device_id", device_id)
    batch = uuid_identifier("batch_id", batch_id)
    return PUSH_LABEL + b"\x00" + device + b"\x00" + batch


def push_signed_message(device_id: str, batch_id: str, key_id: str, sealed_b64: str) -> bytes:
    """The exact bytes a device signs for a push, covering every routing field and the seal."""
    return _push_message(uuid_identifier("device_id", device_id),
                         uuid_identifier("batch_id", batch_id), key_id, sealed_b64)


def _push_message(device: bytes, batch: bytes, key_id: str, sealed_b64: str) -> bytes:
    """The push signed text from the ids' bytes (canonical, or as sent for a diagnosis)."""
    return b"\n".join([PUSH_LABEL, device, batch, identifier("key_id", key_id),
                       _sealed_text(sealed_b64)])


def signed_over_ids_as_sent(device_public_key: Ed25519PublicKey, signature_b64: str,
                            device_id: str, batch_id: str, key_id: str,
                            sealed_b64: str) -> bool:
    """True when a push signature that failed verifies over ids in another case than the
    canonical one: the device's own key signed it, so it is a client's slip, not a forgery.
    """
    try:
        sent = identifier("device_id", device_id), identifier("batch_id", batch_id)
        if sent == (device_id.lower().encode(), batch_id.lower().encode()):
            return False
        verify_signed(device_public_key, signature_b64, _push_message(*sent, key_id, sealed_b64))
    except EnvelopeError:
        return False
    return True


def _sealed_text(sealed_b64: str) -> bytes:
    """Return the sealed text as signed, refusing anything that is not base64url."""
    if not _is_b64u_text(sealed_b64):
        raise InvalidBase64("sealed is not base64url without padding")
    return sealed_b64.encode("ascii")


def seal(
    plaintext: bytes, server_public_key: X25519PublicKey, device_id: str, batch_id: str
) -> str:
    """Seal a batch for the server so only it can read it, bound to this device and batch."""
    return seal_with_info(plaintext, server_public_key, push_info(device_id, batch_id))


def open_sealed(
    sealed_b64: str, server_private_key: X25519PrivateKey, device_id: str, batch_id: str
) -> bytes:
    """Open a sealed batch; every failure is one exception so callers cannot leak which."""
    try:
        info = push_info(device_id, batch_id)
    except EnvelopeError as exc:
        raise EnvelopeDoesNotOpen("sealed batch is malformed") from exc
    return open_with_info(sealed_b64, server_private_key, info)


def opens_with_ids_as_sent(sealed_b64: str, server_private_key: X25519PrivateKey,
                           device_id: str, batch_id: str) -> bool:
    """True when a batch that does not open under the canonical ids opens under the ids as
    sent in another case: sealed by the device with the wrong spelling, not tampered with.
    """
    try:
        sent = identifier("device_id", device_id), identifier("batch_id", batch_id)
        if sent == (device_id.lower().encode(), batch_id.lower().encode()):
            return False
        open_with_info(sealed_b64, server_private_key,
                       PUSH_LABEL + b"\x00" + sent[0] + b"\x00" + sent[1])
    except EnvelopeError:
        return False
    return True


def seal_with_info(plaintext: bytes, public_key: X25519PublicKey, info: bytes) -> str:
    """HPKE-seal (the suite above, base mode, single shot, empty AAD) as base64url text.

    Push (v1) and sealed pull (v1.1) differ only in their info bytes and recipient, so both
    go through here and the suite stays defined in one place.
    """
    return b64u_encode(_SUITE.encrypt(plaintext, public_key, info=info))


def open_with_info(sealed_b64: str, private_key: X25519PrivateKey, info: bytes) -> bytes:
    """Open what ``seal_with_info`` made; every failure is ``EnvelopeDoesNotOpen``."""
    try:
        sealed = b64u_decode(sealed_b64)
    except EnvelopeError as exc:
        raise EnvelopeDoesNotOpen("sealed value is malformed") from exc
    if len(sealed) < ENC_LENGTH + TAG_LENGTH:
        raise EnvelopeDoesNotOpen("sealed value is too short")
    try:
        return _SUITE.decrypt(sealed, private_key, info=info)
    except (InvalidTag, ValueError) as exc:
        raise EnvelopeDoesNotOpen("sealed value does not open") from exc


def sign_push(
    device_private_key: Ed25519PrivateKey,
    device_id: str,
    batch_id: str,
    key_id: str,
    sealed_b64: str,
) -> str:
    """Sign a push so the server knows which enrolled device sent this exact sealed batch."""
    message = push_signed_message(device_id, batch_id, key_id, sealed_b64)
    return b64u_encode(device_private_key.sign(message))


def verify_push(
    device_public_key: Ed25519PublicKey,
    signature_b64: str,
    device_id: str,
    batch_id: str,
    key_id: str,
    sealed_b64: str,
) -> None:
    """Verify a push signature before the server spends any work opening the envelope."""
    try:
        message = push_signed_message(device_id, batch_id, key_id, sealed_b64)
    except EnvelopeError as exc:
        raise BadSignature("push fields are malformed") from exc
    verify_signed(device_public_key, signature_b64, message)


def sign_pull(server_signing_key: Ed25519PrivateKey, body: bytes) -> str:
    """Sign a pull response body so devices can trust changes relayed by any proxy."""
    return b64u_encode(server_signing_key.sign(PULL_PREFIX + body))


def verify_pull(server_public_key: Ed25519PublicKey, body: bytes, signature_b64: str) -> None:
    """Verify a pull response body against the server's signing key, byte for byte."""
    verify_signed(server_public_key, signature_b64, PULL_PREFIX + body)


def verify_signed(public_key: Ed25519PublicKey, signature_b64: str, message: bytes) -> None:
    """Verify an Ed25519 signature over ``message``, turning every failure into BadSignature."""
    try:
        signature = b64u_decode(signature_b64)
    except InvalidBase64 as exc:
        raise BadSignature("signature is not base64url") from exc
    if len(signature) != SIGNATURE_LENGTH:
        raise BadSignature("signature must be 64 bytes")
    try:
        public_key.verify(signature, message)
    except InvalidSignature as exc:
        raise BadSignature("signature does not verify") from exc


def pull_signature_header(key_id: str, sig: str) -> str:
    """Build the Infusync-Signature header value naming the key that signed the body."""
    identifier("key_id", key_id)
    if not sig or not _B64U_TEXT.fullmatch(sig):
        raise InvalidBase64("sig is not base64url without padding")
    return f"key_id={key_id}, sig={sig}"


def parse_pull_signature_header(value: str) -> tuple[str, str]:
    """Split an Infusync-Signature header into (key_id, sig), refusing anything else."""
    params: dict[str, str] = {}
    for part in value.split(","):
        name, sep, param = part.strip().partition("=")
        if not sep or name in params or name not in ("key_id", "sig"):
            raise BadSignature("malformed Infusync-Signature header")
        params[name] = param
    if params.keys() != {"key_id", "sig"}:
        raise BadSignature("Infusync-Signature header needs key_id and sig")
    key_id, sig = params["key_id"], params["sig"]
    if not _IDENTIFIER.fullmatch(key_id) or not sig or not _B64U_TEXT.fullmatch(sig):
        raise BadSignature("malformed Infusync-Signature header")
    return key_id, sig


def _raw_key(text: str) -> bytes:
    """Decode a base64url raw key and insist on 32 bytes, the only size v1 uses."""
    try:
        raw = b64u_decode(text)
    except InvalidBase64 as exc:
        raise InvalidKey("key is not base64url") from exc
    if len(raw) != KEY_LENGTH:
        raise InvalidKey("key must be 32 bytes")
    return raw


def x25519_private_key_from_b64u(text: str) -> X25519PrivateKey:
    """Load the server's HPKE private key from its raw base64url form."""
    return X25519PrivateKey.from_private_bytes(_raw_key(text))


def x25519_private_key_to_b64u(key: X25519PrivateKey) -> str:
    """Store an HPKE private key as raw base64url, the same form it is loaded from."""
    return b64u_encode(key.private_bytes_raw())


def x25519_public_key_from_b64u(text: str) -> X25519PublicKey:
    """Load a server HPKE public key as published to devices."""
    return X25519PublicKey.from_public_bytes(_raw_key(text))


def x25519_recipient_key_from_b64u(text: str) -> X25519PublicKey:
    """Load an X25519 key something will be sealed to, refusing low-order points.

    A low-order point (all zeros, for one) gives an all-zero shared secret, which HPKE
    refuses at seal time; refusing it when the key arrives keeps that failure out of later
    requests.
    """
    key = x25519_public_key_from_b64u(text)
    try:
        X25519PrivateKey.generate().exchange(key)
    except ValueError as exc:
        raise InvalidKey("key is a low-order X25519 point") from exc
    return key


def x25519_public_key_to_b64u(key: X25519PublicKey) -> str:
    """Publish an HPKE public key as raw base64url for devices to seal to."""
    return b64u_encode(key.public_bytes_raw())


def ed25519_private_key_from_b64u(text: str) -> Ed25519PrivateKey:
    """Load an Ed25519 signing key (device or server) from its raw base64url form."""
    return Ed25519PrivateKey.from_private_bytes(_raw_key(text))


def ed25519_private_key_to_b64u(key: Ed25519PrivateKey) -> str:
    """Store an Ed25519 signing key as raw base64url, the same form it is loaded from."""
    return b64u_encode(key.private_bytes_raw())


def ed25519_public_key_from_b64u(text: str) -> Ed25519PublicKey:
    """Load an Ed25519 verification key, e.g. one a device registered at enrolment."""
    return Ed25519PublicKey.from_public_bytes(_raw_key(text))


def ed25519_public_key_to_b64u(key: Ed25519PublicKey) -> str:
    """Publish an Ed25519 verification key as raw base64url."""
    return b64u_encode(key.public_bytes_raw())
