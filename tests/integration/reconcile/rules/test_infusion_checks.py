"""The infusion rules a QC nurse relies on, called directly: order, dose, rate, lot, pump.

Each test states one fact of the administration or the registry and the queue entry it
gives (kind, severity, message); the push tier (tests/integration/reconcile/test_infusion.py)
checks that those entries are stored, flagged and resolvable.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from server.models import OrderStatus, Pump, PumpStatus, Severity, TherapyOrder, Visit
from server.reconcile import infusion_checks as checks
from tests.integration.reconcile.rules.conftest import qc_view

DAY = date(2026, 11, 23)  # the nurse's local day when she started the infusion
Administration = Callable[..., dict[str, Any]]


def _order(session: Session, agency: Any) -> TherapyOrder:
    order = session.get(TherapyOrder, agency["order_a"])
    assert order is not None
    return order


def _pump(session: Session, agency: Any, name: str = "pump_a") -> Pump:
    pump = session.get(Pump, agency[name])
    assert pump is not None
    return pump


def test_an_administration_as_ordered_on_its_own_pump_raises_nothing(
        session: Session, visit: Visit, agency: Any, administration: Administration) -> None:
    data = administration()
    assert checks.against_order(session, visit, data, DAY) == []
    assert checks.lot(data, DAY) == []
    assert checks.pump(session, visit, data, DAY) == (_pump(session, agency), [])
    assert checks.adverse(data) == []


# Against the order ----------------------------------------------------------------------

def test_another_drug_is_a_critical_mismatch(
        session: Session, visit: Visit, administration: Administration) -> None:
    findings = checks.against_order(session, visit, administration(medication="vancomycin"),
                                    DAY)
    assert qc_view(findings) == [("medication_mismatch", Severity.CRITICAL,
                                  "Given vancomycin; ordered ceftriaxone.")]


def test_the_drug_name_is_read_without_case_or_extra_spaces(
        session: Session, visit: Visit, administration: Administration) -> None:
    data = administration(medication="  CefTRIAXone ")
    assert checks.against_order(session, visit, data, DAY) == []


@pytest.mark.parametrize(("dose", "unit"), [(1, "g"), (2000, "mg"), ("2.001", "g")])
def test_a_dose_in_another_amount_or_unit_is_outside_the_order(
        session: Session, visit: Visit, administration: Administration, dose: Any,
        unit: str) -> None:
    [(kind, severity, message)] = qc_view(checks.against_order(
        session, visit, administration(dose=dose, dose_unit=unit), DAY))
    assert (kind, severity) == ("dose_outside_order", Severity.WARNING)
    given, ordered = message.removeprefix("Given ").removesuffix(".").split("; ordered ")
    assert given == f"{Decimal(str(dose))} {unit}"
    assert Decimal(ordered.split()[0]) == 2 and ordered.split()[1] == "g"


@pytest.mark.parametrize("rate", [99, "100.9", 101])
def test_a_programmed_rate_within_one_percent_of_the_order_passes(
        session: Session, visit: Visit, administration: Administration, rate: Any) -> None:
    data = administration(pump={"serial": "PMP-A", "programmed_rate_ml_h": rate,
                                "vtbi_ml": 100})
    assert checks.against_order(session, visit, data, DAY) == []


@pytest.mark.parametrize("rate", ["98.9", "101.1", 125])
def test_a_programmed_rate_beyond_one_percent_differs_from_the_order(
        session: Session, visit: Visit, administration: Administration, rate: Any) -> None:
    data = administration(pump={"serial": "PMP-A", "programmed_rate_ml_h": rate,
                                "vtbi_ml": 100})
    [(kind, severity, message)] = qc_view(checks.against_order(session, visit, data, DAY))
    assert (kind, severity) == ("rate_differs_from_order", Severity.WARNING)
    assert message.startswith(f"Programmed {Decimal(str(rate))} mL/h; ordered 100")


def test_without_a_pump_the_rate_is_not_checked(
        session: Session, visit: Visit, administration: Administration) -> None:
    assert checks.against_order(session, visit, administration(pump=None), DAY) == []


@pytest.mark.parametrize("status", [OrderStatus.ON_HOLD, OrderStatus.DISCONTINUED,
                                    OrderStatus.COMPLETED])
def test_an_order_no_longer_active_is_no_active_order(
        session: Session, visit: Visit, agency: Any, administration: Administration,
        status: OrderStatus) -> None:
    _order(session, agency).status = status
    [(kind, severity, message)] = qc_view(checks.against_order(
        session, visit, administration(), DAY))
    assert (kind, severity) == ("no_active_order", Severity.WARNING)
    assert message == "The administration has no matching active order."


@pytest.mark.parametrize(("start", "end", "active"), [
    (date(2026, 11, 23), None, True),  # starts that day
    (date(2026, 11, 24), None, False),  # starts the next day
    (date(2026, 11, 20), date(2026, 11, 23), True),  # its last day
    (date(2026, 11, 20), date(2026, 11, 22), False),  # ended the day before
])
def test_the_order_must_cover_the_day_it_was_given(
        session: Session, visit: Visit, agency: Any, administration: Administration,
        start: date, end: date | None, active: bool) -> None:
    order = _order(session, agency)
    order.start_date, order.end_date = start, end
    kinds = [kind for kind, *_ in checks.against_order(session, visit, administration(), DAY)]
    assert kinds == ([] if active else ["no_active_order"])


@pytest.mark.parametrize("order", ["order_b", None])
def test_another_patients_order_or_none_is_no_active_order(
        session: Session, visit: Visit, agency: Any, administration: Administration,
        order: str | None) -> None:
    data = administration(order_id=str(agency[order]) if order else None)
    kinds = [kind for kind, *_ in checks.against_order(session, visit, data, DAY)]
    assert kinds == ["no_active_order"]


# The drug lot ----------------------------------------------------------------------------

def test_a_lot_is_good_through_its_expiry_date(administration: Administration) -> None:
    assert checks.lot(administration(lot_expiry="2026-11-23"), DAY) == []


def test_a_lot_past_its_expiry_is_a_critical_finding(administration: Administration) -> None:
    assert qc_view(checks.lot(administration(lot_expiry="2026-11-22"), DAY)) == [
        ("drug_expired", Severity.CRITICAL,
         "Lot LOT-7731 expired 2026-11-22 and was given 2026-11-23.")]


# The pump ----------------------------------------------------------------------------------

def test_a_serial_missing_from_the_registry_is_an_unknown_pump(
        session: Session, visit: Visit, administration: Administration) -> None:
    data = administration(pump={"serial": "PMP-Z", "programmed_rate_ml_h": 100})
    found, findings = checks.pump(session, visit, data, DAY)
    assert found is None
    assert qc_view(findings) == [("pump_unknown", Severity.WARNING,
                                  "Pump PMP-Z is not in the registry.")]


def test_another_patients_pump_is_assigned_elsewhere(
        session: Session, visit: Visit, administration: Administration) -> None:
    data = administration(pump={"serial": "PMP-B", "programmed_rate_ml_h": 100})
    assert qc_view(checks.pump(session, visit, data, DAY)[1]) == [
        ("pump_assigned_elsewhere", Severity.WARNING,
         "Pump PMP-B is not assigned to this patient.")]


@pytest.mark.parametrize(("status", "words"), [(PumpStatus.RECALLED, "recalled"),
                                               (PumpStatus.OUT_OF_SERVICE, "out of service")])
def test_a_pump_out_of_service_is_critical(
        session: Session, visit: Visit, agency: Any, administration: Administration,
        status: PumpStatus, words: str) -> None:
    _pump(session, agency).status = status
    assert qc_view(checks.pump(session, visit, administration(), DAY)[1]) == [
        ("pump_not_in_service", Severity.CRITICAL, f"Pump PMP-A is {words}.")]


@pytest.mark.parametrize(("due", "message"), [
    (date(2026, 11, 22), "Pump PMP-A was due for maintenance on 2026-11-22."),
    (None, None),
    (date(2026, 11, 23), None),  # due that very day: not yet overdue
])
def test_maintenance_is_overdue_after_its_due_date(
        session: Session, visit: Visit, agency: Any, administration: Administration,
        due: date | None, message: str | None) -> None:
    _pump(session, agency).next_pm_due_on = due
    expected = [("pump_maintenance_overdue", Severity.WARNING, message)] if message else []
    assert qc_view(checks.pump(session, visit, administration(), DAY)[1]) == expected


def test_a_pump_marked_maintenance_due_is_overdue_whatever_its_date(
        session: Session, visit: Visit, agency: Any, administration: Administration) -> None:
    _pump(session, agency).status = PumpStatus.MAINTENANCE_DUE
    assert qc_view(checks.pump(session, visit, administration(), DAY)[1]) == [
        ("pump_maintenance_overdue", Severity.WARNING,
         "Pump PMP-A is marked due for maintenance.")]


def test_a_recalled_pump_is_reported_as_recalled_not_as_overdue(
        session: Session, visit: Visit, agency: Any, administration: Administration) -> None:
    pump = _pump(session, agency)
    pump.status, pump.next_pm_due_on = PumpStatus.RECALLED, date(2026, 1, 1)
    kinds = [kind for kind, *_ in checks.pump(session, visit, administration(), DAY)[1]]
    assert kinds == ["pump_not_in_service"]


def test_without_a_pump_there_is_nothing_to_verify(
        session: Session, visit: Visit, administration: Administration) -> None:
    assert checks.pump(session, visit, administration(pump=None), DAY) == (None, [])


# Adverse reactions ---------------------------------------------------------------------

def test_an_adverse_reaction_always_reaches_a_person(administration: Administration) -> None:
    data = administration(adverse_reaction={"occurred": True, "description": "rash",
                                            "actions_taken": "stopped the infusion"})
    assert qc_view(checks.adverse(data)) == [
        ("adverse_reaction", Severity.CRITICAL, "An adverse reaction was documented.")]
    assert checks.adverse(administration(adverse_reaction={"occurred": False})) == []
