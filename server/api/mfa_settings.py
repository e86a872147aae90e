"""The second factor's settings read from the app's configuration, for the auth views."""

from __future__ import annotations

from flask import current_app

from server.services.mfa.settings import MfaSettings


def mfa_settings() -> MfaSettings:
    """The data key that seals TOTP secrets and the roles that must use a second factor."""
    cfg = current_app.config
    return MfaSettings(data_key=cfg["INFUSYNC_DATA_KEY"],
                       required_roles=frozenset(cfg["MFA_REQUIRED_ROLES"]))
