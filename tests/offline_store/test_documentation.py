"""EVV and vitals mutations carry exactly the codes, units and versions the server expects."""

from __future__ import annotations

import pytest

from offline_store.documentation import (
    Location,
    Vitals,
    check_in,
    check_out,
    parse_blood_pressure,
    record_vitals,
)
from offline_store.errors import UnknownVisit
from offline_store.outbox import Outbox
from offline_store.store import Store
from tests.offline_store.conftest import DeviceClock


@pytest.fixture
def visit(store: Store) -> str:
    store.put("visit", "v1", {"patient_id": "p1", "status": "scheduled"}, version=4,
              synced=True)
    return "v1"


def test_check_in_names_the_visit_and_its_known_version(
        store: Store, visit: str, device_clock: DeviceClock) -> None:
    mutation = check_in(store, visit, device_clock(), Location(40.7, -74.0, 12.5))
    assert (mutation.type, mutation.entity_id, mutation.visit_id) == ("visit.check_in", "v1", "v1")
    assert mutation.base_version == 4
    assert mutation.data == {"at": "2026-11-23T08:00:00-05:00", "location": {
        "latitude": 40.7, "longitude": -74.0, "accuracy_m": 12.5}}


def test_check_out_without_a_location_sends_null(
        store: Store, visit: str, device_clock: DeviceClock) -> None:
    mutation = check_out(store, visit, device_clock())
    assert mutation.type == "visit.check_out" and mutation.data["location"] is None


def test_documenting_an_unknown_visit_is_refused_and_nothing_is_queued(
        store: Store, device_clock: DeviceClock) -> None:
    with pytest.raises(UnknownVisit):
        check_in(store, "nope", device_clock())
    with pytest.raises(UnknownVisit):
        record_vitals(store, "nope", Vitals(heart_rate=70), device_clock())
    assert Outbox(store).pending_count() == 0


def test_each_vital_is_one_coded_mutation(
        store: Store, visit: str, device_clock: DeviceClock) -> None:
    vitals = Vitals(heart_rate=72, blood_pressure=(120, 80), temperature_c=37.1, spo2=98,
                    respiratory_rate=16)
    mutations = record_vitals(store, visit, vitals, device_clock())
    taken_at = "2026-11-23T08:00:00-05:00"
    assert {m.type for m in mutations} == {"vitals.record"}
    assert {m.visit_id for m in mutations} == {"v1"}
    assert len({m.entity_id for m in mutations}) == 5
    assert [m.data for m in mutations] == [
        {"code": "8867-4", "value": 72, "unit": "/min", "taken_at": taken_at},
        {"code": "85354-9", "unit": "mm[Hg]", "taken_at": taken_at, "components": [
            {"code": "8480-6", "value": 120, "unit": "mm[Hg]"},
            {"code": "8462-4", "value": 80, "unit": "mm[Hg]"}]},
        {"code": "8310-5", "value": 37.1, "unit": "Cel", "taken_at": taken_at},
        {"code": "2708-6", "value": 98, "unit": "%", "taken_at": taken_at},
        {"code": "9279-1", "value": 16, "unit": "/min", "taken_at": taken_at},
    ]


def test_blood_pressure_text_is_parsed_or_refused() -> None:
    assert parse_blood_pressure("118/76") == (118, 76)
    for bad in ("118", "118/", "a/b"):
        with pytest.raises(ValueError, match="120/80"):
            parse_blood_pressure(bad)
