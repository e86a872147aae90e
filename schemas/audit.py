"""The audit trail as the privacy officer reads it: filters and one event."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validates_schema

from schemas.base import BaseSchema, UTCDateTime, trimmed


class AuditEventQuerySchema(BaseSchema):
    """Filters of the audit trail; ``since`` is inclusive, ``until`` exclusive."""

    patient_id = fields.UUID(metadata={"description": "Events about this patient: her "
                                                      "accounting of disclosures."})
    user_id = fields.UUID(metadata={"description": "Events of this staff member (or of her "
                                                   "devices)."})
    since = UTCDateTime(metadata={"description": "At or after this time (with an offset)."})
    until = UTCDateTime(metadata={"description": "Before this time (with an offset)."})
    action = trimmed(40, metadata={"description": "e.g. read, list, update, sync.push, "
                                                  "audit_read."})
    outcome = trimmed(20, metadata={"description": "e.g. ok, forbidden, not_found."})

    @validates_schema
    def since_before_until(self, data: dict[str, Any], **_kwargs: Any) -> None:
        """An empty window is a mistake, not an empty answer."""
        if "since" in data and "until" in data and data["since"] >= data["until"]:
            raise ValidationError({"until": ["Must be after since."]})


class AuditEventSchema(BaseSchema):
    """One event of the trail: who (and her name and role), when, what, which record."""

    seq = fields.Integer(dump_only=True)
    id = fields.UUID(dump_only=True)
    at = fields.AwareDateTime(dump_only=True)
    actor_user_id = fields.UUID(dump_only=True, allow_none=True)
    actor_name = fields.String(dump_only=True, allow_none=True)
    actor_role = fields.String(dump_only=True, allow_none=True)
    actor_device_id = fields.UUID(dump_only=True, allow_none=True)
    action = fields.String(dump_only=True)
    entity_type = fields.String(dump_only=True)
    entity_id = fields.UUID(dump_only=True, allow_none=True)
    patient_id = fields.UUID(dump_only=True, allow_none=True)
    outcome = fields.String(dump_only=True)
    remote_addr = fields.String(dump_only=True, allow_none=True)
    request_id = fields.String(dump_only=True, allow_none=True)
    details = fields.Dict(dump_only=True)
    prev_hash = fields.String(dump_only=True)
    hash = fields.String(dump_only=True)
