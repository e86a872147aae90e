"""The server's notion of now, replaceable per app so tests can move time forward."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask, current_app

from server.models.base import utcnow

Clock = Callable[[], datetime]


class FileClock:
    """Testing only: now is the ISO time written in a file, so a test moves a subprocess's time."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def __call__(self) -> datetime:
        moment = datetime.fromisoformat(self.path.read_text(encoding="utf-8").strip())
        if moment.tzinfo is None:
            raise ValueError(f"{self.path}: the time must carry its UTC offset")
        return moment


def init_app(app: Flask, clock: Clock | None = None) -> None:
    """Install ``clock`` (default: the system's UTC time, or INFUSYNC_CLOCK_FILE) on ``app``."""
    from server.config import ConfigError, is_production

    clock_file = app.config.get("INFUSYNC_CLOCK_FILE")
    if clock_file and is_production(app.config):
        raise ConfigError("INFUSYNC_CLOCK_FILE is for tests; production runs on real time")
    if clock is None and clock_file:
        clock = FileClock(clock_file)
    app.extensions["infusync_clock"] = clock or utcnow


def app_clock(app: Flask) -> Clock:
    """The clock installed on ``app`` (for threads that run outside a request)."""
    clock: Clock = app.extensions["infusync_clock"]
    return clock


def now() -> datetime:
    """Timezone-aware UTC now, from the current app's clock."""
    clock: Clock = current_app.extensions["infusync_clock"]
    return clock()


def agency_zone() -> ZoneInfo:
    """The agency's time zone: visit windows and due dates are its local times and dates."""
    return ZoneInfo(current_app.config["AGENCY_TIMEZONE"])
