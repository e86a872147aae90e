"""The push batch of the v1.1 vectors: one visit documented end to end, every reading in
the notation the server accepts, so a client team can copy it and expect ``applied``.

``tests/sync/make_vectors_v1_1.py`` seals and signs it into ``vectors-v1.1.json``;
``tests/sync/test_vector_batches.py`` pushes it to the app and checks every result.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from sync import envelope

PATIENT_ID = "0193a3b4-0000-7000-8000-0000000000e1"
VISIT_ID = "0193a3b4-0000-7000-8000-0000000000f1"
LOCATION_ID = "0193a3b4-0000-7000-8000-0000000000d1"
BATCH_ID = "0193a3b4-0000-7000-8000-0000000000b2"
HPKE_KEY_ID = "hpke-2026-12"
# Where the vectors' patient lives (and where the check-in and check-out were made).
HOME = {"latitude": 39.78, "longitude": -89.65}
AT = "2026-12-08T09:{minute:02d}:00-05:00"  # the nurse's phone, in the agency's zone


def _id(n: int) -> str:
    return f"0193a3b4-0000-7000-8000-{n:012x}"


def _mutation(seq: int, kind: str, minute: int, data: dict[str, Any],
              entity_id: str = VISIT_ID) -> dict[str, Any]:
    return {"id": _id(0x100 + seq), "seq": seq, "type": kind, "entity_id": entity_id,
            "visit_id": VISIT_ID, "base_version": 1, "occurred_at": AT.format(minute=minute),
            "data": data}


def _reading(seq: int, minute: int, data: dict[str, Any]) -> dict[str, Any]:
    """A vital sign: a new record (its own id), taken with the round at 09:10."""
    return _mutation(seq, "vitals.record", minute,
                     {**data, "taken_at": AT.format(minute=10)}, entity_id=_id(0x200 + seq))


def mutations() -> list[dict[str, Any]]:
    """Check-in, one round of vital signs (a value, a panel, a coded answer), a note,
    check-out and signature: each a mutation a conforming client sends as it is here."""
    where = {**HOME, "accuracy_m": 8.0}
    return [
        _mutation(1, "visit.check_in", 2, {"at": AT.format(minute=2), "location": where}),
        _reading(2, 10, {"code": "8867-4", "value": 72, "unit": "/min"}),
        # A panel: the unit is the panel's (top level) and each component's too.
        _reading(3, 10, {"code": "85354-9", "unit": "mm[Hg]", "components": [
            {"code": "8480-6", "value": 118, "unit": "mm[Hg]"},
            {"code": "8462-4", "value": 76, "unit": "mm[Hg]"}]}),
        # A coded reading: ``answer`` instead of ``value``, with its own unit.
        _reading(4, 10, {"code": "67775-7", "answer": "alert", "unit": "{ACVPU}"}),
        _mutation(5, "visit.note", 20, {"category": "assessment",
                                        "text": "Site clean and dry; patient comfortable."},
                  entity_id=_id(0x305)),
        _mutation(6, "visit.check_out", 55, {"at": AT.format(minute=55), "location": where}),
        _mutation(7, "visit.sign", 56, {"at": AT.format(minute=56),
                                        "attestation": "I attest this documentation is "
                                                       "accurate."}),
    ]


def plaintext(device_clock: str) -> str:
    """The batch as the device serialises it (compact separators)."""
    return json.dumps({"schema_version": 1, "device_clock": device_clock,
                       "app_version": "1.1.0", "mutations": mutations()},
                      separators=(",", ":"))


def push_vector(device_id: str, server_hpke: X25519PrivateKey, signer: Ed25519PrivateKey,
                seal: Any, ephemeral: X25519PrivateKey) -> dict[str, Any]:
    """The batch sealed (with a fixed ephemeral key, via ``seal``) and signed."""
    text = plaintext("2026-12-08T14:58:00Z")
    info = envelope.push_info(device_id, BATCH_ID)
    sealed = envelope.b64u_encode(seal(text.encode(), server_hpke.public_key(), info,
                                       ephemeral))
    return {
        "server_hpke_private_key": envelope.x25519_private_key_to_b64u(server_hpke),
        "server_hpke_public_key": envelope.x25519_public_key_to_b64u(server_hpke.public_key()),
        "key_id": HPKE_KEY_ID,
        "device_signing_private_key": envelope.ed25519_private_key_to_b64u(signer),
        "device_signing_public_key": envelope.ed25519_public_key_to_b64u(signer.public_key()),
        "batch_id": BATCH_ID, "hpke_info_hex": info.hex(),
        "ephemeral_private_key": envelope.x25519_private_key_to_b64u(ephemeral),
        "plaintext": text,
        "body": {"protocol": 1, "device_id": device_id, "batch_id": BATCH_ID,
                 "key_id": HPKE_KEY_ID, "sealed": sealed,
                 "signature": envelope.sign_push(signer, device_id, BATCH_ID, HPKE_KEY_ID,
                                                 sealed)},
        "signed_message": envelope.push_signed_message(
            device_id, BATCH_ID, HPKE_KEY_ID, sealed).decode("ascii"),
    }
