"""Template filters of the console: times shown in the agency's zone, as staff think of them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from server import clock
from server.console.blueprint import bp
from server.models import ServiceLocation


@bp.app_template_filter("local")
def local(value: datetime, with_date: bool = False) -> str:
    """``value`` (aware, UTC) as the agency's local ``HH:MM`` (``Mon 23 Nov HH:MM``)."""
    moment = value.astimezone(clock.agency_zone())
    return moment.strftime("%a %d %b %H:%M" if with_date else "%H:%M")


@bp.app_template_filter("local_date")
def local_date(value: datetime) -> str:
    """``value`` (aware, UTC) as the agency's local date, ``YYYY-MM-DD`` (a date input's)."""
    return value.astimezone(clock.agency_zone()).date().isoformat()


@bp.app_template_filter("zip_pairs")
def zip_pairs(values: Iterable[str]) -> list[tuple[str, str]]:
    """A list of codes as a drop-down's (value, words) options: ``on_hold`` → "on hold"."""
    return [(value, value.replace("_", " ")) for value in values]


@bp.app_template_filter("location_pairs")
def location_pairs(locations: Iterable[ServiceLocation]) -> list[tuple[str, str]]:
    """A patient's service locations as (id, "kind: address") options."""
    return [(str(loc.id), f"{loc.kind.value}: {loc.address}") for loc in locations]


@bp.app_template_filter("quantity")
def quantity(value: Decimal) -> str:
    """A stored quantity without trailing zeros or exponent: 100.00 → "100", 2.50 → "2.5"."""
    return format(value.normalize(), "f")
