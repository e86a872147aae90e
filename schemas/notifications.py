"""A notification as the nurse's device receives it in a pull (type ``notification``)."""

from __future__ import annotations

from marshmallow import fields

from schemas.base import BaseSchema


class NotificationSchema(BaseSchema):
    """What the device shows: no patient data, only ids it can look up in its own store."""

    id = fields.UUID(dump_only=True)
    kind = fields.String(dump_only=True)
    title = fields.String(dump_only=True)
    body = fields.String(dump_only=True)
    visit_id = fields.UUID(dump_only=True, allow_none=True)
    pump_id = fields.UUID(dump_only=True, allow_none=True)
    module_id = fields.UUID(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)
