"""Therapy orders on the wire."""

from __future__ import annotations

import re
from datetime import time
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from schemas.base import BaseSchema, Quantity, trimmed
from schemas.users import COMPETENCIES

FREQUENCY_KINDS = ("every_n_hours", "daily", "weekly", "every_n_days")
ORDER_STATUSES = ("active", "on_hold", "discontinued", "completed")
ROUTES = ("IV", "SC", "IM", "PO", "enteral")
# N per frequency kind: a daily order has no N; every 1 hour or every 60 days is no visit plan.
INTERVAL_BOUNDS = {"every_n_hours": (1, 24), "daily": (1, 1), "weekly": (1, 12),
                   "every_n_days": (1, 60)}
_HH_MM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


def schedule_errors(kind: str, interval: int, weekdays: list[int]) -> dict[str, list[str]]:
    """What is wrong with an order's repetition, by field (empty when nothing)."""
    errors: dict[str, list[str]] = {}
    low, high = INTERVAL_BOUNDS[kind]
    if not low <= interval <= high:
        errors["frequency_interval"] = [
            f"A {kind} order repeats every {low} to {high}." if low != high
            else f"A {kind} order has frequency_interval 1."]
    if weekdays and kind != "weekly":
        errors["weekdays"] = ["Weekdays apply only to weekly orders."]
    return errors


class LocalTime(fields.Field[time]):
    """A local wall-clock time as "HH:MM" (agency time zone)."""

    default_error_messages = {"invalid": "Give a local time as \"HH:MM\" (00:00 to 23:59)."}

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else value.strftime("%H:%M")

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> time:
        match = _HH_MM.fullmatch(value) if isinstance(value, str) else None
        if match is None:
            raise self.make_error("invalid")
        return time(int(match[1]), int(match[2]))


def _unique(values: list[int]) -> None:
    if len(set(values)) != len(values):
        raise ValidationError("Each weekday once.")


class OrderSchema(BaseSchema):
    """A prescribed infusion therapy."""

    id = fields.UUID(dump_only=True)
    patient_id = fields.UUID(required=True)
    physician_id = fields.UUID(required=True)
    medication = trimmed(200, required=True)
    # The bounds and places are the column's (Numeric(12, 3)): past them PostgreSQL fails.
    dose = Quantity(required=True, places=3, validate=validate.Range(
        min=0, max=10**9, min_inclusive=False, max_inclusive=False))
    dose_unit = trimmed(20, required=True)
    route = fields.String(load_default="IV", validate=validate.OneOf(ROUTES))
    rate_ml_h = Quantity(allow_none=True, places=2, validate=validate.Range(min=0, max=1000))
    volume_ml = Quantity(allow_none=True, places=1, validate=validate.Range(min=0, max=10000))
    frequency_kind = fields.String(required=True, validate=validate.OneOf(FREQUENCY_KINDS))
    frequency_interval = fields.Integer(
        strict=True, load_default=1, validate=validate.Range(min=1, max=366)
    )
    start_date = fields.Date(required=True)
    end_date = fields.Date(allow_none=True)
    # Where and when (local, agency time zone) its visits take place.
    service_location_id = fields.UUID(allow_none=True)
    window_start = LocalTime()
    window_minutes = fields.Integer(strict=True, validate=validate.Range(min=15, max=720))
    weekdays = fields.List(fields.Integer(strict=True, validate=validate.Range(
        min=1, max=7, error="ISO weekdays run from 1 (Monday) to 7 (Sunday).")),
        validate=_unique)
    pump_required = fields.Boolean(load_default=False)
    required_competency = fields.String(allow_none=True, validate=validate.OneOf(COMPETENCIES))
    status = fields.String(load_default="active", validate=validate.OneOf(ORDER_STATUSES))
    version = fields.Integer(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)

    @validates_schema
    def _dates(self, data: dict[str, Any], **_kwargs: Any) -> None:
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            raise ValidationError("The end date is before the start date.", "end_date")
        if "frequency_kind" in data:
            errors = schedule_errors(data["frequency_kind"], data.get("frequency_interval", 1),
                                     data.get("weekdays") or [])
            if errors:
                raise ValidationError(errors)


class OrderUpdateSchema(OrderSchema):
    """A PATCH: any subset of the writable fields except the patient."""

    patient_id = fields.UUID(dump_only=True)
    status = fields.String(validate=validate.OneOf(ORDER_STATUSES))
    version = fields.Integer(strict=True, load_only=True, validate=validate.Range(min=1))


class OrderQuerySchema(BaseSchema):
    """Filters for the order list."""

    patient_id = fields.UUID()
    status = fields.String(validate=validate.OneOf(ORDER_STATUSES))
