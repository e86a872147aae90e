"""The ``data`` of each mutation type a device may send."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from schemas.base import BaseSchema, Quantity
from schemas.training import TrainingCompleteSchema


class LocationSchema(BaseSchema):
    """Where the device was (GPS), with its accuracy."""

    latitude = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    longitude = fields.Float(required=True, validate=validate.Range(min=-180, max=180))
    accuracy_m = fields.Float(load_default=None, allow_none=True,
                              validate=validate.Range(min=0, max=100000))


class CheckSchema(BaseSchema):
    """``visit.check_in`` / ``visit.check_out``: when and where (location may be missing)."""

    at = fields.AwareDateTime(required=True)
    location = fields.Nested(LocationSchema, allow_none=True, load_default=None)


class ComponentSchema(BaseSchema):
    """One part of a panel (systolic and diastolic of a blood pressure)."""

    code = fields.String(required=True, validate=validate.Length(min=3, max=20))
    value = Quantity(required=True)
    unit = fields.String(required=True, validate=validate.Length(min=1, max=20))


# ACVPU (NEWS2): alert, new confusion, responds to voice, to pain, unresponsive; the
# answer of a level-of-consciousness reading (LOINC 67775-7).
CONSCIOUSNESS_LEVELS = ("alert", "confusion", "voice", "pain", "unresponsive")


class VitalsSchema(BaseSchema):
    """``vitals.record``: a LOINC-coded value (or panel of components, or coded answer) with
    a UCUM unit."""

    code = fields.String(required=True, validate=validate.Length(min=3, max=20))
    value = Quantity(load_default=None, allow_none=True)
    components = fields.List(fields.Nested(ComponentSchema), load_default=None,
                             allow_none=True)
    unit = fields.String(required=True, validate=validate.Length(min=1, max=20))
    taken_at = fields.AwareDateTime(required=True)
    answer = fields.String(load_default=None, allow_none=True,
                           validate=validate.OneOf(CONSCIOUSNESS_LEVELS))

    @validates_schema
    def _value_or_components(self, data: dict[str, Any], **_kwargs: Any) -> None:
        given = ((data.get("value") is not None) + bool(data.get("components"))
                 + (data.get("answer") is not None))
        if given != 1:
            raise ValidationError("Give one of a value, components or an answer.", "value")


ACCESS_DEVICE_TYPES = ("picc", "port", "midline", "piv")
NOTE_CATEGORIES = ("assessment", "teaching", "communication")
MISSED_REASONS = ("patient_not_home", "patient_refused", "hospitalised", "other")
AMENDABLE = ("infusion", "vitals", "note")


class SiteAssessmentSchema(BaseSchema):
    """Phlebitis and infiltration scores (0-4, INS scales)."""

    phlebitis_score = fields.Integer(required=True, strict=True,
                                     validate=validate.Range(min=0, max=4))
    infiltration_score = fields.Integer(required=True, strict=True,
                                        validate=validate.Range(min=0, max=4))


class VascularAccessUseSchema(BaseSchema):
    """The line used, its site, flushes and how the site looked."""

    device_type = fields.String(required=True, validate=validate.OneOf(ACCESS_DEVICE_TYPES))
    site = fields.String(required=True, validate=validate.Length(min=1, max=100))
    flushed_before = fields.Boolean(required=True)
    flushed_after = fields.Boolean(required=True)
    site_assessment = fields.Nested(SiteAssessmentSchema, required=True)


class PumpUseSchema(BaseSchema):
    """The pump that infused: its serial and how it was programmed."""

    serial = fields.String(required=True, validate=validate.Length(min=1, max=60))
    programmed_rate_ml_h = Quantity(required=True, places=2,
                                    validate=validate.Range(min=0, max=1000))
    vtbi_ml = Quantity(load_default=None, allow_none=True, places=1,
                       validate=validate.Range(min=0, max=10000))


class AdverseReactionSchema(BaseSchema):
    """Whether the patient reacted, and what the nurse did."""

    occurred = fields.Boolean(required=True)
    description = fields.String(load_default=None, allow_none=True,
                                validate=validate.Length(max=2000))
    actions_taken = fields.String(load_default=None, allow_none=True,
                                  validate=validate.Length(max=2000))


class InfusionSchema(BaseSchema):
    """``infusion.record``: one administration, with lot, access and pump."""

    order_id = fields.UUID(required=True, allow_none=True)
    medication = fields.String(required=True, validate=validate.Length(min=1, max=200))
    dose = Quantity(required=True, places=3, validate=validate.Range(min=0, max=10**8))
    dose_unit = fields.String(required=True, validate=validate.Length(min=1, max=20))
    route = fields.String(required=True, validate=validate.Length(min=1, max=20))
    lot_number = fields.String(required=True, validate=validate.Length(min=1, max=60))
    lot_expiry = fields.Date(required=True)
    access = fields.Nested(VascularAccessUseSchema, required=True)
    pump = fields.Nested(PumpUseSchema, load_default=None, allow_none=True)
    started_at = fields.AwareDateTime(required=True)
    stopped_at = fields.AwareDateTime(load_default=None, allow_none=True)
    volume_infused_ml = Quantity(load_default=None, allow_none=True, places=1,
                                 validate=validate.Range(min=0, max=10000))
    adverse_reaction = fields.Nested(AdverseReactionSchema, load_default=None, allow_none=True)
    notes = fields.String(load_default=None, allow_none=True,
                          validate=validate.Length(max=10000))

    @validates_schema
    def _times(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("stopped_at") and data["stopped_at"] < data["started_at"]:
            raise ValidationError("The infusion cannot stop before it started.", "stopped_at")


class NoteSchema(BaseSchema):
    """``visit.note``: free text with a category."""

    category = fields.String(required=True, validate=validate.OneOf(NOTE_CATEGORIES))
    text = fields.String(required=True, validate=validate.Length(min=1, max=20000))


class SignSchema(BaseSchema):
    """``visit.sign``: the nurse attests the visit's documentation; after it, amendments only."""

    at = fields.AwareDateTime(required=True)
    attestation = fields.String(load_default="I attest that this documentation is accurate.",
                                validate=validate.Length(min=1, max=500))


class MissedSchema(BaseSchema):
    """``visit.missed``: the visit could not be performed, and why."""

    at = fields.AwareDateTime(required=True)
    reason = fields.String(required=True, validate=validate.OneOf(MISSED_REASONS))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class AmendSchema(BaseSchema):
    """``record.amend``: a correction that leaves the original untouched."""

    target_type = fields.String(required=True, validate=validate.OneOf(AMENDABLE))
    target_id = fields.UUID(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    changes = fields.Dict(required=True, validate=validate.Length(min=1))


MUTATION_DATA_SCHEMAS: dict[str, type[BaseSchema]] = {
    "visit.check_in": CheckSchema,
    "visit.check_out": CheckSchema,
    "vitals.record": VitalsSchema,
    "infusion.record": InfusionSchema,
    "visit.note": NoteSchema,
    "visit.sign": SignSchema,
    "visit.missed": MissedSchema,
    "record.amend": AmendSchema,
    "training.complete": TrainingCompleteSchema,
}


# Fast paths for the most frequent mutation types. Each takes the ``data`` of a mutation
# and returns exactly what its schema's ``load`` would (same keys, same order, same
# values), or None whenever the input is anything but plainly valid: the caller then runs
# the schema, which accepts or refuses with its own messages. So a fast path can only ever
# say "valid, and here is the same result", never refuse or accept differently. The caller
# must also have ruled out unsafe text (``BaseSchema.refuse_unsafe_text``) in the whole input.

_VITALS_FIELDS = VitalsSchema().fields
_COMPONENT_KEYS = frozenset(ComponentSchema().fields)
_VITALS_KEYS = frozenset(_VITALS_FIELDS)
_VITALS_REQUIRED = frozenset({"code", "unit", "taken_at"})
_TAKEN_AT = _VITALS_FIELDS["taken_at"]


def fast_quantity(value: Any) -> Decimal | None:
    """``Quantity()`` (no places, no validators) of a JSON number; None if not plain."""
    kind = type(value)
    if kind is not int and kind is not float:
        return None
    number = Decimal(str(value))
    return number if number.is_finite() else None


# The formats marshmallow parses with ``datetime.fromisoformat`` ("iso", "iso8601"; read
# from the field class, so that another parser makes every field take the field's path).
_FROMISOFORMAT = frozenset(
    name for name, parse in fields.AwareDateTime.DESERIALIZATION_FUNCS.items()
    if parse == datetime.fromisoformat)


def fast_aware_datetime(field: fields.Field[Any], value: Any) -> datetime | None:
    """What an ``AwareDateTime`` field without validators loads from text; None if invalid.

    An ISO field is ``datetime.fromisoformat`` and an awareness check, called here directly:
    through the field it cost three times as much, three times per vital sign.
    """
    if type(value) is not str:
        return None
    if type(field) is not fields.AwareDateTime \
            or (field.format or field.DEFAULT_FORMAT) not in _FROMISOFORMAT:
        try:
            loaded: datetime = field._deserialize(value, None, None)
        except ValidationError:
            return None
        return loaded
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    # marshmallow's is_aware; a naive time is the field's to refuse (or to place in its
    # default_timezone), so None.
    return parsed if parsed.utcoffset() is not None else None


def _code_and_unit(data: dict[str, Any]) -> bool:
    code, unit = data["code"], data["unit"]
    return (type(code) is str and 3 <= len(code) <= 20
            and type(unit) is str and 1 <= len(unit) <= 20)


def _fast_components(value: Any) -> list[dict[str, Any]] | None:
    if type(value) is not list:
        return None
    loaded = []
    for part in value:
        if type(part) is not dict or part.keys() != _COMPONENT_KEYS or not _code_and_unit(part):
            return None
        number = fast_quantity(part["value"])
        if number is None:
            return None
        loaded.append({"code": part["code"], "value": number, "unit": part["unit"]})
    return loaded


def fast_vitals(data: Any) -> dict[str, Any] | None:
    """``VitalsSchema().load(data)`` for plainly valid input; None otherwise."""
    if type(data) is not dict or not _VITALS_REQUIRED <= data.keys() <= _VITALS_KEYS \
            or "answer" in data or not _code_and_unit(data):  # coded answers: the schema's
        return None
    value = data.get("value")
    if value is not None:
        value = fast_quantity(value)
        if value is None:
            return None
    components = data.get("components")
    if components is not None:
        components = _fast_components(components)
        if components is None:
            return None
    if (value is None) == (not components):  # VitalsSchema._value_or_components refuses it
        return None
    taken_at = fast_aware_datetime(_TAKEN_AT, data["taken_at"])
    if taken_at is None:
        return None
    return {"code": data["code"], "value": value, "components": components,
            "unit": data["unit"], "taken_at": taken_at, "answer": None}


FAST_DATA_LOADERS: dict[str, Callable[[Any], dict[str, Any] | None]] = {
    "vitals.record": fast_vitals,
}
