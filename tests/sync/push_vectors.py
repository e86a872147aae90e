"""The push part of the v1.1 vectors: identifiers in either case, and envelopes refused.

Written into tests/sync/vectors-v1.1.json by ``make_vectors_v1_1``. One batch is sealed
(with a fixed ephemeral key, as the pulls are) and signed once over the ids' canonical
lowercase form; the bodies that carry it with lowercase and with uppercase ids are both
accepted, and each refused body says the status and code the server answers with.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from sync import envelope

DEVICE_ID = "6f1c2b1e-8a4b-4c1e-9d7a-0c5b8f1e2a33"
BATCH_ID = "0193a3b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b"
KEY_ID = "hpke-2026-12"
PLAINTEXT = {
    "schema_version": 1, "device_clock": "2026-12-08T14:05:00Z", "app_version": "1.1.0",
    "mutations": [{"id": "0193a3b4-0000-7000-8000-0000000000a1", "seq": 1,
                   "type": "vitals.record", "entity_id": "0193a3b4-0000-7000-8000-0000000000a2",
                   "visit_id": "0193a3b4-0000-7000-8000-0000000000f1", "base_version": None,
                   "occurred_at": "2026-12-08T09:05:00-05:00",
                   "data": {"code": "8867-4", "value": 72, "unit": "/min",
                            "taken_at": "2026-12-08T09:05:00-05:00"}}],
}


# PLAINTEXT (compact JSON) compressed by zlib 1.2 at level 6, kept as bytes: another zlib
# (zlib-ng, a later release) may compress differently, and the vectors must not change with
# the machine that writes them. Any zlib inflates it.
ZLIB_PLAINTEXT = bytes.fromhex(
    "789c8d90cb6e83301045ff65d698da8406e2efe8aa558526f654b50286fa811421febde3546ad455338bbb"
    "98ab73e7b141349f34e1b052886ef6a055059656676830e36c2ea0a191cd51a846c8fe45b55a3e6b295fa1"
    "025c963b05aa56b5e4ee9413266e45d06f1b38cb9654a7031ecead905ca22bd21791bf858ac9485fb7e9e9"
    "ba1053ab4b38c63a909983659b7c72e93a3c9ad830b2bae8d2a3c447d9e18c91ee47f93c8e15ccc6e410c8"
    "0e98fe3e439e7e9e216ecab4c584a03730b32d17f4fdb1136dd903c7cc8daea9207b57529e26e7d9487821"
    "ff5feebebfefdf1ac7728c")
COMPRESSED_BATCH_ID = "0193a3b4-5c6d-7e8f-9a0b-1c2d3e4f5a6c"


def fixed_key(label: str) -> bytes:
    """32 fixed bytes named by what they are for."""
    return hashlib.sha256(f"infusync sync v1.1 push vectors: {label}".encode()).digest()


def _plaintext() -> bytes:
    """The batch, padded with spaces (still JSON) so its sealed value's standard base64
    needs padding, which the refused vectors show."""
    text = json.dumps(PLAINTEXT, separators=(",", ":")).encode()
    while (len(text) + envelope.ENC_LENGTH + envelope.TAG_LENGTH) % 3 == 0:
        text += b" "
    return text


def _refused(name: str, body: dict[str, Any], status: int, code: str,
             why: str) -> dict[str, Any]:
    return {"name": name, "body": body, "status": status, "code": code, "why": why}


def _refused_bodies(body: dict[str, Any], device: Ed25519PrivateKey) -> list[dict[str, Any]]:
    """Bodies a server refuses, each with what it answers and why."""
    padded = base64.urlsafe_b64encode(envelope.b64u_decode(body["sealed"])).decode()
    standard = base64.b64encode(envelope.b64u_decode(body["sealed"])).decode()
    signature_padded = body["signature"] + "=="
    upper = {**body, "device_id": DEVICE_ID.upper(), "batch_id": BATCH_ID.upper()}
    as_sent = "\n".join(["infusync/push/v1", upper["device_id"], upper["batch_id"], KEY_ID,
                         body["sealed"]]).encode()
    assert padded.endswith("=") and ("+" in standard or "/" in standard)
    return [
        _refused("sealed_padded", {**body, "sealed": padded}, 400, "base64_padded",
                 "base64url with '=' padding"),
        _refused("signature_padded", {**body, "signature": signature_padded}, 400,
                 "base64_padded", "base64url with '=' padding"),
        _refused("sealed_standard_alphabet", {**body, "sealed": standard}, 400,
                 "base64_invalid", "the standard alphabet ('+', '/'), padded"),
        _refused("device_id_not_a_uuid", {**body, "device_id": "device-000001"}, 400,
                 "malformed_envelope", "device_id is not a UUID"),
        _refused("batch_id_not_a_uuid", {**body, "batch_id": "batch-000001"}, 400,
                 "malformed_envelope", "batch_id is not a UUID"),
        _refused("signed_over_uppercase_ids_as_sent",
                 {**upper, "signature": envelope.b64u_encode(device.sign(as_sent))}, 422,
                 "identifiers_not_canonical",
                 "signed over the ids as sent in upper case, not their lowercase form"),
    ]


def build(seal: Callable[[bytes, Any, bytes, X25519PrivateKey], bytes]) -> dict[str, Any]:
    """The push section; ``seal`` is the vector script's fixed-ephemeral RFC 9180 seal."""
    server_raw, device_raw = fixed_key("server hpke key"), fixed_key("device signing key")
    ephemeral_raw = fixed_key("ephemeral key")
    server = X25519PrivateKey.from_private_bytes(server_raw)
    device = Ed25519PrivateKey.from_private_bytes(device_raw)
    plaintext = _plaintext()
    info = envelope.push_info(DEVICE_ID, BATCH_ID)
    sealed = envelope.b64u_encode(seal(plaintext, server.public_key(), info,
                                       X25519PrivateKey.from_private_bytes(ephemeral_raw)))
    signature = envelope.sign_push(device, DEVICE_ID, BATCH_ID, KEY_ID, sealed)
    body = {"protocol": 1, "device_id": DEVICE_ID, "batch_id": BATCH_ID, "key_id": KEY_ID,
            "sealed": sealed, "signature": signature}
    upper = {**body, "device_id": DEVICE_ID.upper(), "batch_id": BATCH_ID.upper()}
    return {
        "server_hpke_private_key": envelope.b64u_encode(server_raw),
        "server_hpke_public_key": envelope.x25519_public_key_to_b64u(server.public_key()),
        "device_signing_private_key": envelope.b64u_encode(device_raw),
        "device_signing_public_key": envelope.ed25519_public_key_to_b64u(device.public_key()),
        "ephemeral_private_key": envelope.b64u_encode(ephemeral_raw),
        "plaintext": plaintext.decode("utf-8"),
        "hpke_info_hex": info.hex(),
        "signed_message": envelope.push_signed_message(DEVICE_ID, BATCH_ID, KEY_ID,
                                                       sealed).decode("ascii"),
        "accepted": [{"name": "lowercase_ids", "body": body},
                     {"name": "uppercase_ids", "body": upper}],
        "refused": _refused_bodies(body, device),
        "compressed": _compressed(seal, server, device, ephemeral_raw),
    }


def _compressed(seal: Callable[[bytes, Any, bytes, X25519PrivateKey], bytes],
                server: X25519PrivateKey, device: Ed25519PrivateKey,
                ephemeral_raw: bytes) -> dict[str, Any]:
    """The same batch compressed before sealing ("Compressed bodies", v1.1): the envelope
    declares ``encoding``; info bytes and signed text are built as for any push."""
    info = envelope.push_info(DEVICE_ID, COMPRESSED_BATCH_ID)
    sealed = envelope.b64u_encode(seal(ZLIB_PLAINTEXT, server.public_key(), info,
                                       X25519PrivateKey.from_private_bytes(ephemeral_raw)))
    signature = envelope.sign_push(device, DEVICE_ID, COMPRESSED_BATCH_ID, KEY_ID, sealed)
    return {"zlib_plaintext_hex": ZLIB_PLAINTEXT.hex(),
            "plaintext": json.dumps(PLAINTEXT, separators=(",", ":")),
            "hpke_info_hex": info.hex(),
            "body": {"protocol": 1, "device_id": DEVICE_ID, "batch_id": COMPRESSED_BATCH_ID,
                     "key_id": KEY_ID, "sealed": sealed, "signature": signature,
                     "encoding": "zlib"}}
