"""A recall list imported (POST /pumps/recalls): what it did, pump by pump."""

from __future__ import annotations

from marshmallow import fields

from schemas.base import BaseSchema


class RecalledPumpSchema(BaseSchema):
    """One pump a line of the list named."""

    line = fields.Integer(dump_only=True, metadata={"description": "Line in the file (header 1)"})
    pump_id = fields.UUID(dump_only=True)
    serial = fields.String(dump_only=True)
    outcome = fields.String(dump_only=True, metadata={
        "description": "recalled (now, traced to its patients) or already_recalled"})


class RecallImportSchema(BaseSchema):
    """The import's result: every named pump, and how far the new recalls reached."""

    rows = fields.Integer(dump_only=True, metadata={"description": "Pump rows in the file"})
    pumps = fields.List(fields.Nested(RecalledPumpSchema), dump_only=True)
    review_items_opened = fields.Integer(dump_only=True, metadata={
        "description": "Critical items opened, one per pump and patient it served"})
    notifications_sent = fields.Integer(dump_only=True, metadata={
        "description": "Nurses notified (one per nurse and pump)"})
