"""Sync settings read from the app's configuration, for the device and sync views."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from server.clock import agency_zone
from server.reconcile.news2 import Thresholds
from server.services.devices import SyncPolicy
from server.services.push import PushSettings
from server.services.server_keys import SigningKeyring


def policy() -> SyncPolicy:
    """The limits devices are told and held to."""
    cfg = current_app.config
    return SyncPolicy(max_offline_hours=cfg["SYNC_MAX_OFFLINE_HOURS"],
                      max_batch_mutations=cfg["SYNC_MAX_BATCH_MUTATIONS"],
                      max_body_bytes=cfg["SYNC_MAX_BODY_BYTES"])


def data_key() -> bytes:
    """The key that encrypts stored sync payloads and server private keys."""
    key: bytes = current_app.config["INFUSYNC_DATA_KEY"]
    return key


def signing_keyring() -> SigningKeyring:
    """This app's signing keys, as last read (``server/__init__.py`` makes it)."""
    keyring: SigningKeyring = current_app.extensions["infusync_signing_keys"]
    return keyring


def cursor_key() -> bytes:
    """The key that authenticates pull cursors (derived from the secret key)."""
    secret: str = current_app.config["SECRET_KEY"]
    return ("infusync-cursor:" + secret).encode()


def news2_thresholds() -> Thresholds:
    """When a NEWS2 score of pushed vital signs opens a review item."""
    cfg = current_app.config
    return Thresholds(warning_score=cfg["NEWS2_WARNING_SCORE"],
                      critical_score=cfg["NEWS2_CRITICAL_SCORE"],
                      single_parameter_warning=cfg["NEWS2_SINGLE_PARAMETER_WARNING"])


def push_settings() -> PushSettings:
    """Everything the push service needs from configuration."""
    return PushSettings(data_key=data_key(), policy=policy(),
                        max_clock_skew=timedelta(
                            minutes=current_app.config["SYNC_CLOCK_SKEW_MINUTES"]),
                        zone=agency_zone(), news2=news2_thresholds())
