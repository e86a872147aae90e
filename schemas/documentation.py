"""What nurses documented, as staff read it: each record with its provenance.

Every field here is server-owned (these schemas only answer). Device-reported times are
given twice: as stored (UTC) and as the device reported them, offset and all.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from schemas.base import BaseSchema, Quantity
from schemas.pumps import PumpSchema
from schemas.review import ReviewItemBriefSchema
from schemas.visits import VisitSchema


def _reported(attribute: str, allow_none: bool = False) -> fields.String:
    return fields.String(attribute=attribute, dump_only=True, allow_none=allow_none,
                         metadata={"description": "As the device reported it (with offset)"})


class _ProvenanceSchema(BaseSchema):
    """Who documented it, from which device and mutation, when (as reported and received)."""

    id = fields.UUID(dump_only=True)
    visit_id = fields.UUID(dump_only=True)
    nurse_id = fields.UUID(dump_only=True)
    device_id = fields.UUID(dump_only=True)
    mutation_id = fields.UUID(dump_only=True)
    batch_id = fields.UUID(dump_only=True)
    seq = fields.Integer(dump_only=True)
    occurred_at = _reported("occurred_at_text")
    received_at = fields.AwareDateTime(dump_only=True)
    flags = fields.List(fields.String(), dump_only=True)
    conflict = fields.Boolean(dump_only=True)
    entered_in_error = fields.Boolean(dump_only=True)


class VisitEventRecordSchema(_ProvenanceSchema):
    """A check-in or check-out (with its EVV result), a signature, a missed report."""

    kind = fields.String(dump_only=True)
    at = fields.AwareDateTime(dump_only=True)
    at_reported = _reported("at_text")
    # Null on events without a position (a signature, a missed report) or an EVV check.
    latitude = fields.Float(dump_only=True, allow_none=True)
    longitude = fields.Float(dump_only=True, allow_none=True)
    accuracy_m = fields.Float(dump_only=True, allow_none=True)
    evv_status = fields.String(dump_only=True, allow_none=True)
    evv_distance_m = fields.Float(dump_only=True, allow_none=True)
    evv_location_id = fields.UUID(dump_only=True, allow_none=True)
    details = fields.Dict(dump_only=True)


class VitalSignRecordSchema(_ProvenanceSchema):
    """One vital sign (LOINC code, UCUM unit)."""

    patient_id = fields.UUID(dump_only=True)
    code = fields.String(dump_only=True)
    value = Quantity(dump_only=True, allow_none=True,
                     metadata={"description": "Null when the sign has components"})
    components = fields.List(fields.Dict(), dump_only=True)
    unit = fields.String(dump_only=True)
    taken_at = fields.AwareDateTime(dump_only=True)
    taken_at_reported = _reported("taken_at_text")
    answer = fields.String(dump_only=True, allow_none=True, metadata={
        "description": "A coded reading's answer (67775-7: ACVPU level); null otherwise"})


class EarlyWarningScoreSchema(BaseSchema):
    """The NEWS2 score of one set of vital signs (the visit's readings taken at one time)."""

    id = fields.UUID(dump_only=True)
    taken_at = fields.AwareDateTime(dump_only=True)
    score = fields.Integer(dump_only=True, metadata={
        "description": "The sum of the parts scored; a lower bound when parts are missing"})
    level = fields.String(dump_only=True, validate=validate.OneOf(("none", "warning",
                                                                   "critical")))
    parts = fields.Dict(dump_only=True, metadata={
        "description": "Per NEWS2 parameter documented: value, points, vital_sign_id"})
    missing = fields.List(fields.String(), dump_only=True, metadata={
        "description": "The NEWS2 parameters the set lacks (not scored)"})
    review_item_id = fields.UUID(dump_only=True, allow_none=True)
    scored_at = fields.AwareDateTime(dump_only=True)


class InfusionRecordSchema(_ProvenanceSchema):
    """One administration: drug and lot, access, pump, times and outcome."""

    patient_id = fields.UUID(dump_only=True)
    order_id = fields.UUID(dump_only=True, allow_none=True)
    medication = fields.String(dump_only=True)
    dose = Quantity(dump_only=True)
    dose_unit = fields.String(dump_only=True)
    route = fields.String(dump_only=True)
    lot_number = fields.String(dump_only=True)
    lot_expiry = fields.Date(dump_only=True)
    access = fields.Dict(dump_only=True)
    pump_serial = fields.String(dump_only=True, allow_none=True)
    pump_id = fields.UUID(dump_only=True, allow_none=True)
    programmed_rate_ml_h = Quantity(dump_only=True, allow_none=True)
    vtbi_ml = Quantity(dump_only=True, allow_none=True)
    started_at = fields.AwareDateTime(dump_only=True)
    started_at_reported = _reported("started_at_text")
    # Null while the infusion runs.
    stopped_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    stopped_at_reported = _reported("stopped_at_text", allow_none=True)
    volume_infused_ml = Quantity(dump_only=True, allow_none=True)
    adverse_reaction = fields.Dict(dump_only=True)
    notes = fields.String(dump_only=True, allow_none=True)


class NoteRecordSchema(_ProvenanceSchema):
    """A free-text note."""

    patient_id = fields.UUID(dump_only=True)
    category = fields.String(dump_only=True)
    text = fields.String(dump_only=True)


class AmendmentRecordSchema(_ProvenanceSchema):
    """A correction; ``target_type``/``target_id`` name the untouched original."""

    patient_id = fields.UUID(dump_only=True)
    # A correction made by a person resolving a review item came from no device.
    device_id = fields.UUID(dump_only=True, allow_none=True)
    mutation_id = fields.UUID(dump_only=True, allow_none=True)
    batch_id = fields.UUID(dump_only=True, allow_none=True)
    seq = fields.Integer(dump_only=True, allow_none=True)
    target_type = fields.String(dump_only=True)
    target_id = fields.UUID(dump_only=True)
    reason = fields.String(dump_only=True)
    changes = fields.Dict(dump_only=True)


class DocumentationSchema(BaseSchema):
    """Everything documented on a visit, by kind."""

    events = fields.List(fields.Nested(VisitEventRecordSchema), dump_only=True)
    vitals = fields.List(fields.Nested(VitalSignRecordSchema), dump_only=True)
    infusions = fields.List(fields.Nested(InfusionRecordSchema), dump_only=True)
    notes = fields.List(fields.Nested(NoteRecordSchema), dump_only=True)
    amendments = fields.List(fields.Nested(AmendmentRecordSchema), dump_only=True)
    early_warning_scores = fields.List(fields.Nested(EarlyWarningScoreSchema), dump_only=True)


class VisitDetailSchema(VisitSchema):
    """One visit with its derived state, all its documentation and its review items."""

    # Null until the visit reaches that point (and missed_reason unless it was missed).
    checked_in_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    checked_out_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    signed_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    missed_reason = fields.String(dump_only=True, allow_none=True)
    flags = fields.List(fields.String(), dump_only=True)
    documentation = fields.Nested(DocumentationSchema, dump_only=True)
    review_items = fields.List(fields.Nested(ReviewItemBriefSchema), dump_only=True)

    def get_attribute(self, obj: Any, attr: str, default: Any) -> Any:
        """Visit fields from ``obj.visit``; documentation and items from the record itself."""
        source = obj if attr in ("documentation", "review_items") else obj.visit
        return super().get_attribute(source, attr, default)


class EvvVerificationSchema(BaseSchema):
    """Whether one EVV event was where the patient is."""

    status = fields.String(dump_only=True, metadata={
        "description": "verified | exception | missing"})
    distance_m = fields.Float(dump_only=True, allow_none=True, metadata={
        "description": "To the matched location, or the nearest one on an exception; "
                       "null when the event is missing"})
    matched_location_id = fields.UUID(dump_only=True, allow_none=True)
    matched_location_kind = fields.String(dump_only=True, allow_none=True)


class EvvChecksSchema(BaseSchema):
    """Check-in and check-out verification; ``verified`` only when both are."""

    check_in = fields.Nested(EvvVerificationSchema, dump_only=True)
    check_out = fields.Nested(EvvVerificationSchema, dump_only=True)
    verified = fields.Boolean(dump_only=True)


class EvvPatientSchema(BaseSchema):
    """The individual receiving the service."""

    id = fields.UUID(dump_only=True)
    mrn = fields.String(dump_only=True)


class EvvLocationSchema(BaseSchema):
    """Where the service is provided."""

    service_location_id = fields.UUID(dump_only=True)
    kind = fields.String(dump_only=True)
    address = fields.String(dump_only=True)
    latitude = fields.Float(dump_only=True)
    longitude = fields.Float(dump_only=True)
    evv_radius_m = fields.Integer(dump_only=True)


class EvvNurseSchema(BaseSchema):
    """The individual providing the service."""

    id = fields.UUID(dump_only=True)
    name = fields.String(dump_only=True)


class EvvSchema(BaseSchema):
    """The six elements federal EVV requires (21st Century Cures Act), and their checks."""

    visit_id = fields.UUID(dump_only=True)
    type_of_service = fields.String(dump_only=True)
    patient = fields.Nested(EvvPatientSchema, dump_only=True)
    date = fields.Date(dump_only=True, metadata={"description": "The scheduled date (UTC)"})
    location = fields.Nested(EvvLocationSchema, dump_only=True)
    nurse = fields.Nested(EvvNurseSchema, dump_only=True, allow_none=True)
    start_time = fields.String(dump_only=True, allow_none=True, metadata={
        "description": "Check-in time as the device reported it"})
    end_time = fields.String(dump_only=True, allow_none=True, metadata={
        "description": "Check-out time as the device reported it"})
    verification = fields.Nested(EvvChecksSchema, dump_only=True)


class PumpAssignmentRecordSchema(BaseSchema):
    """A period a patient had the pump."""

    patient_id = fields.UUID(dump_only=True)
    assigned_at = fields.AwareDateTime(dump_only=True)
    unassigned_at = fields.AwareDateTime(dump_only=True, allow_none=True,
                                         metadata={"description": "Null: she has it now"})


class PumpAdministrationSchema(BaseSchema):
    """An infusion the pump gave."""

    id = fields.UUID(dump_only=True)
    visit_id = fields.UUID(dump_only=True)
    patient_id = fields.UUID(dump_only=True)
    medication = fields.String(dump_only=True)
    dose = Quantity(dump_only=True)
    dose_unit = fields.String(dump_only=True)
    started_at = fields.AwareDateTime(dump_only=True)
    stopped_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    flags = fields.List(fields.String(), dump_only=True)
    entered_in_error = fields.Boolean(dump_only=True)


class PumpHistorySchema(BaseSchema):
    """A pump, whom it was assigned to and when, and what it infused."""

    pump = fields.Nested(PumpSchema, dump_only=True)
    assignments = fields.List(fields.Nested(PumpAssignmentRecordSchema), dump_only=True)
    administrations = fields.List(fields.Nested(PumpAdministrationSchema), dump_only=True)
