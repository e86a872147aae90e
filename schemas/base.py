"""Shared schema behaviour: unknown fields rejected, read-only fields named as such, text
that is not text (NUL, lone surrogates, control characters) refused naming its field."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from marshmallow import Schema, ValidationError, fields, missing, pre_load, validate

READ_ONLY_MESSAGE = "Read-only: this field is set by the server."
NUL_MESSAGE = "Text may not contain NUL (\\u0000) characters."
SURROGATE_MESSAGE = ("Text may not contain lone UTF-16 surrogates (\\ud800-\\udfff): "
                     "they encode no character.")
CONTROL_MESSAGE = ("Text may not contain control characters other than tab, line feed and "
                   "carriage return.")

# C0 controls but tab, LF and CR; DEL and the C1 controls; every surrogate code point. In a
# str from the JSON decoder a surrogate is always a lone one (a valid pair decodes to one
# code point): it cannot be encoded as UTF-8, so a driver, a hash or a log would fail on it.
_UNSAFE_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def text_problem(text: str) -> str | None:
    """Why ``text`` may not be stored (the message to show), or None when it may."""
    found = _UNSAFE_TEXT.search(text)
    if found is None:
        return None
    char = found.group()
    if char == "\x00":
        return NUL_MESSAGE
    return SURROGATE_MESSAGE if "\ud800" <= char <= "\udfff" else CONTROL_MESSAGE


def unsafe_text(value: Any) -> str | None:
    """The problem of the first bad string (key or value) anywhere inside ``value``."""
    pending = [value]
    while pending:  # a loop, not recursion: bodies may nest as deep as the decoder allows
        item = pending.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                return problem
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
    return None


# True while a caller loads values whose every string it has already found safe (a pushed
# mutation whose canonical JSON holds no unsafe escape): the per-field walk would find
# nothing. A context variable, not schema state: the schemas are shared between threads.
_TEXT_CHECKED: ContextVar[bool] = ContextVar("text_checked", default=False)


@contextmanager
def text_already_checked() -> Iterator[None]:
    """Load inside this block values whose text the caller has checked as a whole."""
    token = _TEXT_CHECKED.set(True)
    try:
        yield
    finally:
        _TEXT_CHECKED.reset(token)


def field_label(name: Any) -> str:
    """A field's name as an error may quote it: a bad name by its JSON escapes."""
    if isinstance(name, str) and text_problem(name) is None:
        return name
    return json.dumps(name)[1:-1] if isinstance(name, str) else str(name)


class BaseSchema(Schema):
    """Every request and response schema. Unknown fields raise (marshmallow's default)."""

    unchecked_text: ClassVar[frozenset[str]] = frozenset()

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
    def refuse_unsafe_text(self, data: Any, **_kwargs: Any) -> Any:
        """Name the fields whose text holds NUL, a lone surrogate or a control character,
        before a database, a hash or a log fails on it (a 500) or is fooled by it. Fields
        in ``unchecked_text`` hold values another schema loads, and checks, one by one."""
        if not isinstance(data, Mapping) or _TEXT_CHECKED.get():
            return data
        bad: dict[str, list[str]] = {}
        for name in data:
            problem = None if name in self.unchecked_text else unsafe_text([name, data[name]])
            if problem:
                bad[field_label(name)] = [problem]
        if bad:
            raise ValidationError(bad)
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


BLANK_MESSAGE = "This field must not be blank."


class Trimmed(fields.String):
    """Text stored without its surrounding whitespace, never as blanks.

    A name, a reason or a title of only spaces says nothing, yet passes a length check:
    a required one is refused naming its field (so is an item of a list, which cannot be
    left out); an optional one is taken as not given, as if the key were absent (what an
    optional field left empty means everywhere else).
    """

    default_error_messages = {"blank": BLANK_MESSAGE}

    def __init__(self, *, refuse_blank: bool = False, **kwargs: Any) -> None:
        # refuse_blank: an optional field whose blank value is still refused, where giving
        # the key at all is an act (an override's reason) that spaces must not fake.
        super().__init__(**kwargs)
        self.refuse_blank = refuse_blank

    def deserialize(self, value: Any, attr: str | None = None,
                    data: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            if self.required or self.refuse_blank or isinstance(self.parent, fields.List):
                raise self.make_error("blank")
            return missing
        return super().deserialize(value, attr, data, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        return text.strip()


def trimmed(max_length: int, **kwargs: Any) -> Trimmed:
    """A non-blank string of bounded length, stored trimmed (see ``Trimmed``)."""
    return Trimmed(validate=validate.Length(min=1, max=max_length), **kwargs)
