"""The coordinator's board on the wire."""

from __future__ import annotations

from marshmallow import fields

from schemas.base import BaseSchema


class BoardQuerySchema(BaseSchema):
    """Which local day (agency time zone); today when left out."""

    date = fields.Date(metadata={"description": "YYYY-MM-DD, the agency's local date"})


class BoardPersonSchema(BaseSchema):
    """An id and a display name."""

    id = fields.UUID()
    name = fields.String()


class BoardEvvSchema(BaseSchema):
    """Where electronic visit verification stands for one visit."""

    state = fields.String(metadata={
        "description": "not_started, checked_in, checked_out or exception"})
    checked_in_at = fields.AwareDateTime(allow_none=True)
    checked_out_at = fields.AwareDateTime(allow_none=True)


class BoardPlaceSchema(BaseSchema):
    """Which of the patient's locations."""

    id = fields.UUID()
    kind = fields.String()


class BoardVisitSchema(BaseSchema):
    """A visit on the board (``version`` for assigning from it)."""

    id = fields.UUID()
    version = fields.Integer()
    order_id = fields.UUID(allow_none=True)
    patient = fields.Nested(BoardPersonSchema)
    scheduled_start = fields.AwareDateTime()
    scheduled_end = fields.AwareDateTime()
    status = fields.String()
    evv = fields.Nested(BoardEvvSchema)
    service_location = fields.Nested(BoardPlaceSchema)
    assignment_override = fields.String(allow_none=True)


class BoardNurseSchema(BaseSchema):
    """One nurse's day."""

    nurse = fields.Nested(BoardPersonSchema)
    last_sync_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "Latest contact from any of her devices"})
    visits = fields.List(fields.Nested(BoardVisitSchema))


class BoardReviewCountsSchema(BaseSchema):
    """Open review items by severity."""

    critical = fields.Integer()
    warning = fields.Integer()
    info = fields.Integer()


class BoardAlertSchema(BaseSchema):
    """An open scheduling alert, or an escalated critical item, from the review queue."""

    id = fields.UUID()
    kind = fields.String()
    severity = fields.String()
    summary = fields.String()
    visit_id = fields.UUID(allow_none=True)
    device_id = fields.UUID(allow_none=True)
    created_at = fields.AwareDateTime()
    escalated_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "Set on a critical item nobody acknowledged in time (any kind); "
                       "it stays on the board until acknowledged or resolved"})


class BoardRecallPatientSchema(BaseSchema):
    """A patient a withdrawn pump served, and her open recall item."""

    id = fields.UUID()
    name = fields.String()
    review_item_id = fields.UUID()
    kind = fields.String(metadata={"description": "pump_recalled or pump_out_of_service"})


class BoardRecallPumpSchema(BaseSchema):
    """The pump itself (issue 11, item 1)."""

    id = fields.UUID()
    serial = fields.String()
    status = fields.String()


class BoardRecallSchema(BaseSchema):
    """A recalled or out-of-service pump with the patients whose items are still open."""

    pump = fields.Nested(BoardRecallPumpSchema)
    patients = fields.List(fields.Nested(BoardRecallPatientSchema))


class BoardSchema(BaseSchema):
    """The day per nurse, what nobody has yet, and what needs a look."""

    date = fields.Date()
    time_zone = fields.String()
    nurses = fields.List(fields.Nested(BoardNurseSchema))
    unassigned = fields.List(fields.Nested(BoardVisitSchema))
    review_counts = fields.Nested(BoardReviewCountsSchema)
    alerts = fields.List(fields.Nested(BoardAlertSchema))
    recalled_pumps = fields.List(fields.Nested(BoardRecallSchema), metadata={
        "description": "Withdrawn pumps and the patients they served, until each patient's "
                       "recall item is resolved"})
