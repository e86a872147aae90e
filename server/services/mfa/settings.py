"""Who must use a second factor, and the limits of a login held at it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

# These roles see the whole agency or its audit trail: a password alone never suffices,
# whatever INFUSYNC_MFA_REQUIRED_ROLES says (it can only add roles).
ALWAYS_REQUIRED = frozenset({"admin", "privacy_officer"})


@dataclass(frozen=True)
class MfaSettings:
    """The data key that seals TOTP secrets, the roles that need MFA, and the limits."""

    data_key: bytes
    required_roles: frozenset[str] = ALWAYS_REQUIRED
    token_lifetime: timedelta = timedelta(minutes=5)
    max_failures_per_token: int = 5
    max_failures_per_user: int = 10
    failure_window: timedelta = timedelta(minutes=15)
    issuer: str = "infusync"

    def required_for(self, role: str) -> bool:
        """True when members of ``role`` must log in with a second factor."""
        return role in ALWAYS_REQUIRED or role in self.required_roles
