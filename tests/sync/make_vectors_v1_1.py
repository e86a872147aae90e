"""Produce tests/sync/vectors-v1.1.json, the byte-level vectors of sealed pulls (v1.1), of
pushes with ids in either case and envelopes refused (``push_vectors``), and a batch
documenting one visit end to end (``vector_batch_v1_1``).

Run ``python -m tests.sync.make_vectors_v1_1`` to (re)write the file, or with ``--check``
to exit 1 when the committed file differs from what this script produces. Every input is
fixed — keys are SHA-256 of a label, the HPKE ephemeral key too — so the output is fully
deterministic: pyca/cryptography's HPKE does not let a caller fix the ephemeral key, so the
seal here is RFC 9180's SetupBaseS + Seal written out with the primitives (X25519, HMAC-
SHA256, AES-256-GCM). ``tests/sync/test_vectors_v1_1.py`` opens the result with the
production code (pyca's HPKE), which proves the two agree. Never use this seal outside
vectors: a fixed ephemeral key is exactly what a real sender must never do.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json
import sys
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sync import envelope, response_signature, sealed_pull
from tests.sync import push_vectors
from tests.sync import vector_batch_v1_1 as batch

PATH = Path(__file__).with_name("vectors-v1.1.json")
DEVICE_ID = "6f1c2b1e-8a4b-4c1e-9d7a-0c5b8f1e2a33"
SIGNING_KEY_ID = "srv-2026-12"
OTHER_DEVICE_ID = "00000000-0000-7000-8000-000000000000"
NONCE = "bm9uY2Utb2YtdGhlLXJldm9rZWQtcHVsbA"
LATER_NONCE = "bm9uY2Utb2YtYS1sYXRlci1yZXF1ZXN0LXg"
PULL_NONCE = "bm9uY2Utb2YtdGhlLWZpcnN0LXB1bGwteHg"
TOKEN = "dGhlLWRldmljZS10b2tlbi1vZi10aGUtdmVjdG9ycw"
# Byte for byte what the server sends for a revoked device (Flask's compact, sorted JSON).
WIPE_BODY = ('{"error":{"code":"device_revoked","details":{"command":{"type":"wipe"}},'
             '"message":"This device was revoked. Its data must be wiped."}}\n')
# RFC 9180 identifiers of the suite: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM.
KEM_SUITE_ID = b"KEM\x00\x20"
HPKE_SUITE_ID = b"HPKE\x00\x20\x00\x01\x00\x02"
MODE_BASE = b"\x00"

PATIENT = {"id": batch.PATIENT_ID, "mrn": "MRN-1815", "first_name": "Ada",
           "last_name": "Lovelace", "birth_date": "1915-12-10", "phone": None, "allergies": [],
           "primary_physician_id": None, "referral_source": None, "status": "active",
           "vascular_access": None, "version": 3, "created_at": "2026-11-02T15:00:00+00:00",
           "updated_at": "2026-12-01T15:00:00+00:00"}
# A service location names its patient (v1.1): a patient's removal purges it by that id.
LOCATION = {"id": batch.LOCATION_ID, "patient_id": batch.PATIENT_ID, "kind": "home",
            "address": "12 St James's Square, Springfield", **batch.HOME, "evv_radius_m": 150}
VISIT = {"id": batch.VISIT_ID, "patient_id": batch.PATIENT_ID, "order_id": None,
         "nurse_id": "0193a3b4-0000-7000-8000-0000000000c1",
         "service_location_id": batch.LOCATION_ID, "scheduled_start": "2026-12-08T14:00:00+00:00",
         "scheduled_end": "2026-12-08T15:00:00+00:00", "status": "scheduled",
         "cancel_reason": None, "version": 1, "created_at": "2026-12-01T15:00:00+00:00",
         "updated_at": "2026-12-01T15:00:00+00:00"}
# Pages as the server writes them: every field of pull-page.schema.json (its test checks).
FIRST_PAGE = {
    "changes": [
        {"type": "patient", "id": batch.PATIENT_ID, "op": "upsert", "version": 3,
         "data": PATIENT},
        {"type": "service_location", "id": batch.LOCATION_ID, "op": "upsert", "version": 1,
         "data": LOCATION},
        {"type": "visit", "id": batch.VISIT_ID, "op": "upsert", "version": 1, "data": VISIT},
    ],
    "cursor": "c2Vjb25kLXBhZ2U", "has_more": True, "snapshot": True,
    "server_time": "2026-12-08T13:00:00+00:00",
}
NEXT_PAGE = {
    "changes": [{"type": "visit", "id": batch.VISIT_ID,
                 "op": "remove", "version": None, "data": None}],
    "cursor": "dGhpcmQtcGFnZQ", "has_more": False, "snapshot": False,
    "server_time": "2026-12-08T13:00:01+00:00",
}


def fixed_key(label: str) -> bytes:
    """32 fixed bytes named by what they are for."""
    return hashlib.sha256(f"infusync sync v1.1 test vectors: {label}".encode()).digest()


def _labeled_extract(suite_id: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
    """RFC 9180 LabeledExtract with HKDF-SHA256 (an empty salt is HashLen zeros to HMAC)."""
    return hmac.digest(salt, b"HPKE-v1" + suite_id + label + ikm, "sha256")


def _labeled_expand(suite_id: bytes, prk: bytes, label: bytes, info: bytes,
                    length: int) -> bytes:
    """RFC 9180 LabeledExpand with HKDF-SHA256; one HMAC block covers every length used."""
    labeled_info = length.to_bytes(2, "big") + b"HPKE-v1" + suite_id + label + info
    return hmac.digest(prk, labeled_info + b"\x01", "sha256")[:length]


def hpke_seal_with_ephemeral(plaintext: bytes, recipient: X25519PublicKey, info: bytes,
                             ephemeral: X25519PrivateKey) -> bytes:
    """RFC 9180 base mode, single shot, empty AAD, with a given ephemeral key: enc || ct."""
    enc = ephemeral.public_key().public_bytes_raw()
    dh = ephemeral.exchange(recipient)
    kem_context = enc + recipient.public_bytes_raw()
    eae_prk = _labeled_extract(KEM_SUITE_ID, b"", b"eae_prk", dh)
    shared_secret = _labeled_expand(KEM_SUITE_ID, eae_prk, b"shared_secret", kem_context, 32)
    psk_id_hash = _labeled_extract(HPKE_SUITE_ID, b"", b"psk_id_hash", b"")
    info_hash = _labeled_extract(HPKE_SUITE_ID, b"", b"info_hash", info)
    context = MODE_BASE + psk_id_hash + info_hash
    secret = _labeled_extract(HPKE_SUITE_ID, shared_secret, b"secret", b"")
    key = _labeled_expand(HPKE_SUITE_ID, secret, b"key", context, 32)
    base_nonce = _labeled_expand(HPKE_SUITE_ID, secret, b"base_nonce", context, 12)
    return enc + AESGCM(key).encrypt(base_nonce, plaintext, b"")  # sequence 0: the base nonce


def _page_text(page: dict[str, Any]) -> str:
    """A v1 page as the server serialises it (compact separators)."""
    return json.dumps(page, separators=(",", ":"))


def _pull_vector(name: str, cursor: str, page: dict[str, Any], device: X25519PublicKey,
                 signer: Ed25519PrivateKey) -> dict[str, Any]:
    """One sealed, signed pull body and everything needed to check it byte by byte."""
    ephemeral_raw = fixed_key(f"ephemeral key of {name}")
    ephemeral = X25519PrivateKey.from_private_bytes(ephemeral_raw)
    info = sealed_pull.pull_info(DEVICE_ID, cursor)
    plaintext = _page_text(page)
    sealed = hpke_seal_with_ephemeral(plaintext.encode(), device, info, ephemeral)
    body = sealed_pull.body_of(envelope.b64u_encode(sealed))
    signature = envelope.sign_pull(signer, body)
    return {
        "name": name, "cursor": cursor, "hpke_info_hex": info.hex(),
        "ephemeral_private_key": envelope.b64u_encode(ephemeral_raw),
        "enc": envelope.b64u_encode(sealed[:envelope.ENC_LENGTH]),
        "plaintext": plaintext, "body": body.decode("ascii"), "signature": signature,
        "signature_header": envelope.pull_signature_header(SIGNING_KEY_ID, signature),
    }


def _flip_first_sealed_byte(body: str) -> str:
    """The body with the lowest bit of the sealed value's first decoded byte flipped."""
    sealed = bytearray(envelope.b64u_decode(json.loads(body)["sealed"]))
    sealed[0] ^= 1
    return sealed_pull.body_of(envelope.b64u_encode(bytes(sealed))).decode("ascii")


def _negative(vector: dict[str, Any], signer: Ed25519PrivateKey) -> dict[str, Any]:
    """Bodies a device must refuse: one fails the signature, one (re-signed) fails to open."""
    flipped = _flip_first_sealed_byte(vector["body"])
    return {
        "of": vector["name"],
        "body_with_one_bit_flipped": flipped,
        "resigned_signature_of_flipped_body": envelope.sign_pull(signer, flipped.encode()),
        "other_device_id": OTHER_DEVICE_ID,
        "plain_v1_body": vector["plaintext"],
        "plain_v1_body_signature": envelope.sign_pull(signer, vector["plaintext"].encode()),
    }


def _signed_wipe(signer: Ed25519PrivateKey) -> dict[str, Any]:
    """A 403 device_revoked (the wipe) signed for one device and one request's nonce."""
    body = WIPE_BODY.encode("ascii")
    message = response_signature.response_message(DEVICE_ID, NONCE, 403, body)
    signature = response_signature.sign_response(signer, DEVICE_ID, NONCE, 403, body)
    return {
        "name": "wipe", "status": 403, "device_id": DEVICE_ID, "nonce": NONCE,
        "body": WIPE_BODY, "signed_message_prefix": "infusync/response/v1.1\n",
        "signed_message": message.decode("ascii"), "signature": signature,
        "signature_header": envelope.pull_signature_header(SIGNING_KEY_ID, signature),
        "negative": {"other_device_id": OTHER_DEVICE_ID, "later_nonce": LATER_NONCE,
                     "unsigned_status": 200},
    }


def _gzip_pull(pull: dict[str, Any]) -> dict[str, Any]:
    """The first pull as it travels with Content-Encoding: gzip (mtime 0, level 6)."""
    compressed = gzip.compress(pull["body"].encode("ascii"), compresslevel=6, mtime=0)
    return {"of": pull["name"], "content_encoding": "gzip",
            "gzip_body": envelope.b64u_encode(compressed),
            "signature_header": pull["signature_header"]}


def _http_examples(pull: dict[str, Any], gzipped: dict[str, Any],
                   wipe: dict[str, Any]) -> dict[str, Any]:
    """The exact headers of a first pull and of a refused one, in the order sent."""
    length = len(envelope.b64u_decode(gzipped["gzip_body"]))
    request = ["GET /api/v1/sync/pull?limit=500 HTTP/1.1",
               "Host: infusync.example-agency.org", "Accept: application/json",
               "Accept-Encoding: gzip", f"Authorization: Bearer {TOKEN}"]
    return {
        "first_pull": {
            "request": [*request, f"Infusync-Nonce: {PULL_NONCE}"],
            "response": ["HTTP/1.1 200 OK", "Content-Type: application/json",
                         f"Content-Length: {length}", "Content-Encoding: gzip",
                         "Vary: Accept-Encoding",
                         f"Infusync-Signature: {pull['signature_header']}"],
            "body": "gzip_pull.gzip_body (base64url here; raw bytes on the wire)",
        },
        "revoked_pull": {
            "request": [*request, f"Infusync-Nonce: {wipe['nonce']}"],
            "response": ["HTTP/1.1 403 Forbidden", "Content-Type: application/json",
                         f"Content-Length: {len(wipe['body'])}",
                         f"Infusync-Signature: {wipe['signature_header']}"],
            "body": "signed_errors[0].body",
        },
    }


def build() -> dict[str, Any]:
    """The whole vector file as a JSON value; the same every time."""
    device_raw, signer_raw = fixed_key("device hpke key"), fixed_key("server signing key")
    device = X25519PrivateKey.from_private_bytes(device_raw)
    signer = Ed25519PrivateKey.from_private_bytes(signer_raw)
    pulls = [
        _pull_vector("first_pull", "", FIRST_PAGE, device.public_key(), signer),
        _pull_vector("next_pull", FIRST_PAGE["cursor"], NEXT_PAGE, device.public_key(),
                     signer),
    ]
    wipe, gzipped = _signed_wipe(signer), _gzip_pull(pulls[0])
    return {
        "description": "Sync protocol v1.1 sealed-pull vectors (docs/protocol.md, Protocol "
                       "v1.1). Produced by tests/sync/make_vectors_v1_1.py. Keys are raw "
                       "bytes, base64url without padding.",
        "hpke_suite": "DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / AES-256-GCM, RFC 9180 "
                      "base mode, single-shot, empty AAD",
        "device_id": DEVICE_ID,
        # Ids are UUIDs in either case; info and signed text hold the lowercase form.
        "device_id_uppercase": DEVICE_ID.upper(),
        "device_hpke_private_key": envelope.b64u_encode(device_raw),
        "device_hpke_public_key": envelope.x25519_public_key_to_b64u(device.public_key()),
        "server_signing_key_id": SIGNING_KEY_ID,
        "server_signing_private_key": envelope.b64u_encode(signer_raw),
        "server_signing_public_key": envelope.ed25519_public_key_to_b64u(signer.public_key()),
        "signed_message_prefix": envelope.PULL_PREFIX.decode("ascii"),
        "pulls": pulls,
        "negative": _negative(pulls[1], signer),
        "push": push_vectors.build(hpke_seal_with_ephemeral),
        # One visit documented end to end, each mutation answered ``applied``.
        "visit_batch": batch.push_vector(
            DEVICE_ID, X25519PrivateKey.from_private_bytes(fixed_key("server hpke key")),
            Ed25519PrivateKey.from_private_bytes(fixed_key("device signing key")),
            hpke_seal_with_ephemeral,
            X25519PrivateKey.from_private_bytes(fixed_key("ephemeral key of the push"))),
        "signed_errors": [wipe],
        "gzip_pull": gzipped,
        "http_examples": _http_examples(pulls[0], gzipped, wipe),
    }


def render() -> str:
    """The file's exact text."""
    return json.dumps(build(), indent=2, ensure_ascii=True) + "\n"


def main(argv: list[str]) -> int:
    """Write the file, or with ``--check`` report whether the committed one is current."""
    text = render()
    if "--check" in argv:
        current = PATH.read_text(encoding="utf-8") if PATH.exists() else ""
        print("up to date" if current == text else f"{PATH} differs from what this produces")
        return 0 if current == text else 1
    PATH.write_text(text, encoding="utf-8")
    print(f"wrote {PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
