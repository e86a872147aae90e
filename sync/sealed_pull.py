"""Sealed pull bodies of sync protocol v1.1: the pull's changes readable only by its device.

A v1 pull is signed but travels as plain JSON inside TLS, so a TLS-terminating proxy reads
every name and address in it. In v1.1 the server HPKE-seals the v1 body to the X25519 key
the device enrolled, with info bytes that bind the device and the cursor it asked with,
then signs the sealed body as before. The byte layout is specified in docs/protocol.md
("Protocol v1.1") and pinned by tests/sync/vectors-v1.1.json.
"""

from __future__ import annotations

import json
import re

from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey,
    X25519PublicKey,
)

from sync import envelope

PROTOCOL = "1.1"
PULL_LABEL = b"infusync/pull/v1.1"
CONTENT_TYPE = "application/json"
# Cursors are opaque, but every cursor the server issues is base64url text; insisting on it
# means the info never depends on how a URL library encodes or normalises other characters.
_CURSOR_TEXT = re.compile(r"[A-Za-z0-9_-]{0,2000}")


def pull_info(device_id: str, cursor: str) -> bytes:
    """HPKE info binding a sealed pull to its device and the cursor it answers ("" first)."""
    if not _CURSOR_TEXT.fullmatch(cursor):
        raise envelope.InvalidIdentifier("cursor must be base64url text (empty for none)")
    device = envelope.uuid_identifier("device_id", device_id)
    return PULL_LABEL + b"\x00" + device + b"\x00" + cursor.encode("ascii")


def body_of(sealed_b64: str) -> bytes:
    """The exact v1.1 body bytes the server sends (and signs) around a sealed value."""
    return b'{"protocol":"1.1","sealed":"' + sealed_b64.encode("ascii") + b'"}'


def seal_pull(plaintext: bytes, device_public_key: X25519PublicKey, device_id: str,
              cursor: str) -> bytes:
    """Seal a v1 pull body to the device; returns the v1.1 body to sign and send."""
    info = pull_info(device_id, cursor)
    return body_of(envelope.seal_with_info(plaintext, device_public_key, info))


def sealed_value(body: bytes) -> str:
    """The ``sealed`` text of a v1.1 body; anything else (a v1 body too) does not open."""
    try:
        parsed = json.loads(body)
    except ValueError as exc:
        raise envelope.EnvelopeDoesNotOpen("the pull body is not JSON") from exc
    if (not isinstance(parsed, dict) or parsed.keys() != {"protocol", "sealed"}
            or parsed["protocol"] != PROTOCOL or not isinstance(parsed["sealed"], str)):
        raise envelope.EnvelopeDoesNotOpen("the pull body is not a sealed v1.1 body")
    return parsed["sealed"]


def open_pull(body: bytes, device_private_key: X25519PrivateKey, device_id: str,
              cursor: str) -> bytes:
    """The v1 body inside a v1.1 body, for the device and cursor it was sealed for."""
    try:
        info = pull_info(device_id, cursor)
    except envelope.EnvelopeError as exc:
        raise envelope.EnvelopeDoesNotOpen("device id or cursor is malformed") from exc
    return envelope.open_with_info(sealed_value(body), device_private_key, info)
