"""The measured nurse's device, pulling through the in-process app's test client.

Each request is timed around the test client call: routing, authentication, queries,
serialising, signing and gzip — the server's time, without a network.
"""

from __future__ import annotations

import gzip
import json
import time
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask.testing import FlaskClient

from sync import envelope

PULL = "/api/v1/sync/pull"


def enroll(client: FlaskClient, code: str) -> dict[str, Any]:
    """Enroll a device with ``code`` through the API; the enrollment response."""
    public = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw,
                                                                      PublicFormat.Raw)
    response = client.post("/api/v1/devices/enroll", json={
        "code": code, "name": "Measured phone", "platform": "ios", "app_version": "1.0.0",
        "signing_key": envelope.b64u_encode(public)})
    if response.status_code != 201:
        raise RuntimeError(f"enrollment failed: {response.get_json()}")
    return dict(response.get_json())


class Puller:
    """Pulls with an enrolled device's token and checks every page's signature."""

    def __init__(self, client: FlaskClient, enrollment: dict[str, Any]) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {enrollment['token']}",
                        "Accept-Encoding": "gzip"}
        self.server_key = envelope.ed25519_public_key_from_b64u(
            enrollment["server"]["signing_key"]["public_key"])

    def page(self, cursor: str, limit: int) -> tuple[float, dict[str, Any], int, int]:
        """(seconds, page, wire bytes, JSON bytes) of one pull request."""
        start = time.perf_counter()
        response = self.client.get(PULL, headers=self.headers,
                                   query_string={"cursor": cursor, "limit": limit})
        seconds = time.perf_counter() - start
        if response.status_code != 200:
            raise RuntimeError(f"pull failed: {response.status_code} {response.get_json()}")
        wire = response.data
        body = gzip.decompress(wire) if response.headers.get("Content-Encoding") else wire
        _key_id, signature = envelope.parse_pull_signature_header(
            response.headers["Infusync-Signature"])
        envelope.verify_pull(self.server_key, body, signature)
        return seconds, dict(json.loads(body)), len(wire), len(body)

    def pull_all(self, cursor: str, limit: int) -> dict[str, Any]:
        """Pages until ``has_more`` is false: total seconds, pages, bytes, changes, cursor."""
        total = {"seconds": 0.0, "pages": 0, "wire_bytes": 0, "json_bytes": 0, "changes": 0}
        while True:
            seconds, page, wire, size = self.page(cursor, limit)
            for key, value in (("seconds", seconds), ("pages", 1), ("wire_bytes", wire),
                               ("json_bytes", size), ("changes", len(page["changes"]))):
                total[key] += value
            cursor = page["cursor"]
            if not page["has_more"]:
                return {**total, "cursor": cursor}
