"""Shared schema behaviour: unknown fields rejected, read-only fields named as such."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import Schema, ValidationError, fields, pre_load, validate

READ_ONLY_MESSAGE = "Read-only: this field is set by the server."


class BaseSchema(Schema):
    """Every request and response schema. Unknown fields raise (marshmallow's default)."""

    @pre_load
    def refuse_read_only(self, data: Any, **_kwargs: Any) -> Any:
        """Say 'read-only' rather than 'unknown' when a client sends a server-owned field."""
        if not isinstance(data, dict):
            return data
        sent = [
            field.data_key or name
            for name, field in self.fields.items()
            if field.dump_only and (field.data_key or name) in data
        ]
        if sent:
            raise ValidationError({name: [READ_ONLY_MESSAGE] for name in sent})
        return data


class Quantity(fields.Field):
    """A clinical quantity: a JSON number on the wire, an exact Decimal in Python."""

    default_error_messages = {"invalid": "Not a valid number."}

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else float(value)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self.make_error("invalid")
        try:
            number = Decimal(str(value))
        except InvalidOperation as exc:
            raise self.make_error("invalid") from exc
        if not number.is_finite():
            raise self.make_error("invalid")
        return number


def trimmed(max_length: int, **kwargs: Any) -> fields.String:
    """A non-blank string of bounded length."""
    return fields.String(validate=validate.Length(min=1, max=max_length), **kwargs)
