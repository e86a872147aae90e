"""Scheduled job runs, as admins and coordinators read them."""

from __future__ import annotations

from marshmallow import fields, validate

from schemas.base import BaseSchema

OUTCOMES = ("running", "succeeded", "failed", "interrupted")


class JobRunSchema(BaseSchema):
    """One run of one job for one scheduled time."""

    id = fields.UUID(dump_only=True)
    job_id = fields.String(dump_only=True)
    scheduled_for = fields.DateTime(dump_only=True)
    started_at = fields.DateTime(dump_only=True)
    finished_at = fields.DateTime(dump_only=True, allow_none=True)
    outcome = fields.String(dump_only=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), dump_only=True)
    error = fields.String(dump_only=True, allow_none=True,
                          metadata={"description": "The error type only (never a message)."})
    runner = fields.String(dump_only=True, metadata={"description": "host:pid"})


class JobRunQuerySchema(BaseSchema):
    """Filters for the list."""

    job_id = fields.String(validate=validate.Length(max=60))
    outcome = fields.String(validate=validate.OneOf(OUTCOMES))
    limit = fields.Integer(validate=validate.Range(min=1, max=100), metadata={
        "description": "Page size (an alias of page_size)."})
