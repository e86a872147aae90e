"""The server's notion of now, replaceable per app so tests can move time forward."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app

from server.models.base import utcnow

Clock = Callable[[], datetime]


def init_app(app: Flask, clock: Clock | None = None) -> None:
    """Install ``clock`` (default: the system's UTC time) on ``app``."""
    app.extensions["infusync_clock"] = clock or utcnow


def now() -> datetime:
    """Timezone-aware UTC now, from the current app's clock."""
    clock: Clock = current_app.extensions["infusync_clock"]
    return clock()


def agency_zone() -> ZoneInfo:
    """The agency's time zone: visit windows and due dates are its local times and dates."""
    return ZoneInfo(current_app.config["AGENCY_TIMEZONE"])
