"""The vital-sign rules (server/reconcile/vital_ranges.py, vitals.py), called directly.

A reading outside what a living patient can have is refused with a message naming the
field, so the nurse re-enters it; a reading outside the normal adult range is stored and
flagged ``abnormal`` for the QC view. The checks are private to ``vitals.record``, so each
test runs the handler with a real batch cache and reads back the row it stored (or not).
The push tier (tests/integration/reconcile/test_vitals.py) checks what the device is told.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from server.models import VitalSign
from server.reconcile import vitals
from server.reconcile.context import Result
from sync.ledger import Outcome
from tests.integration.reconcile.rules.conftest import Context

Record = Callable[..., tuple[Result, VitalSign | None]]
BP = "85354-9"


@pytest.fixture
def record(session: Session, context: Context) -> Record:
    """``record(code, value, unit, components=None)`` → (the handler's result, the stored
    vital sign or None), as one batch of one reading."""

    def run(code: str, value: Any = None, unit: str = "/min",
            components: list[dict[str, Any]] | None = None) -> tuple[Result, VitalSign | None]:
        data: dict[str, Any] = {"code": code, "unit": unit,
                                "taken_at": "2026-11-23T10:10:00-05:00"}
        data.update({"components": components} if components is not None else {"value": value})
        ctx = context("vitals.record", data)
        result = vitals.record(ctx)
        ctx.cache.insert_pending()
        return result, session.get(VitalSign, ctx.mutation["entity_id"])

    return run


def _bp(systolic: Any, diastolic: Any, unit: str = "mm[Hg]") -> list[dict[str, Any]]:
    return [{"code": "8480-6", "value": systolic, "unit": unit},
            {"code": "8462-4", "value": diastolic, "unit": unit}]


def _refused(result: Result, stored: VitalSign | None) -> dict[str, Any]:
    assert (result.outcome, stored) == (Outcome.REJECTED, None)
    return result.errors


def _flags(result: Result, stored: VitalSign | None) -> list[str]:
    assert result.outcome is Outcome.APPLIED and result.review_item_id is None
    assert stored is not None
    return stored.flags


# Impossible values -----------------------------------------------------------------------

@pytest.mark.parametrize(("code", "value", "unit", "reading"), [
    ("8867-4", 0, "/min", "Heart rate 0 /min"),
    ("8867-4", 301, "/min", "Heart rate 301 /min"),
    ("9279-1", 81, "/min", "Respiratory rate 81 /min"),
    ("2708-6", 29, "%", "Oxygen saturation 29 %"),
    ("2708-6", "100.5", "%", "Oxygen saturation 100.5 %"),
    ("8310-5", "24.9", "Cel", "Body temperature 24.9 Cel"),
    ("8310-5", "45.1", "Cel", "Body temperature 45.1 Cel"),
    ("29463-7", "0.2", "kg", "Body weight 0.2 kg"),
    ("72514-3", 11, "{score}", "Pain severity 11 {score}"),
])
def test_a_physiologically_impossible_reading_is_refused_so_the_nurse_rechecks_it(
        record: Record, code: str, value: Any, unit: str, reading: str) -> None:
    assert _refused(*record(code, value, unit)) == {
        "data.value": [f"{reading} is physiologically impossible; check the entry."]}


@pytest.mark.parametrize(("code", "value", "unit"), [
    ("8867-4", 1, "/min"), ("8867-4", 300, "/min"), ("2708-6", 30, "%"),
    ("8310-5", 25, "Cel"), ("8310-5", 45, "Cel"), ("29463-7", "0.3", "kg"),
    ("29463-7", 500, "kg"), ("72514-3", 0, "{score}"), ("72514-3", 10, "{score}"),
])
def test_the_impossible_limits_themselves_are_possible(record: Record, code: str, value: Any,
                                                       unit: str) -> None:
    result, stored = record(code, value, unit)
    assert result.outcome is Outcome.APPLIED and stored is not None


def test_an_unknown_loinc_code_is_refused_naming_the_code(record: Record) -> None:
    assert _refused(*record("1234-5", 10)) == {
        "data.code": ["Unknown LOINC code 1234-5 for a vital sign."]}


@pytest.mark.parametrize(("code", "unit", "message"), [
    ("8310-5", "[degF]", "Unit '[degF]' is not valid for body temperature (use ['Cel'])."),
    ("8867-4", "bpm", "Unit 'bpm' is not valid for heart rate (use ['/min'])."),
])
def test_a_unit_the_code_does_not_take_is_refused_naming_the_unit(
        record: Record, code: str, unit: str, message: str) -> None:
    assert _refused(*record(code, 98, unit)) == {"data.unit": [message]}


# Normal ranges: inclusive edges ------------------------------------------------------------

@pytest.mark.parametrize(("code", "unit", "low", "high", "below", "above"), [
    ("8867-4", "/min", 51, 90, 50, 91),
    ("9279-1", "/min", 12, 20, 11, 21),
    ("2708-6", "%", 96, 100, None, None),  # 100 % is the top of the scale
    ("8310-5", "Cel", "36.1", "38.0", "36.0", "38.1"),
    ("72514-3", "{score}", 0, 3, None, 4),  # a pain score above 3 is flagged
])
def test_readings_on_the_edges_of_normal_are_not_flagged_and_beyond_them_are(
        record: Record, code: str, unit: str, low: Any, high: Any, below: Any,
        above: Any) -> None:
    assert _flags(*record(code, low, unit)) == []
    assert _flags(*record(code, high, unit)) == []
    for outside in (v for v in (below, above) if v is not None):
        assert _flags(*record(code, outside, unit)) == ["abnormal"]


def test_body_weight_has_no_normal_range(record: Record) -> None:
    assert _flags(*record("29463-7", "0.3", "kg")) == []
    assert _flags(*record("29463-7", 500, "kg")) == []


# Blood pressure: a panel of systolic and diastolic ---------------------------------------

def test_a_blood_pressure_is_stored_with_both_components(record: Record) -> None:
    result, stored = record(BP, unit="mm[Hg]", components=_bp(118, 76))
    assert _flags(result, stored) == []
    assert stored is not None
    assert [(c["code"], c["value"], c["unit"]) for c in stored.components] == [
        ("8480-6", 118, "mm[Hg]"), ("8462-4", 76, "mm[Hg]")]


@pytest.mark.parametrize(("systolic", "diastolic", "flags"), [
    (90, 60, []), (139, 89, []),  # the normal edges of both components
    (89, 70, ["abnormal"]),  # hypotension: systolic below 90
    (140, 80, ["abnormal"]), (120, 90, ["abnormal"]), (120, 59, ["abnormal"]),
])
def test_either_component_outside_its_range_flags_the_blood_pressure(
        record: Record, systolic: int, diastolic: int, flags: list[str]) -> None:
    assert _flags(*record(BP, unit="mm[Hg]", components=_bp(systolic, diastolic))) == flags


def test_an_impossible_component_is_refused_naming_that_component(record: Record) -> None:
    assert _refused(*record(BP, unit="mm[Hg]", components=_bp(120, 210))) == {
        "data.components.1.value": ["Diastolic blood pressure 210 mm[Hg] is physiologically "
                               "impossible; check the entry."]}


def test_a_component_in_another_unit_is_refused_naming_that_component(
        record: Record) -> None:
    assert _refused(*record(BP, unit="mm[Hg]", components=_bp(16, 10, unit="kPa"))) == {
        "data.components.0.unit": ["Unit 'kPa' is not valid for systolic blood pressure "
                              "(use ['mm[Hg]'])."]}


@pytest.mark.parametrize("components", [
    _bp(120, 80)[:1],  # systolic only
    [*_bp(120, 80), {"code": "8480-6", "value": 121, "unit": "mm[Hg]"}],  # three readings
    [{"code": "8867-4", "value": 72, "unit": "/min"}, _bp(120, 80)[1]],  # a pulse instead
])
def test_a_blood_pressure_needs_exactly_systolic_and_diastolic(
        record: Record, components: list[dict[str, Any]]) -> None:
    assert _refused(*record(BP, unit="mm[Hg]", components=components)) == {
        "data.components": ["A blood pressure needs systolic 8480-6 and diastolic 8462-4."]}


def test_a_single_vital_sign_sent_as_components_needs_a_value(record: Record) -> None:
    components = [{"code": "8867-4", "value": 72, "unit": "/min"}]
    assert _refused(*record("8867-4", components=components)) == {
        "data.value": ["This vital sign needs a value."]}
