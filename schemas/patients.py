"""Patients, their service locations and vascular access device on the wire."""

from __future__ import annotations

from marshmallow import fields, validate

from schemas.base import BaseSchema, Quantity, trimmed

LOCATION_KINDS = ("home", "work", "other")
ACCESS_TYPES = ("picc", "port", "midline", "piv")
PATIENT_STATUSES = ("active", "discharged")


class ServiceLocationSchema(BaseSchema):
    """A place the patient is treated; the EVV radius says how close counts as there."""

    id = fields.UUID(dump_only=True)
    kind = fields.String(required=True, validate=validate.OneOf(LOCATION_KINDS))
    address = trimmed(400, required=True)
    latitude = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    longitude = fields.Float(required=True, validate=validate.Range(min=-180, max=180))
    evv_radius_m = fields.Integer(
        strict=True, load_default=150, validate=validate.Range(min=10, max=5000)
    )


class SyncServiceLocationSchema(ServiceLocationSchema):
    """A service location as a device receives it: alone, so it names its patient (a
    patient's removal purges her locations by this id)."""

    patient_id = fields.UUID(dump_only=True)


class VascularAccessSchema(BaseSchema):
    """The line the infusions go through."""

    type = fields.String(
        required=True, validate=validate.OneOf(ACCESS_TYPES), attribute="access_type"
    )
    placed_on = fields.Date(allow_none=True, attribute="access_placed_on")
    side = fields.String(
        allow_none=True, validate=validate.OneOf(("left", "right")), attribute="access_side"
    )
    external_length_cm = Quantity(
        allow_none=True,
        places=1,
        validate=validate.Range(min=0, max=100),
        attribute="access_external_length_cm",
    )


_ACCESS_SCHEMA = VascularAccessSchema()


class PatientSchema(BaseSchema):
    """A patient record as coordinators keep it."""

    id = fields.UUID(dump_only=True)
    mrn = trimmed(40, required=True)
    first_name = trimmed(100, required=True)
    last_name = trimmed(100, required=True)
    birth_date = fields.Date(required=True)
    phone = fields.String(allow_none=True, validate=validate.Length(max=40))
    allergies = fields.List(trimmed(100), load_default=list)
    primary_physician_id = fields.UUID(allow_none=True)
    referral_source = fields.String(allow_none=True, validate=validate.Length(max=200))
    status = fields.String(
        load_default="active", validate=validate.OneOf(PATIENT_STATUSES)
    )
    vascular_access = fields.Method("dump_access", deserialize="load_access", allow_none=True)
    locations = fields.List(
        fields.Nested(ServiceLocationSchema), required=True, validate=validate.Length(min=1)
    )
    version = fields.Integer(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)

    def dump_access(self, patient: object) -> dict[str, object] | None:
        """Nest the flat access columns, or null when no device is recorded."""
        if getattr(patient, "access_type", None) is None:
            return None
        access: dict[str, object] = _ACCESS_SCHEMA.dump(patient)
        return access

    def load_access(self, value: object) -> dict[str, object]:
        """Validate the nested device and flatten it to column names."""
        if value is None:
            return dict.fromkeys(
                ("access_type", "access_placed_on", "access_side", "access_external_length_cm")
            )
        # load() refuses a non-mapping itself, with marshmallow's message for it.
        loaded: dict[str, object] = VascularAccessSchema().load(value)  # type: ignore[arg-type]
        return loaded


class PatientUpdateSchema(PatientSchema):
    """A PATCH: any subset; locations listed are added (no id) or updated (with id)."""

    locations = fields.List(fields.Nested(lambda: LocationPatchSchema()))
    status = fields.String(validate=validate.OneOf(PATIENT_STATUSES))
    version = fields.Integer(strict=True, load_only=True, validate=validate.Range(min=1))


class LocationPatchSchema(ServiceLocationSchema):
    """A location in a PATCH: with ``id`` it updates that location, without it adds one."""

    id = fields.UUID()
    kind = fields.String(validate=validate.OneOf(LOCATION_KINDS))
    address = trimmed(400)
    latitude = fields.Float(validate=validate.Range(min=-90, max=90))
    longitude = fields.Float(validate=validate.Range(min=-180, max=180))
    evv_radius_m = fields.Integer(strict=True, validate=validate.Range(min=10, max=5000))


class PatientQuerySchema(BaseSchema):
    """Filters for the patient list."""

    status = fields.String(validate=validate.OneOf(PATIENT_STATUSES))
    q = fields.String(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "MRN, or the start of the first or last name"},
    )
