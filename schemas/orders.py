"""Therapy orders on the wire."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from schemas.base import BaseSchema, Quantity, trimmed
from schemas.users import COMPETENCIES

FREQUENCY_KINDS = ("every_n_hours", "daily", "weekly", "every_n_days")
ORDER_STATUSES = ("active", "on_hold", "discontinued", "completed")
ROUTES = ("IV", "SC", "IM", "PO", "enteral")


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


class OrderUpdateSchema(OrderSchema):
    """A PATCH: any subset of the writable fields except the patient."""

    patient_id = fields.UUID(dump_only=True)
    status = fields.String(validate=validate.OneOf(ORDER_STATUSES))
    version = fields.Integer(strict=True, load_only=True, validate=validate.Range(min=1))


class OrderQuerySchema(BaseSchema):
    """Filters for the order list."""

    patient_id = fields.UUID()
    status = fields.String(validate=validate.OneOf(ORDER_STATUSES))
