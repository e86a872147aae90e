"""Template filters of the console: times shown in the agency's zone, as staff think of them."""

from __future__ import annotations

from datetime import datetime

from server import clock
from server.console.blueprint import bp


@bp.app_template_filter("local")
def local(value: datetime, with_date: bool = False) -> str:
    """``value`` (aware, UTC) as the agency's local ``HH:MM`` (``Mon 23 Nov HH:MM``)."""
    moment = value.astimezone(clock.agency_zone())
    return moment.strftime("%a %d %b %H:%M" if with_date else "%H:%M")


@bp.app_template_filter("local_date")
def local_date(value: datetime) -> str:
    """``value`` (aware, UTC) as the agency's local date, ``YYYY-MM-DD`` (a date input's)."""
    return value.astimezone(clock.agency_zone()).date().isoformat()
