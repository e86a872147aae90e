"""Bytes on the wire per mutation type: a push body sealed plain (v1) and compressed (v1.1).

A batch of ``BATCH`` mutations of one type, as a nurse's day makes them (a handful of
visits, a new entity per record), sealed and signed exactly as a device does, then the
whole JSON body measured and divided by the count. No server: the size does not depend on
one, and the ratio is what the issue asks.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from bench.vitals import DEVICE_OFFSET, reading
from sync import compression, envelope

BATCH = 200
VISITS_A_DAY = 6
START = datetime(2026, 11, 23, 8, 0, tzinfo=DEVICE_OFFSET)
GOAL_VITALS_BYTES = 250


def _at(index: int) -> str:
    return (START + timedelta(minutes=7 * index)).isoformat()


def _infusion(index: int) -> dict[str, Any]:
    return {"order_id": str(uuid.uuid4()), "medication": "ceftriaxone", "dose": 2,
            "dose_unit": "g", "route": "IV", "lot_number": f"L{1200 + index % 7}",
            "lot_expiry": "2027-01-31",
            "access": {"device_type": "picc", "site": "right basilic", "flushed_before": True,
                       "flushed_after": True,
                       "site_assessment": {"phlebitis_score": 0, "infiltration_score": 0}},
            "pump": {"serial": f"CS-10{4200 + index % 9}", "programmed_rate_ml_h": 100,
                     "vtbi_ml": 100},
            "started_at": _at(index), "stopped_at": _at(index + 8), "volume_infused_ml": 100,
            "adverse_reaction": {"occurred": False, "description": None,
                                 "actions_taken": None},
            "notes": "Tolerated well, no complaints."}


_LOCATION = {"latitude": 39.7817, "longitude": -89.6501, "accuracy_m": 8}
# (type, data of the index-th one, whether entity_id is the visit's)
KINDS: dict[str, tuple[Callable[[int], dict[str, Any]], bool]] = {
    "visit.check_in": (lambda i: {"at": _at(i), "location": _LOCATION}, True),
    "vitals.record": (lambda i: reading(i, START + timedelta(minutes=7 * i)), False),
    "infusion.record": (_infusion, False),
    "visit.note": (lambda i: {"category": "assessment", "text": (
        "PICC dressing clean, dry and intact. Patient reports mild fatigue; "
        "encouraged fluids. Next visit as scheduled.")}, False),
    "visit.sign": (lambda i: {"at": _at(i), "attestation": (
        "I attest that this documentation is accurate and complete.")}, True),
}


def _batch(kind: str) -> bytes:
    """The plaintext of ``BATCH`` mutations of ``kind``, as the reference client writes it."""
    make, on_visit = KINDS[kind]
    visits = [str(uuid.uuid4()) for _ in range(VISITS_A_DAY)]
    mutations = []
    for index in range(BATCH):
        visit = visits[index * VISITS_A_DAY // BATCH]
        mutations.append({"id": str(uuid.uuid4()), "seq": 1000 + index, "type": kind,
                          "entity_id": visit if on_visit else str(uuid.uuid4()),
                          "visit_id": visit, "base_version": None,
                          "occurred_at": _at(index), "data": make(index)})
    return json.dumps({"schema_version": 1, "device_clock": "2026-11-24T06:30:00-05:00",
                       "app_version": "1.1.0", "mutations": mutations},
                      separators=(",", ":")).encode()


def _body_bytes(plaintext: bytes, compressed: bool) -> int:
    """The size of the push body a device sends for ``plaintext``."""
    server, signing = X25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    device_id, batch_id = str(uuid.uuid4()), str(uuid.uuid4())
    sealed = envelope.seal(compression.compress(plaintext) if compressed else plaintext,
                           server.public_key(), device_id, batch_id)
    body = {"protocol": 1, "device_id": device_id, "batch_id": batch_id, "key_id": "hpke-1",
            "sealed": sealed,
            "signature": envelope.sign_push(signing, device_id, batch_id, "hpke-1", sealed)}
    if compressed:
        body["encoding"] = compression.ZLIB
    return len(json.dumps(body, separators=(",", ":")).encode())


def run() -> dict[str, Any]:
    """Bytes per mutation of each type in a batch of ``BATCH``, plain and compressed."""
    kinds = {}
    for kind in KINDS:
        plaintext = _batch(kind)
        plain, zipped = _body_bytes(plaintext, False), _body_bytes(plaintext, True)
        kinds[kind] = {"plain_per_mutation": round(plain / BATCH, 1),
                       "zlib_per_mutation": round(zipped / BATCH, 1),
                       "ratio": round(zipped / plain, 3)}
    return {"batch": BATCH, "kinds": kinds, "goal_vitals_bytes": GOAL_VITALS_BYTES,
            "vitals_met": kinds["vitals.record"]["zlib_per_mutation"] <= GOAL_VITALS_BYTES}
