"""Template filters of the console: times in the agency's zone, quantities and vital signs
as staff write them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from markdown_it import MarkdownIt
from markupsafe import Markup

from server import clock
from server.console.blueprint import bp
from server.models import ServiceLocation, User, VitalSign
from server.reconcile.vital_ranges import BP_PANEL, CONSCIOUSNESS, VITALS


@bp.app_template_filter("local")
def local(value: datetime, with_date: bool = False) -> str:
    """``value`` (aware, UTC) as the agency's local ``HH:MM`` (``Mon 23 Nov HH:MM``)."""
    return _local(value, with_date, clock.agency_zone())


@lru_cache(maxsize=4096)
def _local(value: datetime, with_date: bool, zone: ZoneInfo) -> str:
    """Remembered: the board writes some 1,200 times a page, most of them the same hours."""
    return value.astimezone(zone).strftime("%a %d %b %H:%M" if with_date else "%H:%M")


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


@bp.app_template_filter("number")
def number(value: Decimal | float | int | None) -> str:
    """A stored quantity as a person writes it: ``1000`` not ``1E+3``, ``2.5`` not ``2.500``."""
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return f"{value:g}"


@bp.app_template_filter("vital_name")
def vital_name(code: str) -> str:
    """A vital sign's LOINC code as its name (the code itself when unknown)."""
    known = {BP_PANEL: "blood pressure", CONSCIOUSNESS: "level of responsiveness"}
    spec = VITALS.get(code)
    return known.get(code) or (spec.name if spec else code)


@bp.app_template_filter("vital_value")
def vital_value(sign: VitalSign) -> str:
    """A reading as written on a chart: ``72 /min``, ``120/80 mm[Hg]``, ``alert``."""
    if sign.value is not None:
        return f"{number(sign.value)} {sign.unit}"
    if sign.components:
        parts = {c.get("code"): c.get("value") for c in sign.components}
        systolic, diastolic = parts.get("8480-6"), parts.get("8462-4")
        return f"{number(Decimal(str(systolic)))}/{number(Decimal(str(diastolic)))} {sign.unit}"
    return sign.answer or "—"


@bp.app_template_filter("as_option")
def as_option(value: str) -> tuple[str, str]:
    """A stored code as a choice: its value, and the words a person reads (``in service``)."""
    return value, value.replace("_", " ").replace("-", " ")


@bp.app_template_filter("user_option")
def user_option(user: User) -> tuple[str, str]:
    """A staff member as a choice: her id, and her name with her email to tell namesakes apart."""
    return str(user.id), f"{user.name} ({user.email})"


# CommonMark with raw HTML off: a module's body is shown as written, never as markup it
# carries (no script, no style: the CSP would refuse them, and the preview must not differ).
_MARKDOWN = MarkdownIt("commonmark", {"html": False})


@bp.app_template_filter("markdown")
def markdown(text: str) -> Markup:
    """A training module's Markdown body as HTML, raw HTML in it escaped."""
    return Markup(_MARKDOWN.render(text or ""))  # noqa: S704 - html=False escapes raw HTML


@bp.app_template_filter("attachment_option")
def attachment_option(entry: str) -> tuple[str, str]:
    """A kept attachment (``sha256:name``) as a choice: its hash, and its name."""
    sha256, _, name = entry.partition(":")
    return sha256, name


@bp.app_template_filter("option_number")
def option_number(number: int) -> tuple[str, str]:
    """An option's slot as a choice of the correct answer."""
    return str(number), f"Option {number}"
