"""The one error shape, for the OpenAPI document."""

from __future__ import annotations

from marshmallow import Schema, fields


class ErrorBodySchema(Schema):
    """What went wrong, in words a person and a program can act on."""

    code = fields.String(metadata={"description": "Stable machine code, e.g. stale_version"})
    message = fields.String(metadata={"description": "What happened and what to do"})
    details = fields.Dict(metadata={"description": "Field errors or the current record"})


class ErrorSchema(Schema):
    """Every error response: ``{"error": {...}}``."""

    error = fields.Nested(ErrorBodySchema)
