"""The server's HPKE and signing keys: created on first use, rotated by ``infusync keys``.

Private keys are stored encrypted under the data key, bound to their ``key_id``. A rotated
HPKE key keeps opening pushes until ``retire_after`` (at least ``max_offline_hours`` later):
a nurse offline for days must still be able to deliver what she sealed to the old key. A
rotated signing key is the reverse: the new key is announced (endorsed by the old one) and
signs only from ``not_before``, so devices hear of it before they need it.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.errors import Conflict
from server.models import KeyPurpose, ServerKey
from sync import at_rest, compression, response_signature
from sync.envelope import SUITE_NAME, b64u_encode


def _raw_private(key: X25519PrivateKey | Ed25519PrivateKey) -> bytes:
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def _new_key(purpose: KeyPurpose, data_key: bytes, now: datetime,
             key_id: str | None = None) -> ServerKey:
    private: X25519PrivateKey | Ed25519PrivateKey = (
        X25519PrivateKey.generate() if purpose is KeyPurpose.HPKE else Ed25519PrivateKey.generate()
    )
    key_id = key_id or f"{purpose.value}-{now:%Y%m%d}-{secrets.token_hex(3)}"
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return ServerKey(
        key_id=key_id, purpose=purpose, public_key=b64u_encode(public), created_at=now,
        private_key_sealed=at_rest.encrypt(data_key, _raw_private(private), key_id.encode()),
        current=True,
    )


def ensure_keys(session: Session, data_key: bytes, now: datetime) -> None:
    """Create the first HPKE and signing keys if there are none yet (idempotent).

    The first keys have fixed ids, so two workers racing here clash on the primary key
    instead of creating two current keys.
    """
    for purpose in KeyPurpose:
        if session.scalars(select(ServerKey.key_id).where(ServerKey.purpose == purpose)
                           ).first() is None:
            try:
                with session.begin_nested():
                    session.add(_new_key(purpose, data_key, now, f"{purpose.value}-initial"))
            except IntegrityError:
                continue
    session.commit()


def usable_hpke_keys(session: Session, now: datetime) -> list[ServerKey]:
    """HPKE keys that still open pushes: the current one and those not yet retired."""
    return list(session.scalars(
        select(ServerKey).where(
            ServerKey.purpose == KeyPurpose.HPKE,
            or_(ServerKey.current.is_(True), ServerKey.retire_after > now),
        ).order_by(ServerKey.created_at)
    ))


def hpke_private_key(key: ServerKey, data_key: bytes) -> X25519PrivateKey:
    """Decrypt an HPKE private key."""
    raw = at_rest.decrypt(data_key, key.private_key_sealed, key.key_id.encode())
    return X25519PrivateKey.from_private_bytes(raw)


# Decrypted signing keys by (key id, public key): every response signs, and decrypting the
# key each time was a tenth of a pull's cost. The public key tells databases apart.
_SIGNING_KEYS: dict[tuple[str, str], Ed25519PrivateKey] = {}


# When a signing key starts signing: its not_before, or its creation for the first key.
_SIGNS_FROM = func.coalesce(ServerKey.not_before, ServerKey.created_at)


def _signing_keys(session: Session) -> list[ServerKey]:
    """Every signing key in the order they sign: the chain of endorsements devices follow."""
    return list(session.scalars(select(ServerKey).where(
        ServerKey.purpose == KeyPurpose.SIGNING).order_by(_SIGNS_FROM, ServerKey.created_at)))


class _SignsFrom(Protocol):
    @property
    def not_before(self) -> datetime | None: ...


_K = TypeVar("_K", bound=_SignsFrom)


def _signs_at(keys: Sequence[_K], now: datetime) -> _K | None:
    """The key of ``keys`` (in signing order) that signs at ``now``: the last one past its
    ``not_before`` (the first key has none)."""
    signing = [k for k in keys if k.not_before is None or k.not_before <= now]
    return signing[-1] if signing else None


def _signing_private(key: ServerKey | _Signer, data_key: bytes) -> Ed25519PrivateKey:
    cached = _SIGNING_KEYS.get((key.key_id, key.public_key))
    if cached is None:
        raw = at_rest.decrypt(data_key, key.private_key_sealed, key.key_id.encode())
        cached = _SIGNING_KEYS[(key.key_id, key.public_key)] = (
            Ed25519PrivateKey.from_private_bytes(raw))
    return cached


@dataclass(frozen=True)
class _Signer:
    """What choosing and using a signing key needs, detached from any session."""

    key_id: str
    public_key: str
    not_before: datetime | None
    private_key_sealed: bytes


class SigningKeyring:
    """Which key signs, the keys read again after ``ttl`` (app clock) instead of per answer.

    Every device response is signed, and reading the signing keys was a query each time
    (about 5 % of a pull's CPU). Which key signs still follows ``now``: the keyring holds
    every signing key and picks as the keys endpoint does (``_signs_at``). A rotation adds
    a key that signs from ``now + grace``, whole hours (``infusync keys rotate-signing``),
    so every worker has re-read the keys long before it signs; after ``--grace-hours 0`` the other
    workers sign up to ``ttl`` seconds longer with the previous key, which every device
    still trusts until re-enrolled. The rotating process calls ``forget`` at once.
    """

    def __init__(self, ttl: timedelta = timedelta(seconds=10)) -> None:
        self._ttl = ttl
        self._read: tuple[datetime | None, tuple[_Signer, ...]] = (None, ())

    def forget(self) -> None:
        """Read the keys again at the next answer (after a rotation or first keys)."""
        self._read = (None, ())

    def _keys(self, session: Session, now: datetime) -> tuple[_Signer, ...]:
        """The keys as read less than ``ttl`` ago on the app's clock (which tests move)."""
        read_at, keys = self._read
        if read_at is not None and read_at <= now < read_at + self._ttl:
            return keys
        keys = tuple(_Signer(k.key_id, k.public_key, k.not_before, k.private_key_sealed)
                     for k in _signing_keys(session))
        # None yet: ask again next time, the first keys are being made.
        self._read = (now, keys) if keys else (None, ())
        return keys

    def signing_key(self, session: Session, data_key: bytes,
                    now: datetime) -> tuple[str, Ed25519PrivateKey]:
        """The key that signs at ``now``: the last, in signing order, past its not_before."""
        key = _signs_at(self._keys(session, now), now)
        if key is None:
            raise LookupError("no signing key: call ensure_keys first")
        return key.key_id, _signing_private(key, data_key)


def rotate_signing(session: Session, data_key: bytes, now: datetime,
                   grace: timedelta) -> ServerKey:
    """Announce a new signing key, endorsed by the last one; it signs from ``now + grace``.

    Endorsed by the last key in signing order (announced or not), so rotations chain
    without a gap.
    """
    previous = _signing_keys(session)[-1]
    if previous.not_before is not None and previous.not_before > now + grace:
        raise Conflict(f"Signing key {previous.key_id} is announced to sign from "
                       f"{previous.not_before.isoformat()}; a new key must start after it.",
                       code="signing_key_announced")
    key = _new_key(KeyPurpose.SIGNING, data_key, now)
    key.not_before = now + grace
    key.endorsed_by = previous.key_id
    key.endorsement = response_signature.endorse(
        _signing_private(previous, data_key), key.key_id, key.public_key)
    session.add(key)
    session.commit()
    return key


def _rfc3339(moment: datetime | None) -> str | None:
    """A time as devices read it (the JSON encoder would write an HTTP date)."""
    return moment.isoformat() if moment is not None else None


def public_keys(session: Session, now: datetime) -> dict[str, Any]:
    """What devices are told: usable HPKE keys (the current one marked), the key that signs
    now, and every signing key with its endorsement (announced ones included)."""
    every = _signing_keys(session)
    signing = _signs_at(every, now)
    return {
        "hpke_keys": [
            {"key_id": k.key_id, "public_key": k.public_key, "suite": SUITE_NAME,
             "current": k.current, "retire_after": _rfc3339(k.retire_after)}
            for k in usable_hpke_keys(session, now)
        ],
        "signing_key": {"key_id": signing.key_id, "public_key": signing.public_key}
        if signing else None,
        "signing_keys": [
            {"key_id": k.key_id, "public_key": k.public_key,
             "not_before": _rfc3339(k.not_before),
             "endorsed_by": k.endorsed_by, "endorsement": k.endorsement}
            for k in every
        ],
        # v1.1: how a push's plaintext may be compressed; a v1 device ignores it.
        "push_encodings": list(compression.ENCODINGS),
    }


def rotate_hpke(session: Session, data_key: bytes, now: datetime,
                grace: timedelta) -> ServerKey:
    """Add a new current HPKE key; the old one opens pushes until ``now + grace``."""
    for old in session.scalars(select(ServerKey).where(
            ServerKey.purpose == KeyPurpose.HPKE, ServerKey.current.is_(True))):
        old.current = False
        old.retire_after = now + grace
    key = _new_key(KeyPurpose.HPKE, data_key, now)
    session.add(key)
    session.commit()
    return key
