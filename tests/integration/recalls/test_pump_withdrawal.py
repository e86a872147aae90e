"""A pump recalled or taken out of service through PATCH /pumps/{id}: traced to its patients."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent, Notification
from tests.integration.recalls.helpers import (
    device_notifications,
    documented_with,
    patch_pump,
    recall_items,
    staff,
)

RECALLED = "Pump PMP-A is recalled: stop using it and call the pharmacy."


def _used_at_two_patients(client: Any, enroll: Any, agency: Any,
                          clock: Any) -> tuple[Any, Any, str, str]:
    """Nurse A infuses with PMP-A at patient A; it moves to patient B; nurse B infuses."""
    phone_a, phone_b = enroll("nurse_a"), enroll("nurse_b")
    given_a = documented_with(phone_a, agency["visit_a"], agency["order_a"], "PMP-A")
    clock.advance(minutes=30)
    patch_pump(client, agency["pump_a"],
               patient_id=str(agency["patient_b"]))
    given_b = documented_with(phone_b, agency["visit_b"], agency["order_b"], "PMP-A", 10)
    clock.advance(minutes=30)
    return phone_a, phone_b, given_a, given_b


def test_recall_opens_a_critical_item_per_patient_with_the_administrations(
        client, enroll, agency, clock):
    _a, _b, given_a, given_b = _used_at_two_patients(client, enroll, agency, clock)
    patch_pump(client, agency["pump_a"], status="recalled")

    items = recall_items(client)
    assert set(items) == {str(agency["patient_a"]), str(agency["patient_b"])}
    for patient, given, nurse, visit, assigned in (
            ("patient_a", given_a, "nurse_a", "visit_a", False),
            ("patient_b", given_b, "nurse_b", "visit_b", True)):
        item = items[str(agency[patient])]
        assert (item["kind"], item["severity"], item["status"]) == (
            "pump_recalled", "critical", "open")
        assert item["allowed_resolutions"] == ["accept"]
        details = item["details"]
        assert details["serial"] == "PMP-A" and details["status"] == "recalled"
        assert details["assigned_when_withdrawn"] is assigned
        assert [(a["id"], a["visit_id"], a["nurse_id"]) for a in details["administrations"]] \
            == [(given, str(agency[visit]), str(agency[nurse]))]
        # ids and times only: no drug, dose or rate in the evidence
        assert set(details["administrations"][0]) == {"id", "visit_id", "nurse_id",
                                                      "started_at"}


def test_each_nurse_finds_the_recall_in_her_next_pull(client, enroll, agency, clock):
    phone_a, phone_b, _a, _b = _used_at_two_patients(client, enroll, agency, clock)
    patch_pump(client, agency["pump_a"], status="recalled")
    for phone in (phone_a, phone_b):
        notes = device_notifications(phone)
        assert [(n["kind"], n["title"], n["body"], n["pump_id"]) for n in notes] == [
            ("pump_recalled", "Pump recalled", RECALLED, str(agency["pump_a"]))]


def test_nurse_with_a_visit_ahead_is_told_though_she_never_used_the_pump(
        client, enroll, agency):
    phone_a, phone_b = enroll("nurse_a"), enroll("nurse_b")
    patch_pump(client, agency["pump_b"], status="recalled")
    assert [n["body"] for n in device_notifications(phone_b)] == [
        "Pump PMP-B is recalled: stop using it and call the pharmacy."]
    assert device_notifications(phone_a) == []
    item = recall_items(client)[str(agency["patient_b"])]
    assert item["details"]["assigned_when_withdrawn"] is True
    assert item["details"]["administrations"] == []


def test_recall_of_a_pump_swapped_out_last_week_reaches_its_past_patient(
        client, enroll, agency, clock):
    phone_a = enroll("nurse_a")
    given = documented_with(phone_a, agency["visit_a"], agency["order_a"], "PMP-A")
    clock.advance(days=1)
    patch_pump(client, agency["pump_a"], patient_id=None)
    clock.advance(days=7)
    patch_pump(client, agency["pump_a"], status="recalled")
    item = recall_items(client)[str(agency["patient_a"])]
    assert item["details"]["assigned_when_withdrawn"] is False
    assert [a["id"] for a in item["details"]["administrations"]] == [given]
    assert item["details"]["assignments"] == [{"assigned_at": "2026-11-23T13:00:00+00:00",
                                               "unassigned_at": "2026-11-24T13:00:00+00:00"}]
    assert [n["body"] for n in device_notifications(phone_a)] == [RECALLED]


def test_a_pump_that_served_a_patient_over_90_days_ago_does_not_reach_her(
        client, enroll, agency, clock):
    documented_with(enroll("nurse_a"), agency["visit_a"], agency["order_a"], "PMP-A")
    patch_pump(client, agency["pump_a"], patient_id=None)
    clock.advance(days=91)
    patch_pump(client, agency["pump_a"], patient_id=str(agency["patient_b"]))
    patch_pump(client, agency["pump_a"], status="recalled")
    assert list(recall_items(client)) == [str(agency["patient_b"])]


def test_out_of_service_is_traced_the_same_way(client, enroll, agency, clock):
    phone_a, phone_b, given_a, _given_b = _used_at_two_patients(client, enroll,
                                                               agency, clock)
    patch_pump(client, agency["pump_a"], status="out_of_service")
    items = recall_items(client)
    assert {item["kind"] for item in items.values()} == {"pump_out_of_service"}
    assert {item["severity"] for item in items.values()} == {"critical"}
    assert [a["id"] for a in items[str(agency["patient_a"])]["details"]["administrations"]] \
        == [given_a]
    for phone in (phone_a, phone_b):
        assert [n["body"] for n in device_notifications(phone)] == [
            "Pump PMP-A is out of service: stop using it and call the pharmacy."]


def test_the_same_status_again_traces_nothing_new_but_a_second_recall_does(
        app, client, enroll, agency, clock):
    enroll("nurse_b")
    patch_pump(client, agency["pump_b"], status="recalled")
    patch_pump(client, agency["pump_b"], status="recalled", model="CADD-Solis")
    patch_pump(client, agency["pump_b"], status="out_of_service")
    assert len(recall_items(client)) == 1
    with app.app_context():  # one for the nurse's device, one for the patient's physician
        assert sorted((n.user_id, n.kind) for n in db.session.scalars(
            select(Notification))) == sorted([(agency["nurse_b"], "pump_recalled"),
                                              (agency["physician_b"], "critical_finding")])
    # back in service after repair, then recalled again: a new withdrawal, traced again
    patch_pump(client, agency["pump_b"], status="in_service")
    clock.advance(minutes=5)
    patch_pump(client, agency["pump_b"], status="recalled")
    listed = client.get("/api/v1/review-items", headers=staff(client, "qc"),
                        query_string={"kind": "pump_recalled"}).get_json()
    assert len(listed) == 2
    with app.app_context():  # a second withdrawal: the nurse and the physician told again
        assert len(db.session.scalars(select(Notification)).all()) == 4


def test_the_withdrawal_is_audited_with_ids_only(app, client, enroll, agency, clock):
    _a, _b, given_a, given_b = _used_at_two_patients(client, enroll, agency, clock)
    patch_pump(client, agency["pump_a"], status="recalled")
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "recall")).one()
    assert (event.actor_user_id, event.entity_type, event.entity_id) == (
        agency["coordinator"], "pumps", agency["pump_a"])
    assert event.details["status"] == "recalled"
    assert event.details["patient_ids"] == sorted([str(agency["patient_a"]),
                                                   str(agency["patient_b"])])
    assert event.details["administration_ids"] == sorted([given_a, given_b])
    assert sorted(event.details["notified_user_ids"]) == sorted(
        [str(agency["nurse_a"]), str(agency["nurse_b"])])
