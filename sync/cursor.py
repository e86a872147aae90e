"""Pull cursors: opaque to the device, authenticated by the server (HMAC-SHA256).

A cursor says where the device is in its nurse's feed (``position``), when its scope window
was last computed (``window_at``), and, during a snapshot, the last key sent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime

from sync.envelope import EnvelopeError, b64u_decode, b64u_encode

VERSION = 1
MAC_BYTES = 16


class InvalidCursor(Exception):
    """The cursor was not issued by this server (altered, truncated or from elsewhere)."""


@dataclass(frozen=True)
class Cursor:
    """Where a device stands in its pull."""

    nurse_id: str
    position: int
    window_at: datetime
    snapshot_after: tuple[int, str] | None = None


def encode(cursor: Cursor, key: bytes) -> str:
    """Serialise and authenticate ``cursor``."""
    body = json.dumps({
        "v": VERSION, "n": cursor.nurse_id, "p": cursor.position,
        "w": cursor.window_at.isoformat(),
        "s": list(cursor.snapshot_after) if cursor.snapshot_after else None,
    }, separators=(",", ":")).encode()
    mac = hmac.new(key, body, hashlib.sha256).digest()[:MAC_BYTES]
    return b64u_encode(mac + body)


def decode(text: str, key: bytes) -> Cursor:
    """Check and parse a cursor; raise ``InvalidCursor`` for anything not ours."""
    try:
        raw = b64u_decode(text)
    except EnvelopeError as exc:
        raise InvalidCursor("cursor is not base64url") from exc
    mac, body = raw[:MAC_BYTES], raw[MAC_BYTES:]
    if not hmac.compare_digest(mac, hmac.new(key, body, hashlib.sha256).digest()[:MAC_BYTES]):
        raise InvalidCursor("cursor was not issued by this server")
    try:
        data = json.loads(body)
        snapshot = data["s"]
        return Cursor(
            nurse_id=str(data["n"]), position=int(data["p"]),
            window_at=datetime.fromisoformat(data["w"]),
            snapshot_after=(int(snapshot[0]), str(snapshot[1])) if snapshot else None,
        )
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise InvalidCursor("cursor is malformed") from exc
