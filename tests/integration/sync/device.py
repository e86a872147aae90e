"""A minimal device for driving the sync API: the protocol, over any client.

The integration tests hand it the Flask test client; ``bench`` hands it a small HTTP client
(``bench/transport.py``) with the same ``post``/``get`` shape, so the enrollment, sealing
and signing a benchmark measures are the ones the tests check.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from sync import envelope, sealed_pull

OCCURRED_AT = "2026-11-23T09:05:00-05:00"  # the test clock's Monday 09:05 on the nurse's phone


class Response(Protocol):
    """What the device reads of a response (a subset of werkzeug's ``TestResponse``)."""

    @property
    def status_code(self) -> int: ...

    @property
    def data(self) -> bytes: ...

    @property
    def headers(self) -> Any: ...

    def get_json(self) -> Any: ...


class Client(Protocol):
    """What the device needs of a client (a subset of Flask's test client)."""

    def post(self, *args: Any, **kwargs: Any) -> Response: ...

    def get(self, *args: Any, **kwargs: Any) -> Response: ...


class TestDevice:
    """Enrolls, seals and signs batches, verifies pulls — the protocol, nothing more."""

    __test__ = False  # not a test class

    def __init__(self, client: Client, *, sealed: bool = False) -> None:
        self.client = client
        self.key = Ed25519PrivateKey.generate()
        # Protocol v1.1: enroll an X25519 key too, and every pull arrives sealed to it.
        self.hpke = X25519PrivateKey.generate() if sealed else None
        self.seq = 0
        self.enrollment: dict[str, Any] = {}

    @property
    def device_id(self) -> str:
        return str(self.enrollment["device_id"])

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.enrollment['token']}"}

    def enroll(self, code: str) -> Any:
        public = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        body = {"code": code, "name": "Test phone", "platform": "android",
                "app_version": "1.0.0", "signing_key": envelope.b64u_encode(public)}
        if self.hpke is not None:
            body["hpke_key"] = envelope.x25519_public_key_to_b64u(self.hpke.public_key())
        response = self.client.post("/api/v1/devices/enroll", json=body)
        if response.status_code == 201:
            self.enrollment = response.get_json()
        return response

    def mutation(self, kind: str, visit_id: Any, data: dict[str, Any],
                 entity_id: Any = None, base_version: int | None = None,
                 occurred_at: str = OCCURRED_AT) -> dict[str, Any]:
        self.seq += 1
        return {"id": str(uuid.uuid4()), "seq": self.seq, "type": kind,
                "entity_id": str(entity_id or visit_id), "visit_id": str(visit_id),
                "base_version": base_version, "occurred_at": occurred_at, "data": data}

    def plaintext(self, mutations: list[dict[str, Any]], clock: datetime | None = None) -> bytes:
        return json.dumps({
            "schema_version": 1,
            "device_clock": (clock or datetime(2026, 11, 23, 13, 0, tzinfo=UTC)).isoformat(),
            "app_version": "1.0.0", "mutations": mutations}).encode()

    def body(self, plaintext: bytes, batch_id: str | None = None,
             key_id: str | None = None, encoding: str | None = None) -> dict[str, Any]:
        """The push envelope of ``plaintext`` sealed as given; ``encoding`` declares how it
        was compressed (v1.1), the caller having compressed it."""
        batch_id = batch_id or str(uuid.uuid4())
        hpke = next(k for k in self.enrollment["server"]["hpke_keys"] if k["current"])
        key_id = key_id or hpke["key_id"]
        public = envelope.x25519_public_key_from_b64u(hpke["public_key"])
        sealed = envelope.seal(plaintext, public, self.device_id, batch_id)
        signature = envelope.sign_push(self.key, self.device_id, batch_id, key_id, sealed)
        body = {"protocol": 1, "device_id": self.device_id, "batch_id": batch_id,
                "key_id": key_id, "sealed": sealed, "signature": signature}
        if encoding is not None:
            body["encoding"] = encoding
        return body

    def push(self, mutations: list[dict[str, Any]], **kwargs: Any) -> Any:
        return self.client.post("/api/v1/sync/push", headers=self.headers,
                                json=self.body(self.plaintext(mutations), **kwargs))

    def pull(self, cursor: str = "", limit: int = 500) -> Any:
        response = self.client.get("/api/v1/sync/pull", headers=self.headers,
                                   query_string={"cursor": cursor, "limit": limit})
        if response.status_code == 200:
            key_id, sig = envelope.parse_pull_signature_header(
                response.headers["Infusync-Signature"])
            signing = self.enrollment["server"]["signing_key"]
            assert key_id == signing["key_id"]
            envelope.verify_pull(envelope.ed25519_public_key_from_b64u(signing["public_key"]),
                                 response.data, sig)
        return response

    def opened(self, response: Response, cursor: str = "") -> Any:
        """The page inside a v1.1 pull response, opened with this device's key."""
        assert self.hpke is not None, "a v1 device's page is response.get_json()"
        return json.loads(sealed_pull.open_pull(response.data, self.hpke, self.device_id,
                                                cursor))

    def pull_all(self, cursor: str = "") -> tuple[dict[tuple[str, str], Any], str]:
        """Pull until has_more is false; returns {(type, id): data} and the final cursor."""
        held: dict[tuple[str, str], Any] = {}
        while True:
            response = self.pull(cursor)
            page = response.get_json() if self.hpke is None else self.opened(response, cursor)
            for change in page["changes"]:
                key = (change["type"], change["id"])
                if change["op"] == "upsert":
                    held[key] = change["data"]
                else:
                    held.pop(key, None)
            cursor = page["cursor"]
            if not page["has_more"]:
                return held, cursor
