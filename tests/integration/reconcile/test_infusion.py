"""``infusion.record``: every check against order, lot and pump, each with its review item.

Nothing here is refused: a doubtful administration is recorded, flagged, and put in front of
a person; the device hears ``applied`` with the most severe review item.
"""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from server.extensions import db
from server.models import (
    InfusionAdministration,
    OrderStatus,
    Pump,
    PumpStatus,
    ReviewStatus,
    Severity,
    TherapyOrder,
)
from sync.batches import SyncBatch

ORDER_RESOLUTIONS = ["accept", "amend", "entered_in_error"]
DOC_RESOLUTIONS = ["accept", "amend", "reassign_documentation", "entered_in_error"]


@pytest.fixture
def change(app):
    """``change(Model, id, **values)``: edit a stored row as a coordinator would have."""

    def edit(model, ident, **values):
        with app.app_context():
            stored = db.session.get(model, ident)
            for name, value in values.items():
                setattr(stored, name, value)
            db.session.commit()

    return edit


@pytest.fixture
def finding(review_items, rows):
    """``finding(result, kind)`` → the one review item, after checking result, item and flags."""

    def check(result, kind, severity=Severity.WARNING):
        assert result["status"] == "applied", result
        assert result["version"] == 1
        (item,) = review_items()
        assert (item.kind, item.severity, item.status) == (kind, severity, ReviewStatus.OPEN)
        assert result["review_item_id"] == str(item.id)
        (stored,) = rows(InfusionAdministration)
        assert stored.flags == [kind]
        assert item.details["record_id"] == str(stored.id)
        return item

    return check


def _clean(result, rows, review_items):
    assert result["status"] == "applied", result
    assert "review_item_id" not in result
    assert review_items() == []
    assert [s.flags for s in rows(InfusionAdministration)] == [[]]


def test_clean_administration_is_applied_with_full_provenance(
        phone, infusion, rows, review_items, agency, clock):
    mutation = infusion(phone)
    batch_id = str(uuid.uuid4())
    response = phone.push([mutation], batch_id=batch_id)
    assert response.get_json()["results"] == [
        {"id": mutation["id"], "status": "applied", "version": 1, "visit_version": 1,
         "flags": []}]
    assert review_items() == []
    (stored,) = rows(InfusionAdministration)
    assert stored.id == uuid.UUID(mutation["entity_id"])
    assert (stored.visit_id, stored.patient_id, stored.order_id, stored.pump_id) == (
        agency["visit_a"], agency["patient_a"], agency["order_a"], agency["pump_a"])
    assert (stored.nurse_id, str(stored.device_id), str(stored.mutation_id),
            str(stored.batch_id), stored.seq) == (
        agency["nurse_a"], phone.device_id, mutation["id"], batch_id, mutation["seq"])
    assert stored.occurred_at_text == "2026-11-23T09:05:00-05:00"
    assert stored.received_at == clock()
    assert (stored.started_at, stored.started_at_text) == (
        datetime(2026, 11, 23, 15, 5, tzinfo=UTC), "2026-11-23T10:05:00-05:00")
    assert stored.stopped_at_text == "2026-11-23T11:05:00-05:00"
    assert (stored.medication, stored.dose, stored.dose_unit, stored.lot_number,
            stored.lot_expiry, stored.pump_serial, stored.programmed_rate_ml_h) == (
        "ceftriaxone", Decimal("2"), "g", "LOT-7731", date(2027, 6, 30), "PMP-A",
        Decimal("100"))
    assert stored.flags == []
    assert stored.conflict is False
    assert rows(SyncBatch, SyncBatch.batch_id == uuid.UUID(batch_id)) != []


def test_medication_of_another_drug_is_a_critical_mismatch(phone, push, infusion, finding):
    result = push(phone, infusion(phone, medication="vancomycin"))[0]
    item = finding(result, "medication_mismatch", Severity.CRITICAL)
    assert item.summary == "Given vancomycin; ordered ceftriaxone."
    assert item.details["ordered"] == "ceftriaxone"
    assert item.details["given"] == "vancomycin"
    assert item.details["allowed_resolutions"] == ORDER_RESOLUTIONS


def test_medication_name_differing_only_in_case_and_spaces_matches(
        phone, push, infusion, rows, review_items):
    _clean(push(phone, infusion(phone, medication="  Ceftriaxone "))[0], rows, review_items)


@pytest.mark.parametrize(("dose", "unit", "given"), [
    (1.5, "g", "1.5 g"),
    (2000, "mg", "2000 mg"),
    (2, "mg", "2 mg"),
])
def test_dose_or_unit_other_than_ordered_is_outside_the_order(
        phone, push, infusion, finding, dose, unit, given):
    result = push(phone, infusion(phone, dose=dose, dose_unit=unit))[0]
    item = finding(result, "dose_outside_order")
    assert item.details["given"] == given
    assert item.details["ordered"].split()[1] == "g"
    assert Decimal(item.details["ordered"].split()[0]) == 2


def test_dose_written_with_trailing_zeros_matches(phone, push, infusion, rows, review_items):
    _clean(push(phone, infusion(phone, dose=2.000))[0], rows, review_items)


@pytest.mark.parametrize("rate", [120, 98.9, 101.5, 50])
def test_rate_beyond_one_percent_of_the_order_differs(phone, push, infusion, finding, rate):
    pump = {"serial": "PMP-A", "programmed_rate_ml_h": rate}
    item = finding(push(phone, infusion(phone, pump=pump))[0], "rate_differs_from_order")
    assert item.details["ordered_ml_h"] == 100.0
    assert item.details["programmed_ml_h"] == rate
    assert item.summary.startswith(f"Programmed {rate} mL/h; ordered 100")


@pytest.mark.parametrize("rate", [100.5, 99.5, 101, 99])
def test_rate_within_one_percent_of_the_order_is_not_flagged(
        phone, push, infusion, rows, review_items, rate):
    pump = {"serial": "PMP-A", "programmed_rate_ml_h": rate}
    _clean(push(phone, infusion(phone, pump=pump))[0], rows, review_items)


def test_lot_expired_before_the_day_given_is_critical(phone, push, infusion, finding):
    result = push(phone, infusion(phone, lot_expiry="2026-11-22"))[0]
    item = finding(result, "drug_expired", Severity.CRITICAL)
    assert item.summary == "Lot LOT-7731 expired 2026-11-22 and was given 2026-11-23."
    assert {k: item.details[k] for k in ("lot_number", "expiry", "given_on")} == {
        "lot_number": "LOT-7731", "expiry": "2026-11-22", "given_on": "2026-11-23"}


def test_lot_expiring_on_the_day_given_is_not_expired(phone, push, infusion, rows,
                                                       review_items):
    _clean(push(phone, infusion(phone, lot_expiry="2026-11-23"))[0], rows, review_items)


def test_expiry_is_judged_on_the_nurses_local_day_not_the_utc_day(
        phone, push, infusion, rows, review_items):
    # 23:30 in Springfield is already 04:30 on the 24th in UTC; the drug was given on the 23rd.
    late = infusion(phone, lot_expiry="2026-11-23", started_at="2026-11-23T23:30:00-05:00",
                    stopped_at="2026-11-24T00:30:00-05:00")
    _clean(push(phone, late)[0], rows, review_items)
    (stored,) = rows(InfusionAdministration)
    assert stored.started_at == datetime(2026, 11, 24, 4, 30, tzinfo=UTC)


def test_expiry_on_a_local_day_ahead_of_utc_is_judged_on_that_day(phone, push, infusion,
                                                                   finding):
    # 00:30 at +01:00 is still the 23rd in UTC, but locally the lot had expired the day before.
    early = infusion(phone, lot_expiry="2026-11-23", started_at="2026-11-24T00:30:00+01:00",
                     stopped_at="2026-11-24T01:30:00+01:00")
    item = finding(push(phone, early)[0], "drug_expired", Severity.CRITICAL)
    assert item.details["given_on"] == "2026-11-24"


def test_administration_without_an_order_has_no_active_order(phone, push, infusion, finding):
    item = finding(push(phone, infusion(phone, order_id=None))[0], "no_active_order")
    assert item.summary == "The administration has no matching active order."
    assert item.details["order_status"] is None
    assert item.details["allowed_resolutions"] == DOC_RESOLUTIONS


def test_order_of_another_patient_is_no_active_order(phone, push, infusion, finding, agency):
    result = push(phone, infusion(phone, order_id=str(agency["order_b"])))[0]
    item = finding(result, "no_active_order")
    assert item.details["order_id"] == str(agency["order_b"])
    assert item.details["order_status"] == "active"


def test_unknown_order_id_is_no_active_order(phone, push, infusion, finding):
    item = finding(push(phone, infusion(phone, order_id=str(uuid.uuid4())))[0],
                   "no_active_order")
    assert item.details["order_status"] is None


@pytest.mark.parametrize(("values", "status"), [
    ({"status": OrderStatus.DISCONTINUED}, "discontinued"),
    ({"status": OrderStatus.ON_HOLD}, "on_hold"),
    ({"end_date": date(2026, 11, 22)}, "active"),
    ({"start_date": date(2026, 11, 24)}, "active"),
])
def test_order_not_active_that_day_is_no_active_order(
        phone, push, infusion, finding, change, agency, values, status):
    change(TherapyOrder, agency["order_a"], **values)
    item = finding(push(phone, infusion(phone))[0], "no_active_order")
    assert item.details["order_status"] == status


def test_no_active_order_skips_the_checks_against_that_order(phone, push, infusion, finding):
    wrong = infusion(phone, order_id=None, medication="vancomycin", dose=1)
    finding(push(phone, wrong)[0], "no_active_order")


def test_pump_not_in_the_registry_is_unknown(phone, push, infusion, finding, rows):
    pump = {"serial": "PMP-Z", "programmed_rate_ml_h": 100}
    item = finding(push(phone, infusion(phone, pump=pump))[0], "pump_unknown")
    assert item.summary == "Pump PMP-Z is not in the registry."
    assert item.details["serial"] == "PMP-Z"
    (stored,) = rows(InfusionAdministration)
    assert (stored.pump_serial, stored.pump_id) == ("PMP-Z", None)


def test_pump_of_another_patient_is_assigned_elsewhere(phone, push, infusion, finding, agency):
    pump = {"serial": "PMP-B", "programmed_rate_ml_h": 100}
    item = finding(push(phone, infusion(phone, pump=pump))[0], "pump_assigned_elsewhere")
    assert item.summary == "Pump PMP-B is not assigned to this patient."
    assert item.details["assigned_patient_id"] == str(agency["patient_b"])
    assert item.details["pump_id"] == str(agency["pump_b"])


@pytest.mark.parametrize(("status", "words"), [(PumpStatus.RECALLED, "recalled"),
                                               (PumpStatus.OUT_OF_SERVICE, "out of service")])
def test_pump_recalled_or_out_of_service_is_critical(
        phone, push, infusion, finding, change, agency, status, words):
    change(Pump, agency["pump_a"], status=status)
    item = finding(push(phone, infusion(phone))[0], "pump_not_in_service", Severity.CRITICAL)
    assert item.summary == f"Pump PMP-A is {words}."
    assert item.details["status"] == status.value
    assert item.details["allowed_resolutions"] == ["accept", "amend"]


def test_pump_past_its_maintenance_date_is_overdue(phone, push, infusion, finding, change,
                                                    agency):
    change(Pump, agency["pump_a"], next_pm_due_on=date(2026, 11, 22))
    item = finding(push(phone, infusion(phone))[0], "pump_maintenance_overdue")
    assert item.summary == "Pump PMP-A was due for maintenance on 2026-11-22."
    assert item.details["next_pm_due_on"] == "2026-11-22"


def test_pump_marked_maintenance_due_is_overdue(phone, push, infusion, finding, change, agency):
    change(Pump, agency["pump_a"], status=PumpStatus.MAINTENANCE_DUE)
    item = finding(push(phone, infusion(phone))[0], "pump_maintenance_overdue")
    assert item.summary == "Pump PMP-A is marked due for maintenance."
    assert (item.details["status"], item.details["next_pm_due_on"]) == ("maintenance_due", None)


def test_pump_due_for_maintenance_on_the_day_given_is_not_overdue(
        phone, push, infusion, rows, review_items, change, agency):
    change(Pump, agency["pump_a"], next_pm_due_on=date(2026, 11, 23))
    _clean(push(phone, infusion(phone))[0], rows, review_items)


def test_administration_without_a_pump_skips_the_pump_checks(phone, push, infusion, rows,
                                                             review_items):
    _clean(push(phone, infusion(phone, pump=None))[0], rows, review_items)
    assert [s.pump_id for s in rows(InfusionAdministration)] == [None]


def test_adverse_reaction_is_critical(phone, push, infusion, finding, rows):
    reaction = {"occurred": True, "description": "Urticaria on the forearm",
                "actions_taken": "Infusion stopped, physician called"}
    item = finding(push(phone, infusion(phone, adverse_reaction=reaction))[0],
                   "adverse_reaction", Severity.CRITICAL)
    assert item.summary == "An adverse reaction was documented."
    assert item.details["actions_taken"] is True
    assert rows(InfusionAdministration)[0].adverse_reaction == reaction


def test_no_adverse_reaction_opens_nothing(phone, push, infusion, rows, review_items):
    reaction = {"occurred": False}
    _clean(push(phone, infusion(phone, adverse_reaction=reaction))[0], rows, review_items)


def test_result_names_the_most_severe_of_several_items(phone, push, infusion, review_items,
                                                       rows):
    # The warning is found first; the critical item is the one the device must hear about.
    result = push(phone, infusion(phone, dose=1, lot_expiry="2026-01-31"))[0]
    items = {item.kind: item for item in review_items()}
    assert set(items) == {"dose_outside_order", "drug_expired"}
    # Both reach the nurse as flags, the critical one first, in words she can act on.
    assert result == {"id": result["id"], "status": "applied", "version": 1,
                      "visit_version": 1, "review_item_id": str(items["drug_expired"].id),
                      "flags": [
                          {"code": "drug_expired", "severity": "critical",
                           "message": "Lot LOT-7731 expired on 2026-01-31: do not infuse "
                                      "it; call the pharmacy."},
                          {"code": "dose_outside_order", "severity": "warning",
                           "message": "Dose 1 g differs from the order (2 g): check the "
                                      "order before the next dose."}]}
    assert rows(InfusionAdministration)[0].flags == ["dose_outside_order", "drug_expired"]


def test_every_finding_at_once_is_recorded(phone, push, infusion, review_items, rows, change,
                                           agency):
    change(Pump, agency["pump_b"], status=PumpStatus.RECALLED)
    wild = infusion(phone, medication="vancomycin", dose=1, lot_expiry="2026-01-31",
                    pump={"serial": "PMP-B", "programmed_rate_ml_h": 250},
                    adverse_reaction={"occurred": True})
    result = push(phone, wild)[0]
    assert result["status"] == "applied"
    kinds = ["medication_mismatch", "dose_outside_order", "rate_differs_from_order",
             "drug_expired", "pump_assigned_elsewhere", "pump_not_in_service",
             "adverse_reaction"]
    assert rows(InfusionAdministration)[0].flags == kinds
    items = {item.kind: item for item in review_items()}
    assert set(items) == set(kinds)
    assert result["review_item_id"] in {str(items[k].id) for k in kinds
                                        if items[k].severity is Severity.CRITICAL}


def _timed(infusion, device, start, stop):
    return infusion(device, started_at=f"2026-11-23T{start}:00-05:00",
                    stopped_at=f"2026-11-23T{stop}:00-05:00")


def test_overlapping_administrations_of_one_order_are_both_kept_and_flagged(
        enroll, push, infusion, rows, review_items):
    phone, tablet = enroll("nurse_a"), enroll("nurse_a")
    first = push(phone, _timed(infusion, phone, "10:05", "11:05"))[0]
    second = push(tablet, _timed(infusion, tablet, "10:30", "11:30"))[0]
    assert first == {"id": first["id"], "status": "applied", "version": 1,
                     "visit_version": 1, "flags": []}
    assert second["status"] == "applied"
    stored = {str(s.device_id): s for s in rows(InfusionAdministration)}
    assert len(stored) == 2
    assert stored[phone.device_id].flags == ["possible_duplicate_administration"]
    assert stored[tablet.device_id].flags == ["possible_duplicate_administration"]
    items = {i.details["record_id"]: i for i in review_items()}
    assert set(items) == {str(stored[phone.device_id].id), str(stored[tablet.device_id].id)}
    item = items[str(stored[tablet.device_id].id)]
    assert (item.kind, item.severity) == ("possible_duplicate_administration", Severity.WARNING)
    assert second["review_item_id"] == str(item.id)
    assert item.details["others"] == [{"id": str(stored[phone.device_id].id),
                                       "device_id": phone.device_id}]
    assert item.details["allowed_resolutions"] == ["accept", "entered_in_error"]
    earlier = items[str(stored[phone.device_id].id)]
    assert earlier.details["others"] == [{"id": str(stored[tablet.device_id].id),
                                          "device_id": tablet.device_id}]


def test_administrations_of_one_order_that_do_not_overlap_are_not_flagged(
        enroll, push, infusion, rows, review_items):
    phone, tablet = enroll("nurse_a"), enroll("nurse_a")
    push(phone, _timed(infusion, phone, "10:05", "11:05"))
    result = push(tablet, _timed(infusion, tablet, "11:10", "12:00"))[0]
    assert "review_item_id" not in result
    assert [s.flags for s in rows(InfusionAdministration)] == [[], []]
    assert review_items() == []


def test_overlapping_administration_in_the_same_batch_is_flagged_on_both(
        phone, push, infusion, rows, review_items):
    results = push(phone, _timed(infusion, phone, "10:05", "11:05"),
                   _timed(infusion, phone, "10:05", "11:05"))
    assert [r["status"] for r in results] == ["applied", "applied"]
    assert "review_item_id" not in results[0]
    assert [s.flags for s in rows(InfusionAdministration)] == [
        ["possible_duplicate_administration"]] * 2
    assert [i.kind for i in review_items()] == ["possible_duplicate_administration"] * 2


def test_review_items_point_at_patient_visit_device_and_mutation(
        phone, push, infusion, review_items, agency):
    mutation = infusion(phone, medication="vancomycin")
    push(phone, mutation)
    (item,) = review_items()
    assert (item.patient_id, item.visit_id, str(item.device_id), str(item.mutation_id)) == (
        agency["patient_a"], agency["visit_a"], phone.device_id, mutation["id"])
    assert item.created_at == datetime(2026, 11, 23, 13, 0, tzinfo=UTC)



def test_administration_overlapping_two_others_is_flagged_once_naming_both(
        enroll, push, infusion, rows, review_items):
    phone, tablet, spare = enroll("nurse_a"), enroll("nurse_a"), enroll("nurse_a")
    push(phone, _timed(infusion, phone, "10:05", "11:05"))
    push(tablet, _timed(infusion, tablet, "10:30", "11:30"))
    third = push(spare, _timed(infusion, spare, "10:45", "11:15"))[0]
    stored = {str(s.device_id): s for s in rows(InfusionAdministration)}
    assert [stored[d.device_id].flags for d in (phone, tablet, spare)] == [
        ["possible_duplicate_administration"]] * 3
    item = next(i for i in review_items() if str(i.id) == third["review_item_id"])
    assert item.details["record_id"] == str(stored[spare.device_id].id)
    assert sorted(other["id"] for other in item.details["others"]) == sorted(
        str(stored[d.device_id].id) for d in (phone, tablet))
    # One item per record involved, whichever arrived first.
    assert len(review_items("possible_duplicate_administration")) == 3
