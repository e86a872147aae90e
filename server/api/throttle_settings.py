"""Throttle limits read from the app's configuration, for the login and enrollment views."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from server.services.throttle import Limit, LoginThrottle


def login_throttle() -> LoginThrottle:
    """The three failed-login limits (see ``server.services.throttle``)."""
    cfg = current_app.config
    pair_and_address = timedelta(minutes=cfg["LOGIN_FAILURE_WINDOW_MINUTES"])
    return LoginThrottle(
        per_account_address=Limit(cfg["LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS"],
                                  pair_and_address),
        per_address=Limit(cfg["LOGIN_MAX_FAILURES_PER_ADDRESS"], pair_and_address),
        per_account=Limit(cfg["LOGIN_MAX_FAILURES_PER_ACCOUNT"],
                          timedelta(minutes=cfg["LOGIN_ACCOUNT_WINDOW_MINUTES"])),
        known_address_for=timedelta(days=cfg["LOGIN_KNOWN_ADDRESS_DAYS"]),
    )


def enrollment_limit() -> Limit:
    """Failed enrollment codes tolerated per address."""
    cfg = current_app.config
    return Limit(cfg["ENROLLMENT_MAX_FAILURES_PER_ADDRESS"],
                 timedelta(minutes=cfg["ENROLLMENT_FAILURE_WINDOW_MINUTES"]))
