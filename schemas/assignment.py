"""Assigning visits to nurses, and the nurses who could take one, on the wire."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from schemas.base import BaseSchema, Trimmed
from schemas.errors import ErrorBodySchema
from schemas.visits import VisitSchema

MAX_BULK = 200
OVERRIDE_MIN = 10


def _override() -> Trimmed:
    """Trimmed: a reason of only spaces is refused, as a coordinator who typed one meant
    to override and must be told why it was not taken."""
    return Trimmed(refuse_blank=True, validate=validate.Length(
        min=OVERRIDE_MIN, max=400, error=f"Say why, in {OVERRIDE_MIN} to 400 characters."))


class AssignSchema(BaseSchema):
    """Give a visit to a nurse; ``override_reason`` lifts competency and training refusals."""

    nurse_id = fields.UUID(required=True)
    override_reason = _override()
    version = fields.Integer(strict=True, validate=validate.Range(min=1))


class UnassignSchema(BaseSchema):
    """Take a visit back to the unassigned list."""

    version = fields.Integer(strict=True, validate=validate.Range(min=1))


class BulkItemSchema(BaseSchema):
    """One visit of a bulk assignment."""

    visit_id = fields.UUID(required=True)
    nurse_id = fields.UUID(required=True)
    version = fields.Integer(strict=True, validate=validate.Range(min=1))


class BulkAssignSchema(BaseSchema):
    """Several assignments; each stands or falls alone."""

    assignments = fields.List(fields.Nested(BulkItemSchema), required=True,
                              validate=validate.Length(min=1, max=MAX_BULK))
    override_reason = _override()

    @validates_schema
    def _once_each(self, data: dict[str, Any], **_kwargs: Any) -> None:
        ids = [item["visit_id"] for item in data.get("assignments", ())]
        if len(set(ids)) != len(ids):
            raise ValidationError("Each visit once per request.", "assignments")


class AssignedVisitSchema(VisitSchema):
    """A visit after (un)assignment, with the override that allowed it, if any."""

    occurrence_at = fields.AwareDateTime(dump_only=True, allow_none=True, metadata={
        "description": "The order occurrence it stands for (null: a visit made by hand)"})
    assignment_override = fields.String(dump_only=True, allow_none=True)


class BulkResultSchema(BaseSchema):
    """What happened to one item of a bulk assignment."""

    visit_id = fields.UUID()
    outcome = fields.String(metadata={"description": "assigned or refused"})
    visit = fields.Nested(AssignedVisitSchema, allow_none=True)
    error = fields.Nested(ErrorBodySchema, allow_none=True)


class BulkResponseSchema(BaseSchema):
    """Per-item results, in request order, and how many went through."""

    assigned = fields.Integer()
    refused = fields.Integer()
    results = fields.List(fields.Nested(BulkResultSchema))


class CandidateNurseSchema(BaseSchema):
    """A nurse's id and name."""

    id = fields.UUID()
    name = fields.String()


class CandidateSchema(BaseSchema):
    """A nurse who could take the visit, her day and why she may not."""

    nurse = fields.Nested(CandidateNurseSchema)
    eligible = fields.Boolean()
    reasons = fields.List(fields.String())
    # Not named ``load``: that would shadow Schema.load.
    day_load = fields.Integer(data_key="load", attribute="load", metadata={
        "description": "Her non-cancelled visits that local day"})
    distance_km = fields.Float(allow_none=True, metadata={
        "description": "From her previous visit that day to this one (null: none before)"})
    assigned = fields.Boolean(metadata={"description": "She holds the visit now"})


class CandidatesQuerySchema(BaseSchema):
    """Whether to list nurses who may not take the visit too."""

    include_ineligible = fields.Boolean(load_default=False)


class CandidatesSchema(BaseSchema):
    """Nurses for one visit: eligible first, then nearest, then least loaded."""

    visit_id = fields.UUID()
    date = fields.Date(metadata={"description": "The visit's local day (agency time zone)"})
    candidates = fields.List(fields.Nested(CandidateSchema))
