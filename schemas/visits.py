"""Visits on the wire."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from schemas.base import BaseSchema, UTCDateTime, trimmed

VISIT_STATUSES = (
    "scheduled", "in_progress", "completed", "missed", "late_unknown", "cancelled")


def _window_in_order(data: dict[str, Any]) -> None:
    start, end = data.get("scheduled_start"), data.get("scheduled_end")
    if start and end and end <= start:
        raise ValidationError("The visit must end after it starts.", "scheduled_end")


class VisitSchema(BaseSchema):
    """A visit as the coordinator schedules it."""

    id = fields.UUID(dump_only=True)
    patient_id = fields.UUID(required=True)
    order_id = fields.UUID(allow_none=True, load_default=None)
    nurse_id = fields.UUID(allow_none=True, load_default=None)
    service_location_id = fields.UUID(required=True)
    scheduled_start = UTCDateTime(required=True)
    scheduled_end = UTCDateTime(required=True)
    status = fields.String(dump_only=True)
    cancel_reason = fields.String(dump_only=True, allow_none=True)
    version = fields.Integer(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)

    @validates_schema
    def _window(self, data: dict[str, Any], **_kwargs: Any) -> None:
        _window_in_order(data)


class VisitUpdateSchema(BaseSchema):
    """Reassign, reschedule or cancel; ``version`` (or If-Match) names the version edited."""

    # Named so that a client echoing a record it read hears 'read-only', not 'unknown'.
    id = fields.UUID(dump_only=True)
    patient_id = fields.UUID(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)
    nurse_id = fields.UUID(allow_none=True)
    service_location_id = fields.UUID()
    scheduled_start = UTCDateTime()
    scheduled_end = UTCDateTime()
    # OpenAPI 3.0 cannot say "required when status is cancelled": the descriptions say it.
    status = fields.String(
        validate=validate.OneOf(("cancelled",), error="Only 'cancelled' may be set here."),
        metadata={"description": "Only 'cancelled'; requires cancel_reason."},
    )
    # Trimmed: a reason of only spaces counts as none given, so cancelling is refused.
    cancel_reason = trimmed(
        400,
        metadata={"description": "Required with status 'cancelled' (1-400 characters), "
                                 "refused without it."},
    )
    version = fields.Integer(strict=True, validate=validate.Range(min=1))

    @validates_schema
    def _window(self, data: dict[str, Any], **_kwargs: Any) -> None:
        _window_in_order(data)
        cancelling = data.get("status") == "cancelled"
        if cancelling and not data.get("cancel_reason"):
            raise ValidationError("Say why the visit is cancelled.", "cancel_reason")
        if "cancel_reason" in data and not cancelling:
            raise ValidationError("A reason goes with status 'cancelled'.", "cancel_reason")


class VisitQuerySchema(BaseSchema):
    """Filters for the visit list."""

    nurse_id = fields.UUID()
    patient_id = fields.UUID()
    status = fields.String(validate=validate.OneOf(VISIT_STATUSES))
    from_ = UTCDateTime(data_key="from")
    to = UTCDateTime()
