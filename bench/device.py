"""A device talking to a real server over HTTP: enroll, seal and sign batches, push."""

from __future__ import annotations

import http.client
import json
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from bench import vitals
from sync import envelope


class HttpDevice:
    """One enrolled device with its own Ed25519 key and mutation sequence."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        # gunicorn's sync workers close each connection; http.client reopens it.
        self.connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1",
                                                     parts.port, timeout=300)
        self.key = Ed25519PrivateKey.generate()
        self.seq = 0
        self.enrollment: dict[str, Any] = {}

    @property
    def device_id(self) -> str:
        """The id the server gave this device."""
        return str(self.enrollment["device_id"])

    def request(self, method: str, path: str, body: bytes | None = None,
                token: str | None = None) -> tuple[int, Any]:
        """Send one JSON request; return the status and the decoded body."""
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else None

    def enroll(self, code: str) -> None:
        """Redeem an enrollment code with this device's public key."""
        public = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        status, body = self.request("POST", "/api/v1/devices/enroll", json.dumps({
            "code": code, "name": "Bench phone", "platform": "android", "app_version": "1.0.0",
            "signing_key": envelope.b64u_encode(public)}).encode())
        if status != 201:
            raise RuntimeError(f"enrollment failed: {status} {body}")
        self.enrollment = body

    def vitals_mutation(self, visit_id: str, now: datetime) -> dict[str, Any]:
        """A ``vitals.record`` mutation with a fresh entity id on ``visit_id``."""
        self.seq += 1
        return {"id": str(uuid.uuid4()), "seq": self.seq, "type": "vitals.record",
                "entity_id": str(uuid.uuid4()), "visit_id": visit_id, "base_version": None,
                "occurred_at": now.astimezone(vitals.DEVICE_OFFSET).isoformat(),
                "data": vitals.reading(self.seq, now)}

    def sealed_body(self, mutations: list[dict[str, Any]]) -> bytes:
        """The push body: the batch sealed to the current server key, signed by this device."""
        plaintext = json.dumps({"schema_version": 1,
                                "device_clock": datetime.now(UTC).isoformat(),
                                "app_version": "1.0.0", "mutations": mutations}).encode()
        batch_id = str(uuid.uuid4())
        hpke = next(k for k in self.enrollment["server"]["hpke_keys"] if k["current"])
        public = envelope.x25519_public_key_from_b64u(hpke["public_key"])
        sealed = envelope.seal(plaintext, public, self.device_id, batch_id)
        signature = envelope.sign_push(self.key, self.device_id, batch_id, hpke["key_id"],
                                       sealed)
        return json.dumps({"protocol": 1, "device_id": self.device_id, "batch_id": batch_id,
                           "key_id": hpke["key_id"], "sealed": sealed,
                           "signature": signature}).encode()

    def push(self, body: bytes) -> dict[str, Any]:
        """Push one sealed body; the decoded response (raises unless 200)."""
        status, result = self.request("POST", "/api/v1/sync/push", body,
                                      self.enrollment["token"])
        if status != 200:
            raise RuntimeError(f"push failed: {status} {result}")
        return dict(result)
