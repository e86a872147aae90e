"""A staff member's notification inbox on the wire (``/api/v1/notifications``)."""

from __future__ import annotations

from marshmallow import fields

from schemas.base import BaseSchema


class InboxNotificationSchema(BaseSchema):
    """One notification: what kind, in plain words, and the ids of what it is about (the
    text quotes no clinical value; follow ``patient_id`` into the API for the record)."""

    id = fields.UUID(dump_only=True)
    kind = fields.String(dump_only=True, metadata={
        "description": "critical_finding, critical_escalation, or a nurse's device kinds"})
    title = fields.String(dump_only=True)
    body = fields.String(dump_only=True)
    patient_id = fields.UUID(dump_only=True, allow_none=True)
    review_item_id = fields.UUID(dump_only=True, allow_none=True)
    visit_id = fields.UUID(dump_only=True, allow_none=True)
    pump_id = fields.UUID(dump_only=True, allow_none=True)
    created_at = fields.AwareDateTime(dump_only=True)
    # Null while unread.
    read_at = fields.AwareDateTime(dump_only=True, allow_none=True)


class InboxQuerySchema(BaseSchema):
    """Which of one's notifications to list."""

    unread = fields.Boolean(metadata={
        "description": "true: only the unread ones; false: only the read ones; absent: all"})
