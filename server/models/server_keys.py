"""The server's own key pairs: HPKE keys that devices seal to, and the response-signing keys."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, str_enum, utcnow


class KeyPurpose(StrEnum):
    """What a server key is for."""

    HPKE = "hpke"
    SIGNING = "signing"


class ServerKey(Base):
    """A key pair; the private half is encrypted under the data key (bound to ``key_id``)."""

    __tablename__ = "server_keys"

    key_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    purpose: Mapped[KeyPurpose] = mapped_column(str_enum(KeyPurpose, "key_purpose"))
    public_key: Mapped[str] = mapped_column(String(64))
    private_key_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    current: Mapped[bool] = mapped_column(default=True)
    # A superseded HPKE key keeps opening pushes until then (>= max_offline_hours).
    retire_after: Mapped[datetime | None]
    # A signing key signs from then on (NULL: from its creation). Until then it is only
    # announced, so devices learn it before the first response it signs reaches them.
    not_before: Mapped[datetime | None]
    # The signing key it replaced, and that key's signature over this one
    # (``sync.response_signature.endorse``): a device that trusted the old key may trust it.
    endorsed_by: Mapped[str | None] = mapped_column(String(40))
    endorsement: Mapped[str | None] = mapped_column(String(128))
