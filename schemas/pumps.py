"""The pump registry on the wire."""

from __future__ import annotations

from marshmallow import fields, validate

from schemas.base import BaseSchema, trimmed

PUMP_STATUSES = ("in_service", "maintenance_due", "out_of_service", "recalled")


class PumpSchema(BaseSchema):
    """One infusion pump, its status and whom it is assigned to."""

    id = fields.UUID(dump_only=True)
    serial = trimmed(60, required=True)
    manufacturer = trimmed(100, required=True)
    model = trimmed(100, required=True)
    udi_di = fields.String(allow_none=True, validate=validate.Length(max=60))
    status = fields.String(load_default="in_service", validate=validate.OneOf(PUMP_STATUSES))
    patient_id = fields.UUID(allow_none=True)
    last_pm_on = fields.Date(allow_none=True)
    next_pm_due_on = fields.Date(allow_none=True)
    version = fields.Integer(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)


class PumpUpdateSchema(PumpSchema):
    """A PATCH: assign to a patient (or null to return it), change status or dates."""

    status = fields.String(validate=validate.OneOf(PUMP_STATUSES))
    version = fields.Integer(strict=True, load_only=True, validate=validate.Range(min=1))


class PumpQuerySchema(BaseSchema):
    """Filters for the pump list."""

    status = fields.String(validate=validate.OneOf(PUMP_STATUSES))
    patient_id = fields.UUID()
    serial = fields.String(validate=validate.Length(min=1, max=60))
