"""The wire contract on its own: marshmallow schemas, no app and no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from marshmallow import ValidationError

from schemas.base import NUL_MESSAGE, READ_ONLY_MESSAGE, BaseSchema, Quantity
from schemas.orders import OrderSchema
from schemas.patients import PatientSchema
from schemas.users import UserSchema, npi_is_valid
from schemas.visits import VisitQuerySchema, VisitSchema, VisitUpdateSchema

PATIENT = "7d7d0b8e-4c4e-4f43-9a53-2a4f1b1a0c01"
LOCATION = "7d7d0b8e-4c4e-4f43-9a53-2a4f1b1a0c02"
# A valid NPI in fullwidth digits: str.isdigit() says yes, a claims system says no.
FULLWIDTH_NPI = "".join(chr(0xFF10 + int(d)) for d in "1234567893")


def errors(schema: Any, data: Any, **kwargs: Any) -> dict[str, Any]:
    """The messages ``schema.load(data)`` raises (failing the test if it loads)."""
    with pytest.raises(ValidationError) as caught:
        schema.load(data, **kwargs)
    return caught.value.messages  # type: ignore[return-value]


class QuantitySchema(BaseSchema):
    """One quantity, as the clinical schemas use it."""

    amount = Quantity(places=2)


# NPI check digit -------------------------------------------------------------------------

@pytest.mark.parametrize("npi", ["1234567893", "1245319599", "1003000126"])
def test_npi_with_a_correct_check_digit_is_valid(npi):
    assert npi_is_valid(npi)


@pytest.mark.parametrize("npi", ["1234567890", "1234567894", "123456789", "12345678930",
                                 "123456789a", "", FULLWIDTH_NPI])
def test_npi_with_a_wrong_check_digit_or_shape_is_invalid(npi):
    assert not npi_is_valid(npi)


def test_user_schema_names_a_bad_npi():
    body = {"email": "doc@agency.test", "name": "Doc", "role": "physician",
            "npi": "1234567890"}
    assert list(errors(UserSchema(), body)) == ["npi"]
    assert UserSchema().load({**body, "npi": "1234567893"})["npi"] == "1234567893"


# Quantity ----------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [True, False, float("nan"), float("inf"), "NaN", "-Infinity",
                                   "abc", "", None, [1], {"v": 1}])
def test_quantity_rejects_what_is_not_a_finite_number(value):
    assert "amount" in errors(QuantitySchema(), {"amount": value})


@pytest.mark.parametrize(("value", "expected"), [(2, Decimal(2)), (2.5, Decimal("2.5")),
                                                 ("0.25", Decimal("0.25")),
                                                 ("1.50", Decimal("1.50")), ("1e2", 100)])
def test_quantity_loads_an_exact_decimal(value, expected):
    loaded = QuantitySchema().load({"amount": value})["amount"]
    assert isinstance(loaded, Decimal)
    assert loaded == expected


def test_quantity_refuses_more_places_than_stored():
    assert errors(QuantitySchema(), {"amount": "0.001"}) == {
        "amount": ["At most 2 decimal places."]}
    assert errors(QuantitySchema(), {"amount": 0.1 + 0.2})["amount"]


def test_quantity_dumps_a_json_number():
    assert QuantitySchema().dump({"amount": Decimal("2.50")}) == {"amount": 2.5}


# Visit window ----------------------------------------------------------------------------

def visit(**fields: Any) -> dict[str, Any]:
    """A loadable visit body."""
    body = {"patient_id": PATIENT, "service_location_id": LOCATION,
            "scheduled_start": "2026-11-24T14:00:00+00:00",
            "scheduled_end": "2026-11-24T15:00:00+00:00"}
    return {**body, **fields}


def test_visit_window_loads_as_utc():
    loaded = VisitSchema().load(visit(scheduled_start="2026-11-24T09:00:00-05:00",
                                      scheduled_end="2026-11-24T10:00:00-05:00"))
    assert loaded["scheduled_start"] == datetime(2026, 11, 24, 14, tzinfo=UTC)
    assert loaded["scheduled_start"].utcoffset().total_seconds() == 0


@pytest.mark.parametrize("end", ["2026-11-24T14:00:00+00:00", "2026-11-24T13:00:00+00:00",
                                 "2026-11-24T09:00:00-05:00"])
def test_visit_must_end_after_it_starts(end):
    assert list(errors(VisitSchema(), visit(scheduled_end=end))) == ["scheduled_end"]


def test_visit_window_compares_instants_not_wall_clocks():
    # The visit starts at 14:00 in London. 10:30 in New York reads earlier on the wall but is
    # 15:30 UTC: the coordinator gets a 90-minute visit, not a refusal.
    loaded = VisitSchema().load(visit(scheduled_end="2026-11-24T10:30:00-05:00"))
    assert loaded["scheduled_end"] == datetime(2026, 11, 24, 15, 30, tzinfo=UTC)
    assert loaded["scheduled_end"] - loaded["scheduled_start"] == timedelta(minutes=90)
    # 14:30 in Paris reads later on the wall but is 13:30 UTC: refused, with the reason.
    assert errors(VisitSchema(), visit(scheduled_end="2026-11-24T14:30:00+01:00")) == {
        "scheduled_end": ["The visit must end after it starts."]}


def test_visit_times_need_an_offset():
    assert list(errors(VisitSchema(), visit(scheduled_start="2026-11-24T14:00:00"))) == [
        "scheduled_start"]


def test_visit_times_past_year_9999_in_utc_are_refused():
    messages = errors(VisitQuerySchema(), {"to": "9999-12-31T23:00:00-05:00"})
    assert messages == {"to": ["Out of the range of storable times."]}


def test_visit_status_is_read_only_on_create():
    assert errors(VisitSchema(), visit(status="scheduled")) == {"status": [READ_ONLY_MESSAGE]}


def test_visit_update_window_and_cancel_rules():
    update = VisitUpdateSchema(partial=True)
    assert list(errors(update, {"scheduled_start": "2026-11-24T15:00:00+00:00",
                                "scheduled_end": "2026-11-24T15:00:00+00:00"})) == [
        "scheduled_end"]
    assert list(errors(update, {"status": "cancelled"})) == ["cancel_reason"]
    assert list(errors(update, {"cancel_reason": "no status"})) == ["cancel_reason"]
    assert list(errors(update, {"status": "completed", "cancel_reason": "x"})) == ["status"]
    assert update.load({"status": "cancelled", "cancel_reason": "In hospital"})


def test_visit_update_version_must_be_a_whole_number():
    update = VisitUpdateSchema(partial=True)
    for version in (1.5, "2", True, 0):
        assert list(errors(update, {"version": version})) == ["version"], version
    assert update.load({"version": 3}) == {"version": 3}


# Other contract rules ----------------------------------------------------------------------

def test_order_end_before_start_is_refused():
    body = {"patient_id": PATIENT, "physician_id": PATIENT, "medication": "x", "dose": 1,
            "dose_unit": "g", "frequency_kind": "daily", "start_date": "2026-11-24",
            "end_date": "2026-11-23"}
    assert list(errors(OrderSchema(), body)) == ["end_date"]


def test_unknown_fields_are_refused_and_read_only_fields_named():
    body = {"mrn": "M", "first_name": "A", "last_name": "B", "birth_date": "1950-01-01",
            "locations": [{"kind": "home", "address": "x", "latitude": 1, "longitude": 1}]}
    assert PatientSchema().load(body)["mrn"] == "M"
    assert errors(PatientSchema(), {**body, "shoe_size": 9}) == {"shoe_size": ["Unknown field."]}
    assert errors(PatientSchema(), {**body, "version": 2}) == {"version": [READ_ONLY_MESSAGE]}
    nested = {**body, "locations": [{**body["locations"][0], "id": PATIENT}]}
    assert errors(PatientSchema(), nested) == {"locations": {0: {"id": [READ_ONLY_MESSAGE]}}}


def test_text_with_a_nul_is_refused_wherever_it_hides():
    body = {"mrn": "M", "first_name": "A", "last_name": "B", "birth_date": "1950-01-01",
            "allergies": ["ok", "n\x00"],
            "locations": [{"kind": "home", "address": "x", "latitude": 1, "longitude": 1}]}
    assert errors(PatientSchema(), body) == {"allergies": [NUL_MESSAGE]}


def test_nul_check_survives_deep_nesting():
    deep: Any = "x\x00"
    for _ in range(5000):
        deep = [deep]
    assert errors(PatientSchema(), {"allergies": deep}) == {"allergies": [NUL_MESSAGE]}
