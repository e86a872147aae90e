"""The TOTP secret (sealed under the data key), code checks, and one-time recovery codes.

The secret is AES-256-GCM under the data key (``sync.at_rest``) bound to its row's id: a
database dump holds no usable secret, and a sealed secret copied onto another user's row
does not open. It is never logged nor audited.

Recovery codes hold 100 random bits each, so a fast hash (SHA-256) is enough: nobody can
search that space, unlike a password's. They are shown once, at confirmation.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime
from typing import Literal

import pyotp
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from server.models import MfaCredential, MfaRecoveryCode, User
from sync import at_rest

VALID_WINDOW = 1  # one 30-second step either side, for the drift of a phone's clock
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # base32: 5 bits a character
RECOVERY_LENGTH = 20  # 100 bits

Method = Literal["totp", "recovery_code"]


def _associated(credential_id: uuid.UUID) -> bytes:
    return b"mfa_credentials\x00" + credential_id.bytes


def open_secret(credential: MfaCredential, data_key: bytes) -> str:
    """The base32 TOTP secret of ``credential``."""
    return at_rest.decrypt(data_key, credential.secret_sealed,
                           _associated(credential.id)).decode()


def new_credential(session: Session, user: User, data_key: bytes, now: datetime,
                   secret: str | None = None) -> tuple[MfaCredential, str]:
    """Replace ``user``'s unconfirmed credential (if any) by a fresh one; return it and its
    secret. ``secret`` is for the demo seed and tests only; otherwise it is random."""
    session.execute(delete(MfaCredential).where(
        MfaCredential.user_id == user.id, MfaCredential.confirmed_at.is_(None)))
    secret = secret or pyotp.random_base32()
    credential = MfaCredential(user_id=user.id, created_at=now, secret_sealed=b"")
    credential.secret_sealed = at_rest.encrypt(data_key, secret.encode(),
                                               _associated(credential.id))
    session.add(credential)
    return credential, secret


def credential_of(session: Session, user_id: uuid.UUID, *, lock: bool = False
                  ) -> MfaCredential | None:
    """``user_id``'s credential, confirmed or not (locked for the update of a code check)."""
    query = select(MfaCredential).where(MfaCredential.user_id == user_id)
    return session.scalar(query.with_for_update() if lock else query)


def is_enrolled(session: Session, user_id: uuid.UUID) -> bool:
    """True when ``user_id`` has a confirmed second factor."""
    credential = credential_of(session, user_id)
    return credential is not None and credential.confirmed_at is not None


def uri(secret: str, user: User, issuer: str) -> str:
    """The otpauth:// URI an authenticator app reads (usually from a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def check_totp(credential: MfaCredential, code: str, data_key: bytes, now: datetime) -> bool:
    """True, and the step remembered, for a right code of a step later than the last used.

    RFC 6238 section 5.2: a code accepted once is refused for the rest of its window, and so
    is any older code; the caller holds the credential's row lock.
    """
    totp = pyotp.TOTP(open_secret(credential, data_key))
    try:
        step = totp.verify_and_get_timecode(code, for_time=now, valid_window=VALID_WINDOW)
    except pyotp.OTPVerificationError:
        return False
    if credential.last_used_step is not None and step <= credential.last_used_step:
        return False
    credential.last_used_step = step
    return True


def _normal_recovery(code: str) -> str:
    return "".join(code.lower().split()).replace("-", "")


def _recovery_hash(code: str) -> str:
    return hashlib.sha256(_normal_recovery(code).encode()).hexdigest()


def issue_recovery_codes(session: Session, credential: MfaCredential) -> list[str]:
    """Ten fresh codes (``xxxxx-xxxxx-xxxxx-xxxxx``) replacing any earlier ones; shown once."""
    session.execute(delete(MfaRecoveryCode).where(
        MfaRecoveryCode.credential_id == credential.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
        codes.append("-".join(raw[i:i + 5] for i in range(0, RECOVERY_LENGTH, 5)))
    session.add_all(MfaRecoveryCode(credential_id=credential.id, code_hash=_recovery_hash(code))
                    for code in codes)
    return codes


def use_recovery_code(session: Session, credential: MfaCredential, code: str,
                      now: datetime) -> bool:
    """True when ``code`` is one of the credential's unused recovery codes; it is used up."""
    if len(_normal_recovery(code)) != RECOVERY_LENGTH:
        return False
    spent = session.execute(
        update(MfaRecoveryCode)
        .where(MfaRecoveryCode.credential_id == credential.id,
               MfaRecoveryCode.code_hash == _recovery_hash(code),
               MfaRecoveryCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(spent.rowcount)  # type: ignore[attr-defined]


def check_code(session: Session, credential: MfaCredential, code: str, data_key: bytes,
               now: datetime) -> Method | None:
    """How ``code`` proved the second factor (a TOTP code or a recovery code), or None."""
    code = code.strip()
    if code.isdigit():
        return "totp" if check_totp(credential, code, data_key, now) else None
    return "recovery_code" if use_recovery_code(session, credential, code, now) else None
