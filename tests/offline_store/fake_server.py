"""An in-process stand-in for the server's device endpoints, and a transport that loses things.

It implements just enough of protocol v1.1 to drive the client: enrolment, push (signature,
envelope, idempotent batches compared by plaintext, per-mutation results), pull (scripted
pages, sealed to a device that enrolled an HPKE key, signed), the keys, and every other
answer signed for its request like the server's (``sign_answers=False``: a server, or a
proxy, that sends them unsigned). Integration tests against the
real server replace it once that exists.
"""

from __future__ import annotations

import gzip
import json
import urllib.parse
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from offline_store.errors import TransportError
from offline_store.transport import Response, Transport
from schemas import json_schemas
from server import wire_check
from sync import compression, envelope, response_signature, sealed_pull


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    """A JSON response as the server would send it."""
    return Response(status, json.dumps(body).encode(), headers or {})


def error_response(status: int, code: str, details: dict[str, Any] | None = None) -> Response:
    """The server's one error shape."""
    error = {"code": code, "message": code, "details": details or {}}
    return json_response(status, {"error": error})


@dataclass
class Device:
    """A device the fake server enrolled."""

    device_id: str
    signing_key: str
    hpke_key: str | None = None
    revoked: bool = False
    retired: bool = False


@dataclass
class FakeServer:
    """Implements ``Transport`` by answering requests itself, recording what it received."""

    max_batch_mutations: int = 50
    max_body_bytes: int = 1_000_000
    gzip_pulls: bool = False
    seal_pulls: bool = True  # False: a server (or proxy) that sends v1.1 devices plain pages
    push_encodings: tuple[str, ...] = ()  # ("zlib",): a v1.1 server that reads compressed
    answer_ids_upper: bool = False  # True: answer a push naming its batch id in upper case
    sign_answers: bool = True  # False: answers other than a pull's 200 arrive unsigned
    # False: a server older than GET /sync/push/{batch_id}, whose router answers an
    # unsigned 404 outside the sync endpoints.
    answers_outcomes: bool = True
    hpke_keys: dict[str, X25519PrivateKey] = field(default_factory=dict)
    signing_key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    signing_key_id: str = "sig-1"
    codes: set[str] = field(default_factory=set)
    devices: dict[str, Device] = field(default_factory=dict)
    batches: dict[str, tuple[bytes, dict[str, Any]]] = field(default_factory=dict)
    applied: dict[str, dict[str, Any]] = field(default_factory=dict)
    verdicts: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Push answers are checked against push-result.schema.json, as the real server's are;
    # a test of the client against answers off the contract turns it off.
    shapes_checked: bool = True
    pages: dict[str | None, dict[str, Any]] = field(default_factory=dict)
    expired_cursors: set[str] = field(default_factory=set)
    # A server restored from a backup: pulls with these cursors answer 410 with the reason
    # feed_behind_cursor, and the next push says it lacks ``missing_seqs`` numbers (once).
    behind_cursors: set[str] = field(default_factory=set)
    missing_seqs: int = 0
    queued: list[tuple[str, Response]] = field(default_factory=list)
    requests: list[tuple[str, str, bytes | None]] = field(default_factory=list)
    pushed: list[tuple[str, bytes]] = field(default_factory=list)
    pulled_cursors: list[str | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.hpke_keys:
            self.hpke_keys["hpke-1"] = X25519PrivateKey.generate()

    def issue_code(self) -> str:
        """A one-time enrolment code."""
        code = uuid.uuid4().hex[:8]
        self.codes.add(code)
        return code

    def rotate_hpke_key(self, *, drop_old: bool) -> str:
        """Add a new current HPKE key (optionally forgetting the others); return its id."""
        key_id = f"hpke-{len(self.hpke_keys) + 1}"
        if drop_old:
            self.hpke_keys.clear()
        self.hpke_keys[key_id] = X25519PrivateKey.generate()
        return key_id

    def published_keys(self) -> list[dict[str, Any]]:
        """The HPKE keys as devices see them, the newest marked current."""
        ids = list(self.hpke_keys)
        return [{"key_id": key_id, "suite": envelope.SUITE_NAME, "current": key_id == ids[-1],
                 "public_key": envelope.x25519_public_key_to_b64u(
                     self.hpke_keys[key_id].public_key())} for key_id in ids]

    def fail_next(self, path_suffix: str, response: Response) -> None:
        """Answer the next request whose path ends with ``path_suffix`` with ``response``."""
        self.queued.append((path_suffix, response))

    def request(self, method: str, url: str, headers: Mapping[str, str],
                body: bytes | None) -> Response:
        """Route one request like the real server would, and sign the answer for it."""
        if not self.answers_outcomes and "/sync/push/" in url:
            self.requests.append((method, urllib.parse.urlsplit(url).path, body))
            return error_response(404, "not_found")
        response = self._route(method, url, headers, body)
        device = self.devices.get(headers.get("Authorization", "").removeprefix("Bearer "))
        return self.signed_for(response, device.device_id if device else "",
                               headers.get(response_signature.NONCE_HEADER, ""))

    def signed_for(self, response: Response, device_id: str, nonce: str) -> Response:
        """``response`` signed for that device's request with that nonce (if not already)."""
        if not self.sign_answers or "Infusync-Signature" in response.headers:
            return response
        sig = response_signature.sign_response(self.signing_key, device_id, nonce,
                                               response.status, response.body)
        header = envelope.pull_signature_header(self.signing_key_id, sig)
        return Response(response.status, response.body,
                        {**response.headers, "Infusync-Signature": header})

    def _route(self, method: str, url: str, headers: Mapping[str, str],
               body: bytes | None) -> Response:
        parts = urllib.parse.urlsplit(url)
        self.requests.append((method, parts.path, body))
        for index, (suffix, queued) in enumerate(self.queued):
            if parts.path.endswith(suffix):
                del self.queued[index]
                return queued
        if parts.path == "/api/v1/devices/enroll":
            return self._enroll(json.loads(body or b"{}"))
        device = self.devices.get(headers.get("Authorization", "").removeprefix("Bearer "))
        if device is None:
            return error_response(401, "unauthorized")
        if device.revoked:
            return error_response(403, "device_revoked", {"command": {"type": "wipe"}})
        if parts.path == "/api/v1/sync/push":
            return self._push(device, body or b"")
        if parts.path.startswith("/api/v1/sync/push/"):
            return self._outcome(parts.path.rsplit("/", 1)[1])
        if parts.path == "/api/v1/sync/keys":
            return json_response(200, self.keys_document())
        query = dict(urllib.parse.parse_qsl(parts.query))
        return self._pull(device, query.get("cursor"))

    def keys_document(self) -> dict[str, Any]:
        """What ``GET /sync/keys`` answers: HPKE keys and the signing key (no rotation)."""
        public = envelope.ed25519_public_key_to_b64u(self.signing_key.public_key())
        return {"hpke_keys": self.published_keys(),
                "signing_key": {"key_id": self.signing_key_id, "public_key": public},
                "signing_keys": [{"key_id": self.signing_key_id, "public_key": public,
                                  "not_before": None, "endorsed_by": None,
                                  "endorsement": None}]}

    def _enroll(self, body: dict[str, Any]) -> Response:
        if body.get("code") not in self.codes:
            return error_response(404, "unknown_code")
        self.codes.discard(body["code"])
        token, device_id = uuid.uuid4().hex, str(uuid.uuid4())
        self.devices[token] = Device(device_id, body["signing_key"], body.get("hpke_key"))
        return json_response(201, {
            "device_id": device_id, "token": token,
            "server": {"hpke_keys": self.published_keys(), "signing_key": {
                "key_id": self.signing_key_id,
                "public_key": envelope.ed25519_public_key_to_b64u(self.signing_key.public_key()),
            }, **({"push_encodings": list(self.push_encodings)} if self.push_encodings else {})},
            "policy": {"max_offline_hours": 72, "max_batch_mutations": self.max_batch_mutations,
                       "max_body_bytes": self.max_body_bytes},
        })

    def _push(self, device: Device, raw: bytes) -> Response:
        if len(raw) > self.max_body_bytes:
            return error_response(413, "too_large")
        body = json.loads(raw)
        batch_id, key_id, sealed = body["batch_id"], body["key_id"], body["sealed"]
        try:
            envelope.verify_push(envelope.ed25519_public_key_from_b64u(device.signing_key),
                                 body["signature"], device.device_id, batch_id, key_id, sealed)
        except envelope.BadSignature:
            return error_response(422, "bad_signature")
        if key_id not in self.hpke_keys:
            return error_response(409, "unknown_key", {"hpke_keys": self.published_keys()})
        try:
            plaintext = envelope.open_sealed(sealed, self.hpke_keys[key_id], device.device_id,
                                             batch_id)
        except envelope.EnvelopeDoesNotOpen:
            return error_response(422, "envelope_does_not_open")
        if "encoding" in body and body["encoding"] not in self.push_encodings:
            return error_response(400, "malformed_envelope")
        return self._answer(batch_id, self._inflated(body, plaintext))

    def _outcome(self, batch_id: str) -> Response:
        """``GET /sync/push/{batch_id}``: the stored answer, or 404 ``batch_unknown``."""
        if batch_id not in self.batches:
            return error_response(404, "batch_unknown")
        return json_response(200, self.batches[batch_id][1])

    def _inflated(self, body: dict[str, Any], plaintext: bytes) -> bytes:
        """The batch's JSON: inflated when the envelope declares zlib (v1.1)."""
        if "encoding" not in body:
            return plaintext
        return compression.inflate(plaintext, self.max_body_bytes)

    def _answer(self, batch_id: str, plaintext: bytes) -> Response:
        self.pushed.append((batch_id, plaintext))
        if batch_id in self.batches:
            first, answer = self.batches[batch_id]
            if first != plaintext:
                return error_response(422, "batch_mismatch")
            return json_response(200, answer)
        mutations = json.loads(plaintext)["mutations"]
        if len(mutations) > self.max_batch_mutations:
            return error_response(413, "too_many_mutations")
        answered_id = batch_id.upper() if self.answer_ids_upper else batch_id
        answer = {"batch_id": answered_id, "results": [self._apply(m) for m in mutations],
                  "server_time": "2026-11-23T13:00:00Z"}
        if self.missing_seqs:
            answer["missing_seqs"], self.missing_seqs = self.missing_seqs, 0
        if self.shapes_checked:
            wire_check.check(json_schemas.PUSH_RESULT, answer)
        self.batches[batch_id] = (plaintext, answer)
        return json_response(200, answer)

    def _apply(self, mutation: dict[str, Any]) -> dict[str, Any]:
        """A result in the documented shape (the push answer is checked against
        push-result.schema.json like the real server's); ``verdicts`` script others."""
        if mutation["id"] in self.applied:
            return {"id": mutation["id"], "status": "duplicate", "outcome": "applied",
                    **self._versions(self.applied[mutation["id"]]), "flags": []}
        verdict = self.verdicts.get(mutation["type"])
        if verdict is not None:
            return {"id": mutation["id"], "flags": [], **verdict}
        self.applied[mutation["id"]] = mutation
        return {"id": mutation["id"], "status": "applied", **self._versions(mutation),
                "flags": []}

    @staticmethod
    def _versions(mutation: dict[str, Any]) -> dict[str, int]:
        """A new record's version, and the visit's as one more than the device saw."""
        if mutation.get("visit_id") is None:
            return {"version": 1}
        return {"version": 1, "visit_version": (mutation.get("base_version") or 0) + 1}

    def _pull(self, device: Device, cursor: str | None) -> Response:
        self.pulled_cursors.append(cursor)
        if device.retired:
            return error_response(403, "device_retired")
        if cursor in self.expired_cursors:
            return error_response(410, "cursor_expired")
        if cursor in self.behind_cursors:
            return error_response(410, "cursor_expired", {"reason": "feed_behind_cursor"})
        # Past the scripted pages the feed is quiet: no changes, the cursor stays put.
        quiet = {"changes": [], "cursor": cursor or "c0", "has_more": False, "snapshot": False}
        page = {**self.pages.get(cursor, quiet), "server_time": "2026-11-23T13:00:00Z"}
        body = json.dumps(page).encode()
        if device.hpke_key is not None and self.seal_pulls:
            body = self.sealed(body, device, cursor or "")
        return self.signed(body)

    def sealed(self, plaintext: bytes, device: Device, cursor: str) -> bytes:
        """The v1.1 body of ``plaintext`` sealed to ``device`` for ``cursor``."""
        assert device.hpke_key is not None
        key = envelope.x25519_public_key_from_b64u(device.hpke_key)
        return sealed_pull.seal_pull(plaintext, key, device.device_id, cursor)

    def signed(self, body: bytes, *, key_id: str | None = None) -> Response:
        """A 200 pull response carrying ``body`` and its signature header."""
        sig = envelope.sign_pull(self.signing_key, body)
        headers = {"Infusync-Signature": envelope.pull_signature_header(
            key_id or self.signing_key_id, sig), "Content-Type": "application/json"}
        if self.gzip_pulls:
            headers["Content-Encoding"] = "gzip"
            body = gzip.compress(body)
        return Response(200, body, headers)


@dataclass
class FaultyTransport:
    """Wraps a transport and injects one scripted fault per request, then behaves."""

    inner: Transport
    faults: list[str] = field(default_factory=list)

    def request(self, method: str, url: str, headers: Mapping[str, str],
                body: bytes | None) -> Response:
        """``lose_request``: never arrives; ``lose_response``: arrives, answer lost;
        ``deliver_twice``: the network duplicates the request."""
        fault = self.faults.pop(0) if self.faults else "ok"
        if fault == "lose_request":
            raise TransportError("connection reset before the request arrived")
        response = self.inner.request(method, url, headers, body)
        if fault == "lose_response":
            raise TransportError("connection reset before the response arrived")
        if fault == "deliver_twice":
            response = self.inner.request(method, url, headers, body)
        return response
