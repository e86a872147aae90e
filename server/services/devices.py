"""Device enrollment, device tokens, and retiring or revoking devices."""

from __future__ import annotations

import functools
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.orm import Session, joinedload

from server import audit
from server.database import SNAPSHOT_READ
from server.errors import AppError, Conflict, Forbidden, Invalid, Unauthorized
from server.models import Device, DeviceCommand, DeviceStatus, EnrollmentCode, Role, User
from server.services import enrollment_retry, server_keys, throttle
from server.services.records import Access, Page, get_one, list_page
from server.services.references import require_user
from server.tokens import new_token, token_hash
from sync.envelope import (
    EnvelopeError,
    ed25519_public_key_from_b64u,
    x25519_recipient_key_from_b64u,
)

# Unambiguous when read aloud or typed on a phone: no 0/O, 1/I/L.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12


@dataclass(frozen=True)
class SyncPolicy:
    """The limits a device is told at enrollment and the server enforces."""

    max_offline_hours: int
    max_batch_mutations: int
    max_body_bytes: int

    def as_dict(self) -> dict[str, int]:
        """The policy as sent to devices."""
        return {"max_offline_hours": self.max_offline_hours,
                "max_batch_mutations": self.max_batch_mutations,
                "max_body_bytes": self.max_body_bytes}


class DeviceRevoked(AppError):
    """A lost or stolen device: everything refused, and it is told to wipe itself."""

    status = 403
    code = "device_revoked"


class DeviceRetired(AppError):
    """A retired device may push what it holds but pulls nothing more."""

    status = 403
    code = "device_retired"


def _normalise(code: str) -> str:
    return code.replace("-", "").replace(" ", "").upper()


def issue_code(session: Session, nurse_id: uuid.UUID, access: Access,
               lifetime: timedelta) -> tuple[str, datetime]:
    """A one-time enrollment code for an active nurse (shown once, stored hashed)."""
    require_user(session, nurse_id, Role.NURSE, "user_id")
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    expires_at = access.now + lifetime
    session.add(EnrollmentCode(user_id=nurse_id, code_hash=token_hash(raw),
                               created_by=access.actor.user_id, created_at=access.now,
                               expires_at=expires_at))
    audit.record(session, access.actor, "issue_enrollment_code", "users", at=access.now,
                 entity_id=nurse_id)
    session.commit()
    return "-".join(raw[i:i + 4] for i in range(0, CODE_LENGTH, 4)), expires_at


def _redeem(session: Session, code: str, now: datetime) -> EnrollmentCode:
    """Mark the code used in one statement, so two devices cannot both redeem it."""
    hashed = token_hash(_normalise(code))
    used = session.execute(
        update(EnrollmentCode)
        .where(EnrollmentCode.code_hash == hashed, EnrollmentCode.used_at.is_(None),
               EnrollmentCode.expires_at > now)
        .values(used_at=now).returning(EnrollmentCode.id)
    ).scalar_one_or_none()
    if used is None:
        session.rollback()
        raise Unauthorized("This enrollment code is unknown, used or expired; ask your "
                           "coordinator for a new one.", code="invalid_enrollment_code")
    return session.get_one(EnrollmentCode, used)


def _redeem_throttled(session: Session, code: str, actor: audit.Actor, now: datetime,
                      limit: throttle.Limit) -> EnrollmentCode:
    """Redeem ``code`` unless this address has guessed too many; a refused code counts.

    Per address only: a wrong code matches no row, so it names no nurse to count against.
    """
    addr = throttle.address_key(actor.remote_addr)
    throttle.check_enrollment(session, addr, now, limit)
    try:
        return _redeem(session, code, now)
    except Unauthorized:
        throttle.record_enrollment_failure(session, addr, now, limit)
        audit.record(session, actor, "enroll", "devices", at=now, outcome="refused")
        session.commit()
        raise


def _check_keys(data: dict[str, Any]) -> None:
    """Refuse keys that do not load before the code is spent, so the nurse can retry."""
    try:
        ed25519_public_key_from_b64u(data["signing_key"])
    except EnvelopeError as exc:
        raise Invalid("signing_key must be a raw 32-byte Ed25519 key, base64url.",
                      {"signing_key": ["Not an Ed25519 public key."]}) from exc
    if "hpke_key" not in data:
        return  # a v1 device: its pulls stay plain, signed only
    try:
        x25519_recipient_key_from_b64u(data["hpke_key"])
    except EnvelopeError as exc:
        raise Invalid("hpke_key must be a raw 32-byte X25519 key, base64url.",
                      {"hpke_key": ["Not an X25519 public key."]}) from exc


def enroll(session: Session, data: dict[str, Any], actor: audit.Actor, now: datetime,
           data_key: bytes, policy: SyncPolicy, limit: throttle.Limit) -> dict[str, Any]:
    """Register a device for the code's nurse; returns its token (shown once) and keys."""
    _check_keys(data)
    throttle.check_enrollment(session, throttle.address_key(actor.remote_addr), now, limit)
    retried = enrollment_retry.replayed_device(
        session, token_hash(_normalise(data["code"])), data, now)
    if retried is not None:
        token = enrollment_retry.reissue_token(session, retried, actor, now)
        return _enrollment(session, retried, token, data_key, policy, now)
    code = _redeem_throttled(session, data["code"], actor, now, limit)
    if not session.get_one(User, code.user_id).active:
        session.rollback()
        raise Forbidden("The nurse's account is disabled.")
    token = new_token()
    device = Device(user_id=code.user_id, name=data["name"], platform=data["platform"],
                    app_version=data["app_version"], signing_key=data["signing_key"],
                    hpke_public_key=data.get("hpke_key"),
                    token_hash=token_hash(token), enrolled_at=now, last_seen_at=now)
    session.add(device)
    session.flush()
    code.device_id = device.id
    audit.record(session, audit.Actor(code.user_id, actor.remote_addr, actor.request_id,
                                      device.id), "enroll", "devices", at=now,
                 entity_id=device.id)
    session.commit()
    return _enrollment(session, device, token, data_key, policy, now)


def _enrollment(session: Session, device: Device, token: str, data_key: bytes,
                policy: SyncPolicy, now: datetime) -> dict[str, Any]:
    """The enrollment answer: device id, its token (shown once), server keys and policy."""
    server_keys.ensure_keys(session, data_key, now)
    return {"device_id": device.id, "token": token,
            "server": server_keys.public_keys(session, now), "policy": policy.as_dict()}


@functools.cache
def _device_of_token(pulling: bool) -> Select[Device]:
    """The device whose token hash is bound as ``token_hash``, built once per process.

    Every device request starts here: building the statement (and its cache key) for each
    one cost more CPU than running it. To pull, the device comes with its nurse (her
    account is checked below and her profile is in every snapshot).
    """
    stmt = select(Device).where(Device.token_hash == bindparam("token_hash"))
    return stmt.options(joinedload(Device.user)) if pulling else stmt


def authenticate(session: Session, token: str, now: datetime, *, pulling: bool) -> Device:
    """The device a token belongs to, refusing revoked (and, to pull, retired) devices."""
    device = session.scalar(_device_of_token(pulling), {"token_hash": token_hash(token)})
    if device is None:
        raise Unauthorized("Unknown device token; enroll the device again.")
    if device.status is DeviceStatus.REVOKED:
        _note_wipe_delivered(session, device, now)
        raise DeviceRevoked("This device was revoked. Its data must be wiped.",
                            {"command": {"type": "wipe"}})
    if pulling and device.status is DeviceStatus.RETIRED:
        raise DeviceRetired("This device was retired: push what it holds, then stop.")
    if pulling and not device.user.active:
        # Like a retired device: what she documented still arrives, nothing new goes out.
        raise DeviceRetired("This nurse's account is disabled: push what the device holds, "
                            "then stop.", code="account_disabled")
    return device


def device_id_of_token(session: Session, token: str) -> uuid.UUID | None:
    """The device a token belongs to, whatever its status: the device a response names.

    Read outside any write lock (SQLite: a plain BEGIN) when no transaction is open, since
    it runs for every response after the request's own work is done.
    """
    if not session.in_transaction() and session.get_bind().dialect.name == "sqlite":
        session.connection(execution_options={SNAPSHOT_READ: True})
    return session.scalar(select(Device.id).where(Device.token_hash == token_hash(token)))


def _note_wipe_delivered(session: Session, device: Device, now: datetime) -> None:
    """Record when a revoked device was first sent the wipe order (the column's name says
    "delivered"; nothing confirms the device received it or wiped, see docs/security.md)."""
    if device.wipe_delivered_at is not None:
        return
    device.wipe_delivered_at = now
    for command in session.scalars(select(DeviceCommand).where(
            DeviceCommand.device_id == device.id, DeviceCommand.delivered_at.is_(None))):
        command.delivered_at = now
    session.commit()


def list_devices(session: Session, filters: dict[str, Any], access: Access, page: int,
                 size: int) -> Page:
    """Enrolled devices, newest first."""
    stmt = select(Device).order_by(Device.enrolled_at.desc(), Device.id)
    if "user_id" in filters:
        stmt = stmt.where(Device.user_id == filters["user_id"])
    if "status" in filters:
        stmt = stmt.where(Device.status == DeviceStatus(filters["status"]))
    return list_page(session, stmt, access, "devices", page, size, lambda _d: None)


def change_status(session: Session, device_id: uuid.UUID, status: DeviceStatus,
                  access: Access) -> Device:
    """Retire or revoke a device; revoking also queues its wipe command."""
    device = get_one(session, Device, device_id, access, lambda _d: None, action="update")
    if device.status is DeviceStatus.REVOKED:
        raise Conflict("This device is already revoked.", code="device_revoked")
    device.status = status
    if status is DeviceStatus.RETIRED:
        device.retired_at = access.now
    else:
        device.revoked_at = access.now
        session.add(DeviceCommand(device_id=device.id, kind="wipe", created_at=access.now))
    audit.record(session, access.actor, status.value, "devices", at=access.now,
                 entity_id=device.id)
    session.commit()
    return device
