"""The review queue on the wire: items, filters, counts, and how a person resolves one."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from schemas.base import BaseSchema

SEVERITIES = ("critical", "warning", "info")
OWNERS = ("qc", "coordinator", "admin")
REVIEW_STATUSES = ("open", "resolved")
ACCEPT, AMEND, REASSIGN, IN_ERROR = "accept", "amend", "reassign_documentation", "entered_in_error"
RESOLUTIONS = (ACCEPT, AMEND, REASSIGN, IN_ERROR)


class ReviewItemSchema(BaseSchema):
    """What happened, which records it is about, the evidence, and what may be done."""

    id = fields.UUID(dump_only=True)
    kind = fields.String(dump_only=True)
    severity = fields.String(dump_only=True)
    status = fields.String(dump_only=True)
    summary = fields.String(dump_only=True)
    # Null when the item is not about one (an alert about a silent device names no visit).
    patient_id = fields.UUID(dump_only=True, allow_none=True)
    visit_id = fields.UUID(dump_only=True, allow_none=True)
    device_id = fields.UUID(dump_only=True, allow_none=True)
    mutation_id = fields.UUID(dump_only=True, allow_none=True)
    record_id = fields.UUID(dump_only=True, allow_none=True, metadata={
        "description": "The document (event, vitals, infusion, note, amendment) it is about"})
    details = fields.Dict(dump_only=True, metadata={"description": "The evidence"})
    allowed_resolutions = fields.List(fields.String(), dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    # Null while the item is open.
    resolved_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    resolved_by = fields.UUID(dump_only=True, allow_none=True)
    resolution = fields.String(dump_only=True, allow_none=True, metadata={
        "description": "How it was resolved (null when the system closed it)"})
    resolution_comment = fields.String(dump_only=True, allow_none=True)
    # Ownership and escalation (issue 11, item 7): whose queue, who took it, when it went up.
    owner = fields.String(dump_only=True, allow_none=True, metadata={
        "description": "The role that acts on this kind: qc or coordinator (admin for "
                       "audit_chain_broken)"})
    acknowledged_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    acknowledged_by = fields.UUID(dump_only=True, allow_none=True)
    escalated_at = fields.AwareDateTime(dump_only=True, allow_none=True, metadata={
        "description": "When the unacknowledged critical item went to the coordinators"})


class ReviewItemBriefSchema(BaseSchema):
    """A review item as listed beside the visit it is about."""

    id = fields.UUID(dump_only=True)
    kind = fields.String(dump_only=True)
    severity = fields.String(dump_only=True)
    status = fields.String(dump_only=True)
    summary = fields.String(dump_only=True)
    record_id = fields.Function(lambda item: item.details.get("record_id"), dump_only=True,
                                allow_none=True)


class ReviewItemQuerySchema(BaseSchema):
    """Filters for the review queue."""

    status = fields.String(validate=validate.OneOf(REVIEW_STATUSES))
    kind = fields.String(validate=validate.Length(min=1, max=40))
    severity = fields.String(validate=validate.OneOf(SEVERITIES))
    patient_id = fields.UUID()
    visit_id = fields.UUID()
    owner = fields.String(validate=validate.OneOf(OWNERS))
    nurse_id = fields.UUID(metadata={
        "description": "Items about her: sent by her devices, or on a visit she has now"})
    created_from = fields.AwareDateTime(metadata={"description": "Raised at or after"})
    created_before = fields.AwareDateTime(metadata={"description": "Raised before"})


class SeverityCountsSchema(BaseSchema):
    """Open items per severity."""

    critical = fields.Integer(dump_only=True)
    warning = fields.Integer(dump_only=True)
    info = fields.Integer(dump_only=True)


class ReviewCountsSchema(BaseSchema):
    """What is waiting: open items in all, by severity and by kind."""

    open = fields.Integer(dump_only=True)
    by_severity = fields.Nested(SeverityCountsSchema, dump_only=True)
    by_kind = fields.Dict(keys=fields.String(), values=fields.Integer(), dump_only=True)


class ResolveSchema(BaseSchema):
    """A person's decision on an item: one of its allowed resolutions, and why."""

    resolution = fields.String(required=True, validate=validate.OneOf(RESOLUTIONS),
                               error_messages={"required": "Choose how to resolve it."})
    # An empty comment is refused by ``_fits_resolution`` with the same words as a blank one.
    comment = fields.String(required=True, validate=validate.Length(max=1000),
                            error_messages={"required": "Say why, in words."},
                            metadata={"description": "Why, in words; the nurse whose "
                                      "documentation the item is about reads it on her device"})
    target_visit_id = fields.UUID(metadata={
        "description": "reassign_documentation: the visit (same patient) it belongs to"})
    changes = fields.Dict(keys=fields.String(), validate=validate.Length(min=1, max=50),
                          metadata={"description": "amend: field → corrected value"})

    @validates_schema
    def _fits_resolution(self, data: dict[str, Any], **_kwargs: Any) -> None:
        resolution = data.get("resolution")
        if not data.get("comment", "x").strip():
            raise ValidationError("Say why, in words.", "comment")
        if resolution == REASSIGN and data.get("target_visit_id") is None:
            raise ValidationError("Say which visit the documentation belongs to.",
                                  "target_visit_id")
        if resolution != REASSIGN and "target_visit_id" in data:
            raise ValidationError("Only reassign_documentation takes a target visit.",
                                  "target_visit_id")
        if resolution == AMEND and not data.get("changes"):
            raise ValidationError("Say what the correction is.", "changes")
        if resolution != AMEND and "changes" in data:
            raise ValidationError("Only amend takes changes.", "changes")
