"""Shared schema behaviour: unknown fields rejected, read-only fields named as such."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import Schema, ValidationError, fields, pre_load, validate

READ_ONLY_MESSAGE = "Read-only: this field is set by the server."
NUL_MESSAGE = "Text may not contain NUL (\\u0000) characters."


def _holds_nul(value: Any) -> bool:
    """True when a string anywhere inside ``value`` holds a NUL (PostgreSQL refuses it)."""
    pending = [value]
    while pending:  # a loop, not recursion: bodies may nest as deep as the decoder allows
        item = pending.pop()
        if isinstance(item, str) and "\x00" in item:
            return True
        if isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            pending.extend(item.values())
    return False


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

    @pre_load
    def refuse_nul(self, data: Any, **_kwargs: Any) -> Any:
        """Name the fields whose text holds NUL, before the database fails on it."""
        if not isinstance(data, Mapping):
            return data
        bad = [name for name in data if _holds_nul(data[name])]
        if bad:
            raise ValidationError({name: [NUL_MESSAGE] for name in bad})
        return data


def _decimal_places(number: Decimal) -> int:
    """Decimals that matter in a finite ``number``: 1.50 has one, 100 and 0.000 have none."""
    _sign, digits, exponent = number.as_tuple()
    significant = "".join(map(str, digits)).rstrip("0")
    if not significant:
        return 0
    return max(0, -(int(exponent) + len(digits) - len(significant)))


class Quantity(fields.Field[Decimal]):
    """A clinical quantity: a JSON number on the wire, an exact Decimal in Python.

    ``places`` is how many decimals the column stores; more is refused rather than rounded
    away in silence (0.0001 g must not become a stored dose of 0).
    """

    default_error_messages = {
        "invalid": "Not a valid number.",
        "places": "At most {places} decimal places.",
    }

    def __init__(self, *, places: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.places = places

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
        if self.places is not None and _decimal_places(number) > self.places:
            raise self.make_error("places", places=self.places)
        return number


class UTCDateTime(fields.AwareDateTime):
    """An ISO 8601 datetime with an offset, loaded as UTC (what the database stores)."""

    default_error_messages = {"range": "Out of the range of storable times."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.astimezone(UTC)
        except OverflowError as exc:  # e.g. 9999-12-31T23:00-05:00 is past year 9999 in UTC
            raise self.make_error("range") from exc


def trimmed(max_length: int, **kwargs: Any) -> fields.String:
    """A non-blank string of bounded length."""
    return fields.String(validate=validate.Length(min=1, max=max_length), **kwargs)
