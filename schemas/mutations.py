"""The ``data`` of each mutation type a device may send."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from schemas.base import BaseSchema, Quantity


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


class VitalsSchema(BaseSchema):
    """``vitals.record``: a LOINC-coded value (or panel of components) with a UCUM unit."""

    code = fields.String(required=True, validate=validate.Length(min=3, max=20))
    value = Quantity(load_default=None, allow_none=True)
    components = fields.List(fields.Nested(ComponentSchema), load_default=None,
                             allow_none=True)
    unit = fields.String(required=True, validate=validate.Length(min=1, max=20))
    taken_at = fields.AwareDateTime(required=True)

    @validates_schema
    def _value_or_components(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if (data.get("value") is None) == (not data.get("components")):
            raise ValidationError("Give either a value or components, not both or neither.",
                                  "value")


MUTATION_DATA_SCHEMAS: dict[str, type[BaseSchema]] = {
    "visit.check_in": CheckSchema,
    "visit.check_out": CheckSchema,
    "vitals.record": VitalsSchema,
}
