"""A nurse offline for three days documents six visits; one sync later the record holds it all.

Through the real device client (``offline_store.SyncClient`` over the Flask test client):
the coordinator sets the agency up over REST, the nurse enrols and syncs once, then
documents six visits over three days without syncing — one checked in at the patient's
workplace, one infused with a pump overdue for maintenance, one with an expired drug lot,
and one on a visit the coordinator cancelled in the meantime. After one sync: every
mutation has its result on the device, the server holds every document (those on the
cancelled visit as conflicts), and the review queue holds exactly what needs a person.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from offline_store.client import SyncClient
from offline_store.documentation import (
    Location,
    Vitals,
    check_in,
    check_out,
    record_infusion,
    record_vitals,
    sign_visit,
)
from offline_store.infusion import Infusion, PumpUse, VascularAccessUse
from offline_store.outbox import Outbox
from offline_store.store import Store
from server.extensions import db
from server.models import (
    InfusionAdministration,
    ReviewItem,
    Visit,
    VisitEvent,
    VisitStatus,
    VitalSign,
)
from sync.ledger import InboxEntry, LedgerEntry
from tests.conftest import FakeClock
from tests.factories import login
from tests.integration.sync.flask_transport import FlaskTransport

PIN = "135790"
FAST_N = 2**10
EASTERN = timezone(timedelta(hours=-5))  # the nurse's device keeps her local offset
HOME = (39.7800, -89.6500)
WORK = (39.8000, -89.6000)  # about 4.7 km from home: far outside any EVV radius of it
ELSEWHERE_HOME = (39.7000, -89.7000)
VITALS = Vitals(heart_rate=72, blood_pressure=(120, 80), temperature_c=36.8, spo2=98,
                respiratory_rate=16)
READINGS = 5
GOOD_LOT = ("LOT-2027", date(2027, 6, 30))
EXPIRED_LOT = ("LOT-OLD", date(2026, 11, 1))
DOCUMENTS_PER_VISIT = 1 + READINGS + 1 + 1 + 1  # check-in, vitals, infusion, check-out, sign


@dataclass
class Planned:
    """One visit of the three days and how the nurse documents it."""

    name: str
    patient: str
    start: datetime
    at: tuple[float, float]  # where she checks in and out
    pump: str | None = None
    lot: tuple[str, date] = GOOD_LOT
    id: str = ""
    version: int = 0


def _created(client: FlaskClient, headers: dict[str, str], path: str,
             body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/api/v1/{path}", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    created: dict[str, Any] = response.get_json()
    return created


def _patient(client: FlaskClient, staff: dict[str, str], mrn: str, physician: uuid.UUID,
             places: dict[str, tuple[float, float]]) -> dict[str, Any]:
    return _created(client, staff, "patients", {
        "mrn": mrn, "first_name": "Pat", "last_name": f"Scenario{mrn}",
        "birth_date": "1958-02-14", "primary_physician_id": str(physician),
        "locations": [{"kind": kind, "address": f"{mrn} {kind} street", "latitude": lat,
                       "longitude": lon, "evv_radius_m": 150}
                      for kind, (lat, lon) in places.items()]})


@dataclass
class Agency:
    """What the coordinator set up: patients (with locations and orders) and six visits."""

    patients: dict[str, dict[str, Any]]
    orders: dict[str, str]
    visits: list[Planned]

    def visit(self, name: str) -> Planned:
        return next(v for v in self.visits if v.name == name)


def _set_up(client: FlaskClient, staff: dict[str, str], agency: Any) -> Agency:
    """Three patients, their orders and pumps, six visits for nurse_a over three days."""
    doctor = agency["physician_a"]
    patients = {
        "worker": _patient(client, staff, "SC-1", doctor, {"home": HOME, "work": WORK}),
        "pumped": _patient(client, staff, "SC-2", doctor, {"home": HOME}),
        "other": _patient(client, staff, "SC-3", doctor, {"home": ELSEWHERE_HOME}),
    }
    orders = {name: _created(client, staff, "orders", {
        "patient_id": patient["id"], "physician_id": str(doctor), "medication": "ceftriaxone",
        "dose": 2, "dose_unit": "g", "route": "IV", "rate_ml_h": 100, "volume_ml": 100,
        "frequency_kind": "daily", "start_date": "2026-11-20"})["id"]
        for name, patient in patients.items()}
    for serial, owner, due in (("PMP-OK", "worker", "2027-03-01"),
                               ("PMP-DUE", "pumped", "2026-11-15")):
        _created(client, staff, "pumps", {
            "serial": serial, "manufacturer": "Moog", "model": "CADD-Solis",
            "patient_id": patients[owner]["id"], "next_pm_due_on": due})
    day = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    visits = [
        Planned("at work", "worker", day, WORK, pump="PMP-OK"),
        Planned("pump due", "pumped", day + timedelta(hours=3), HOME, pump="PMP-DUE"),
        Planned("expired lot", "other", day + timedelta(days=1), ELSEWHERE_HOME,
                lot=EXPIRED_LOT),
        Planned("at home", "worker", day + timedelta(days=1, hours=3), HOME, pump="PMP-OK"),
        Planned("no pump", "pumped", day + timedelta(days=2), HOME),
        Planned("cancelled", "other", day + timedelta(days=2, hours=3), ELSEWHERE_HOME),
    ]
    for planned in visits:
        home = next(loc for loc in patients[planned.patient]["locations"]
                    if loc["kind"] == "home")
        created = _created(client, staff, "visits", {
            "patient_id": patients[planned.patient]["id"], "nurse_id": str(agency["nurse_a"]),
            "order_id": orders[planned.patient], "service_location_id": home["id"],
            "scheduled_start": planned.start.isoformat(),
            "scheduled_end": (planned.start + timedelta(hours=1)).isoformat()})
        planned.id, planned.version = created["id"], created["version"]
    return Agency(patients, orders, visits)


@pytest.fixture
def device(client: FlaskClient, as_user: Any, agency: Any, clock: FakeClock,
           tmp_path: Path) -> Iterator[SyncClient]:
    """nurse_a's device, enrolled through the coordinator's code, on the app's clock."""
    code = client.post(f"/api/v1/users/{agency['nurse_a']}/enrollment-codes",
                       headers=as_user("coordinator"))
    assert code.status_code == 201, code.get_json()
    store = Store.create(tmp_path / "nurse-a.sqlite3", PIN, scrypt_n=FAST_N)
    sync_client = SyncClient(store, FlaskTransport(client),
                             clock=lambda: clock().astimezone(EASTERN), app_version="1.0.0")
    sync_client.enroll("http://localhost", code.get_json()["code"], "Ann's tablet")
    yield sync_client
    store.close()


def _document(store: Store, planned: Planned, order_id: str, clock: FakeClock) -> int:
    """Check in, vitals, infusion, check out, sign; return how many mutations that made."""
    now: Callable[[], datetime] = lambda: clock().astimezone(EASTERN)  # noqa: E731
    where = Location(*planned.at, accuracy_m=10.0)
    clock.current = planned.start + timedelta(minutes=5)
    made = [check_in(store, planned.id, now(), where)]
    clock.advance(minutes=5)
    made += record_vitals(store, planned.id, VITALS, now())
    started = now()
    clock.advance(minutes=40)
    made.append(record_infusion(store, planned.id, Infusion(
        order_id=order_id, medication="ceftriaxone", dose=2, dose_unit="g", route="IV",
        lot_number=planned.lot[0], lot_expiry=planned.lot[1],
        access=VascularAccessUse("picc", "left basilic", 0, 0), started_at=started,
        stopped_at=started + timedelta(minutes=30),
        pump=PumpUse(planned.pump, 100, 100) if planned.pump else None,
        volume_infused_ml=100)))
    made.append(check_out(store, planned.id, now(), where))
    made.append(sign_visit(store, planned.id, now()))
    return len(made)


def _cancel(client: FlaskClient, planned: Planned) -> None:
    """The coordinator, logged in afresh a day later, cancels the visit."""
    response = client.patch(f"/api/v1/visits/{planned.id}", headers=login(client, "coordinator"),
                            json={"status": "cancelled", "version": planned.version,
                                  "cancel_reason": "Patient admitted to hospital."})
    assert response.status_code == 200, response.get_json()


def _count(model: Any, visit_ids: list[uuid.UUID], **where: Any) -> int:
    stmt = select(func.count()).select_from(model).where(model.visit_id.in_(visit_ids))
    for name, value in where.items():
        stmt = stmt.where(getattr(model, name) == value)
    return int(db.session.scalar(stmt) or 0)


def test_three_offline_days_reach_the_record_whole(
        app: Flask, client: FlaskClient, clock: FakeClock, agency: Any, as_user: Any,
        device: SyncClient) -> None:
    staff = as_user("coordinator")
    setup = _set_up(client, staff, agency)
    device.sync()
    store = device.store
    assert {v.id for v in setup.visits} <= {r.id for r in store.all("visit")}

    # Offline from here: three days of visits; the coordinator cancels the last one on day 2.
    created = 0
    for planned in setup.visits:
        if planned.name == "at home":
            _cancel(client, setup.visit("cancelled"))
        created += _document(store, planned, setup.orders[planned.patient], clock)
    assert created == len(setup.visits) * DOCUMENTS_PER_VISIT
    clock.advance(hours=1)
    report = device.sync()

    # The device: every mutation answered, nothing left to send.
    outbox = Outbox(store)
    assert outbox.pending_count() == 0 and outbox.open_batch() is None
    results = outbox.results()
    assert len(results) == created == len(report.push.results)
    cancelled = setup.visit("cancelled")
    assert Counter(r.status for r in results) == {
        "applied": created - DOCUMENTS_PER_VISIT, "conflict": DOCUMENTS_PER_VISIT}
    assert {r.status for r in results if r.entity_id == cancelled.id} == {"conflict"}
    assert len(outbox.problems()) == DOCUMENTS_PER_VISIT
    assert store.get("visit", cancelled.id) is None  # the pull took it off the device

    with app.app_context():
        visit_ids = [uuid.UUID(v.id) for v in setup.visits]
        cancelled_id = [uuid.UUID(cancelled.id)]
        device_id = uuid.UUID(store.get_meta("device_id") or "")

        # The record holds all of it; what landed on the cancelled visit is a conflict.
        assert _count(VitalSign, visit_ids) == len(setup.visits) * READINGS
        assert _count(InfusionAdministration, visit_ids) == len(setup.visits)
        assert _count(VisitEvent, visit_ids) == len(setup.visits) * 3
        assert _count(VitalSign, visit_ids, conflict=True) == READINGS
        assert _count(InfusionAdministration, visit_ids, conflict=True) == 1
        assert _count(VisitEvent, visit_ids, conflict=True) == 3
        for model in (VitalSign, InfusionAdministration, VisitEvent):
            assert _count(model, cancelled_id) == _count(model, cancelled_id, conflict=True)
        sent = {uuid.UUID(r.entity_id) for r in results if r.type == "vitals.record"}
        assert set(db.session.scalars(select(VitalSign.id).where(
            VitalSign.visit_id.in_(visit_ids)))) == sent

        for planned in setup.visits:
            visit = db.session.get(Visit, uuid.UUID(planned.id))
            assert visit is not None
            if planned is cancelled:
                assert visit.status is VisitStatus.CANCELLED
                assert visit.checked_in_at is None and visit.signed_at is None
                assert "documentation_conflict" in visit.flags
            else:
                assert visit.status is VisitStatus.COMPLETED, planned.name
                assert visit.signed_at is not None, planned.name

        # The workplace check-in was verified against the patient's work location.
        work = next(loc for loc in setup.patients["worker"]["locations"]
                    if loc["kind"] == "work")
        at_work = db.session.scalars(select(VisitEvent).where(
            VisitEvent.visit_id == uuid.UUID(setup.visit("at work").id))).all()
        assert {(e.kind, e.evv_status) for e in at_work if e.kind != "sign"} == {
            ("check_in", "verified"), ("check_out", "verified")}
        assert {str(e.evv_location_id) for e in at_work if e.kind != "sign"} == {work["id"]}

        # The review queue: exactly what needs a person, on the visit it is about.
        items = db.session.scalars(select(ReviewItem)).all()
        assert Counter(i.kind for i in items) == {
            "pump_maintenance_overdue": 1, "drug_expired": 1,
            "documentation_on_cancelled_visit": DOCUMENTS_PER_VISIT}
        where = {i.kind: str(i.visit_id) for i in items}
        assert where["pump_maintenance_overdue"] == setup.visit("pump due").id
        assert where["drug_expired"] == setup.visit("expired lot").id
        assert where["documentation_on_cancelled_visit"] == cancelled.id
        assert {i.status.value for i in items} == {"open"}
        # Each conflict on the device points at its own review item.
        conflicts = {r.review_item_id for r in results if r.status == "conflict"}
        assert conflicts == {str(i.id) for i in items
                             if i.kind == "documentation_on_cancelled_visit"}
        flagged = {r.review_item_id for r in results
                   if r.status == "applied" and r.review_item_id}
        assert flagged == {str(i.id) for i in items
                           if i.kind in ("pump_maintenance_overdue", "drug_expired")}

        # Nothing dropped: every mutation created is in the ledger and the inbox, once.
        assert db.session.scalar(select(func.count()).select_from(LedgerEntry).where(
            LedgerEntry.device_id == device_id)) == created
        assert db.session.scalar(select(func.count()).select_from(InboxEntry).where(
            InboxEntry.device_id == device_id)) == created
