"""Signed responses of sync protocol v1.1: every answer a device acts on, errors included.

A v1 device verified only a pull's ``200``; a ``403 device_revoked`` (which carries the wipe
command) came unsigned, so a device either never wiped or wiped on anyone's say-so. In v1.1
the server signs every response of the device endpoints with its Ed25519 signing key over
the body **and** what binds it to one request: the device the bearer token belongs to, the
nonce the device sent in ``Infusync-Nonce``, and the HTTP status. A recorded signed wipe for
device A does not verify for device B (another id), nor for A's next request (another
nonce). A pull's ``200`` keeps the v1 pull signature (``envelope.sign_pull``): its sealed
body is already bound to the device and cursor. Signing keys are rotated with an
endorsement: the old key signs the new one, so a device that knew the old key can trust the
new one whenever it hears of it. Layout: docs/protocol.md, "Signed responses".
"""

from __future__ import annotations

import re

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from sync import envelope

RESPONSE_LABEL = b"infusync/response/v1.1"
ENDORSEMENT_LABEL = b"infusync/signing-key/v1.1"
NONCE_HEADER = "Infusync-Nonce"
SIGNATURE_HEADER = "Infusync-Signature"
# 16 to 64 random bytes as base64url: enough that a nonce never repeats, short for a header.
_NONCE = re.compile(r"[A-Za-z0-9_-]{22,86}")


class InvalidNonce(envelope.EnvelopeError, ValueError):
    """An ``Infusync-Nonce`` that is not 22 to 86 characters of base64url."""


def check_nonce(nonce: str) -> str:
    """Return a request nonce as given, refusing one that could not be framed or is too short."""
    if not _NONCE.fullmatch(nonce):
        raise InvalidNonce("Infusync-Nonce must be 22 to 86 base64url characters "
                           "(16 to 64 random bytes)")
    return nonce


def response_message(device_id: str, nonce: str, status: int, body: bytes) -> bytes:
    """The bytes the server signs for a response: label, device, nonce, status, then body.

    ``device_id`` is the device the request's token belongs to and ``nonce`` the request's
    ``Infusync-Nonce``; either is the empty string when there is none. The device id enters
    in lowercase, as in every other signed or sealed text (a client may keep it upper case).
    """
    device = envelope.identifier("device_id", device_id.lower()) if device_id else b""
    nonce_bytes = check_nonce(nonce).encode("ascii") if nonce else b""
    if not 100 <= status <= 599:
        raise ValueError("status must be an HTTP status code")
    return b"\n".join([RESPONSE_LABEL, device, nonce_bytes, str(status).encode("ascii"), body])


def sign_response(key: Ed25519PrivateKey, device_id: str, nonce: str, status: int,
                  body: bytes) -> str:
    """Sign one response for the request it answers; base64url text for the header."""
    return envelope.b64u_encode(key.sign(response_message(device_id, nonce, status, body)))


def verify_response(key: Ed25519PublicKey, signature_b64: str, device_id: str, nonce: str,
                    status: int, body: bytes) -> None:
    """Verify a response as the answer to this device's request with this nonce."""
    try:
        message = response_message(device_id, nonce, status, body)
    except (envelope.EnvelopeError, ValueError) as exc:
        raise envelope.BadSignature("device id, nonce or status is malformed") from exc
    envelope.verify_signed(key, signature_b64, message)


def endorsement_message(key_id: str, public_key_b64: str) -> bytes:
    """What the previous signing key signs to vouch for the next one."""
    envelope.ed25519_public_key_from_b64u(public_key_b64)  # a raw 32-byte key, or refused
    return b"\n".join([ENDORSEMENT_LABEL, envelope.identifier("key_id", key_id),
                       public_key_b64.encode("ascii")])


def endorse(previous: Ed25519PrivateKey, key_id: str, public_key_b64: str) -> str:
    """The previous signing key's endorsement of a new one, as base64url."""
    return envelope.b64u_encode(previous.sign(endorsement_message(key_id, public_key_b64)))


def verify_endorsement(previous: Ed25519PublicKey, signature_b64: str, key_id: str,
                       public_key_b64: str) -> None:
    """Check that the key a device already trusts vouched for ``key_id``."""
    try:
        message = endorsement_message(key_id, public_key_b64)
    except envelope.EnvelopeError as exc:
        raise envelope.BadSignature("the endorsed key is malformed") from exc
    envelope.verify_signed(previous, signature_b64, message)
