"""A lost enrollment response, answered again: the same code, the same keys, a short while.

The device keeps the keys it generated until an enrollment answer arrives, so a retry
sends the same request. Without this the first request used up the code and left an
active device on the server whose token nobody holds; the nurse had to fetch a new code.
The retry is recognised by the code (already used, within ``RETRY_WINDOW`` of its use)
and the device's public keys: only whoever generated the private keys asked with them.
A device that has pushed or pulled since holds its token, so it is never answered again.
The token is replaced: the one sent first never arrived (or is forgotten now).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import audit
from server.models import Device, DeviceStatus, EnrollmentCode
from server.tokens import new_token, token_hash

RETRY_WINDOW = timedelta(minutes=10)


def replayed_device(session: Session, code_hash: str, data: dict[str, Any],
                    now: datetime) -> Device | None:
    """The device this very request enrolled moments ago, if it is a retry; else None."""
    code = session.scalar(select(EnrollmentCode).where(
        EnrollmentCode.code_hash == code_hash, EnrollmentCode.used_at.is_not(None),
        EnrollmentCode.device_id.is_not(None)))
    if code is None or code.used_at is None or _aware(code.used_at) + RETRY_WINDOW <= now:
        return None
    device = session.get(Device, code.device_id)
    if device is None or device.status is not DeviceStatus.ACTIVE or not device.user.active:
        return None
    if device.last_push_at is not None or device.last_pull_at is not None:
        return None
    if (device.signing_key, device.hpke_public_key) != (data["signing_key"],
                                                        data.get("hpke_key")):
        return None
    return device


def reissue_token(session: Session, device: Device, actor: audit.Actor,
                  now: datetime) -> str:
    """A new token for a device whose enrollment answer was lost; the old one stops."""
    token = new_token()
    device.token_hash = token_hash(token)
    audit.record(session, audit.Actor(device.user_id, actor.remote_addr, actor.request_id,
                                      device.id), "enroll_retry", "devices", at=now,
                 entity_id=device.id)
    session.commit()
    return token


def _aware(moment: datetime) -> datetime:
    """SQLite returns naive UTC datetimes; compare them as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
