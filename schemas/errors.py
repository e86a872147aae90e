"""The one error shape, for the OpenAPI document."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields


class ErrorBodySchema(Schema):
    """What went wrong, in words a person and a program can act on."""

    code = fields.String(metadata={"description": "Stable machine code, e.g. stale_version"})
    message = fields.String(metadata={"description": "What happened and what to do"})
    details = fields.Dict(metadata={"description": "Field errors or the current record"})


class ErrorSchema(Schema):
    """Every error response: ``{"error": {...}}``."""

    error = fields.Nested(ErrorBodySchema)


class RefusedInput(ValidationError):
    """Field errors that earn their own error code and message (the push envelope's), not
    the generic ones of a body that fails its schema."""

    def __init__(self, messages: dict[str, Any], code: str, reason: str) -> None:
        super().__init__(messages)
        self.code, self.reason = code, reason
