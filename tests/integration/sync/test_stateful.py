"""Nurses document offline on several devices while the coordinator reschedules, over a bad wire.

A Hypothesis state machine drives real ``SyncClient``s (each with its own encrypted store)
against the app, through a wire that loses requests, loses responses after the server
committed, delivers requests twice and delivers stale copies late. What must survive:

(a) every mutation a device created is on the server exactly once, with an outcome, and
    the device holds that same outcome and nothing in its outbox;
(b) no vital sign or EVV event is recorded twice;
(c) after a sync that completes, a device holds exactly its nurse's scope;
(d) no device ever ends a sync holding a patient its nurse has no visit with in the window.

Every example is a new day a month after the previous one: the database keeps what earlier
examples wrote, but none of their visits is in anybody's window any more, and each example
checks only its own devices and mutations.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from offline_store import documentation
from offline_store.client import SyncClient
from offline_store.errors import TransportError
from offline_store.outbox import Outbox
from offline_store.store import Store
from server.extensions import db
from server.models import TherapyOrder, Visit, VisitEvent, VisitStatus, VitalSign
from sync.ledger import InboxEntry, LedgerEntry, Outcome
from tests.depth import examples
from tests.factories import login
from tests.integration.sync.flask_transport import FAULTS, OK, FaultyWire, FlaskTransport

PIN = "135790"
FAST_N = 2**10
SERVER_URL = "http://localhost"
DEVICE_NURSES = ("nurse_a", "nurse_a", "nurse_b")  # nurse_a carries a phone and a tablet
NURSES = ("nurse_a", "nurse_b")
PATIENTS = {"patient_a": "location_a", "patient_b": "location_b"}
BACK, AHEAD = timedelta(days=7), timedelta(days=14)
# Visits start at most 16 days after the moment they were scheduled: a month on, every one
# of an earlier example is far behind the window.
EXAMPLE_GAP = timedelta(days=30)
MAX_BATCH_MUTATIONS = 3  # small, so a push is several batches and faults fall between them
PAGE_SIZE = 3  # small, so a snapshot or a delta is several pages and faults fall between them
# Each nurse's day starts with a visit today and one at an edge of the window, about to
# leave it behind (nurse_a) or to enter it ahead (nurse_b) as time passes.
FIRST_VISITS = (("patient_a", "nurse_a", 2), ("patient_a", "nurse_a", -24 * 7 + 5),
                ("patient_b", "nurse_b", 3), ("patient_b", "nurse_b", 24 * 14 + 5))
HOME = documentation.Location(39.78, -89.65, 8.0)
ACTIONS = ("check_in", "vitals", "check_out")
DEVICE_INDEXES = st.integers(0, len(DEVICE_NURSES) - 1)
# Pulls are many small pages: one in two goes through untouched, so snapshots and deltas
# still get somewhere. Pushes are few: most of them meet a fault. Shrinking moves to "ok".
PULL_FAULTS = st.lists(st.sampled_from((OK,) * (len(FAULTS) - 1) + FAULTS), max_size=8)
PUSH_FAULTS = st.lists(st.sampled_from(FAULTS), min_size=1, max_size=4)
HOUR_OFFSETS = st.integers(min_value=-24 * 9, max_value=24 * 16)  # across both window edges
DOCUMENTED = (Outcome.APPLIED, Outcome.CONFLICT)  # outcomes that store the documentation

# Every run draws a share of the days ``make test-deep`` draws (tests/depth.py).
SETTINGS = settings(
    max_examples=examples(every_run=7, deep=20), stateful_step_count=25, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
# Not a @given test, so Hypothesis' plugin does not mark it: make test-deep selects the mark.
pytestmark = pytest.mark.hypothesis


@dataclass
class World:
    """What outlives one example: the app, its database and clock, the agency's ids."""

    app: Flask
    client: FlaskClient
    clock: Any
    agency: Any
    folder: Path
    examples: int = 0


class Coordinator:
    """The coordinator's side of the REST API; logs in again whenever time has moved."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._headers: dict[str, str] = {}
        self._logged_in_at: datetime | None = None

    def headers(self) -> dict[str, str]:
        """Authorization headers valid now (a session idles out after 15 minutes)."""
        if self._logged_in_at != self.world.clock():
            self._headers = login(self.world.client, "coordinator")
            self._logged_in_at = self.world.clock()
        return self._headers

    def enrollment_code(self, nurse: str) -> str:
        """A one-time code for a new device of ``nurse``."""
        response = self.world.client.post(
            f"/api/v1/users/{self.world.agency[nurse]}/enrollment-codes",
            headers=self.headers())
        assert response.status_code == 201, response.get_json()
        return str(response.get_json()["code"])

    def schedule(self, patient: str, nurse: str | None, hours: int) -> str:
        """Create a one-hour visit ``hours`` from now; its id."""
        start = self.world.clock() + timedelta(hours=hours)
        agency = self.world.agency
        response = self.world.client.post("/api/v1/visits", headers=self.headers(), json={
            "patient_id": str(agency[patient]),
            "nurse_id": str(agency[nurse]) if nurse else None,
            "service_location_id": str(agency[PATIENTS[patient]]),
            "scheduled_start": start.isoformat(),
            "scheduled_end": (start + timedelta(hours=1)).isoformat()})
        assert response.status_code == 201, response.get_json()
        return str(response.get_json()["id"])

    def change(self, visit_id: str, changes: dict[str, Any]) -> None:
        """PATCH the visit at the version just read; only a started visit may refuse."""
        path = f"/api/v1/visits/{visit_id}"
        current = self.world.client.get(path, headers=self.headers()).get_json()
        response = self.world.client.patch(path, headers=self.headers(),
                                           json={**changes, "version": current["version"]})
        if current["status"] == "scheduled":
            assert response.status_code == 200, response.get_json()
        else:
            assert response.status_code == 409, response.get_json()
            assert response.get_json()["error"]["code"] == "visit_not_editable"


@dataclass
class Device:
    """One enrolled device: its nurse, client, wire, and every mutation it created."""

    nurse: str
    client: SyncClient
    wire: FaultyWire
    created: dict[str, str] = field(default_factory=dict)  # mutation id → type

    @property
    def store(self) -> Store:
        """The device's encrypted store."""
        return self.client.store

    def held_ids(self, kind: str) -> set[str]:
        """Ids of the records of ``kind`` on the device."""
        return {record.id for record in self.store.all(kind)}


def _scope(app: Flask, nurse_id: uuid.UUID, now: datetime) -> tuple[dict[str, int], set[str]]:
    """({visit id: version}, patient ids) the nurse may hold now, computed independently."""
    with app.app_context():
        rows = db.session.execute(select(Visit.id, Visit.version, Visit.patient_id).where(
            Visit.nurse_id == nurse_id, Visit.status != VisitStatus.CANCELLED,
            Visit.scheduled_start >= now - BACK, Visit.scheduled_start < now + AHEAD)).all()
    return {str(v): version for v, version, _ in rows}, {str(p) for _, _, p in rows}


def _ledger(app: Flask, ids: set[str]) -> dict[str, LedgerEntry]:
    """The server's ledger rows for these mutation ids."""
    with app.app_context():
        rows = db.session.scalars(select(LedgerEntry).where(
            LedgerEntry.mutation_id.in_([uuid.UUID(i) for i in ids]))).all()
        db.session.expunge_all()
    return {str(row.mutation_id): row for row in rows}


def _counts_by_mutation(app: Flask, model: Any, ids: set[str]) -> Counter[str]:
    """How many rows of ``model`` each of these mutations left."""
    with app.app_context():
        rows = db.session.execute(select(model.mutation_id, func.count()).where(
            model.mutation_id.in_([uuid.UUID(i) for i in ids])).group_by(model.mutation_id))
        return Counter({str(mutation_id): count for mutation_id, count in rows})


class FieldDay(RuleBasedStateMachine):
    """One day: three devices, two nurses, a coordinator, a network that misbehaves."""

    def __init__(self, world: World) -> None:
        super().__init__()
        self.world, self.app, self.clock = world, world.app, world.clock
        world.clock.advance(seconds=EXAMPLE_GAP.total_seconds())
        world.examples += 1
        self.folder = world.folder / f"day-{world.examples}"
        self.coordinator = Coordinator(world)
        self.visits = [self.coordinator.schedule(patient, nurse, hours)
                       for patient, nurse, hours in FIRST_VISITS]
        self.devices = [self._enroll(index, nurse) for index, nurse in enumerate(DEVICE_NURSES)]

    def _enroll(self, index: int, nurse: str) -> Device:
        """A new store and an enrolled client whose wire is clean until a rule scripts it."""
        store = Store.create(self.folder / f"device-{index}.sqlite3", PIN, scrypt_n=FAST_N)
        wire = FaultyWire(FlaskTransport(self.world.client))
        client = SyncClient(store, wire, clock=self.clock, app_version="1.0.0",
                            page_size=PAGE_SIZE)
        client.enroll(SERVER_URL, self.coordinator.enrollment_code(nurse), f"device {index}")
        return Device(nurse, client, wire)

    # --- the nurses, offline -------------------------------------------------------------

    @initialize(pull_faults=st.tuples(*[PULL_FAULTS] * len(DEVICE_NURSES)))
    def first_sync(self, pull_faults: tuple[list[str], ...]) -> None:
        """Every device starts its first snapshot, each through its own faults."""
        for dev, script in zip(self.devices, pull_faults, strict=True):
            self._sync_through(dev, [], script)

    @rule(device=DEVICE_INDEXES, actions=st.lists(st.sampled_from(ACTIONS), min_size=1,
                                                  max_size=4),
          push_faults=st.none() | PUSH_FAULTS, data=st.data())
    def document(self, device: int, actions: list[str], push_faults: list[str] | None,
                 data: st.DataObject) -> None:
        """Document on a visit the device holds (maybe stale: reassigned or cancelled since),
        then, when there is signal (``push_faults`` not None), push at once as the app does."""
        dev = self.devices[device]
        held = [visit_id for visit_id in self.visits if visit_id in dev.held_ids("visit")]
        if not held:
            return
        visit_id = data.draw(st.sampled_from(held), label="visit")
        for action in actions:
            if action == "vitals":
                heart_rate = data.draw(st.integers(0, 320), label="heart rate")  # 0: impossible
                made = documentation.record_vitals(
                    dev.store, visit_id, documentation.Vitals(heart_rate=heart_rate), self.clock())
            else:
                evv = documentation.check_in if action == "check_in" else documentation.check_out
                made = [evv(dev.store, visit_id, self.clock(), HOME)]
            dev.created.update({mutation.id: mutation.type for mutation in made})
        if push_faults is not None:
            self._push_through(dev, push_faults)

    @rule(device=DEVICE_INDEXES, push_faults=PUSH_FAULTS, pull_faults=PULL_FAULTS)
    def sync_over_faults(self, device: int, push_faults: list[str],
                         pull_faults: list[str]) -> None:
        """Sync through scripted faults; a lost exchange ends the sync, to be retried later."""
        self._sync_through(self.devices[device], push_faults, pull_faults)

    def _push_through(self, dev: Device, push_faults: list[str]) -> None:
        """Push with faults scripted on the wire; a completed push empties the outbox."""
        dev.wire.script(push=push_faults)
        try:
            dev.client.push()
        except TransportError:
            return
        finally:
            dev.wire.script()
        assert Outbox(dev.store).pending_count() == 0

    def _sync_through(self, dev: Device, push_faults: list[str], pull_faults: list[str]) -> None:
        """Sync with faults scripted on the wire; check the scope if the sync completed."""
        dev.wire.script(push=push_faults, pull=pull_faults)
        try:
            dev.client.sync()
        except TransportError:
            return
        finally:
            dev.wire.script()
        self._check_scope(dev)

    @rule(device=DEVICE_INDEXES)
    def sync_clean(self, device: int) -> None:
        """Sync with the network behaving."""
        self._clean_sync(self.devices[device])

    # --- the coordinator -----------------------------------------------------------------

    @rule(patient=st.sampled_from(sorted(PATIENTS)),
          nurse=st.sampled_from((*NURSES, None)), hours=HOUR_OFFSETS)
    def schedule(self, patient: str, nurse: str | None, hours: int) -> None:
        """Schedule a visit, inside or outside the window, assigned or not."""
        self.visits.append(self.coordinator.schedule(patient, nurse, hours))

    @rule(edit=st.sampled_from(("reassign", "reschedule", "cancel")), data=st.data())
    def edit_visit(self, edit: str, data: st.DataObject) -> None:
        """Reassign a visit (maybe to nobody), move it (maybe across the window) or cancel it."""
        visit_id = data.draw(st.sampled_from(self.visits), label="visit")
        if edit == "reassign":
            nurse = data.draw(st.sampled_from((*NURSES, None)), label="nurse")
            changes = {"nurse_id": str(self.world.agency[nurse]) if nurse else None}
        elif edit == "reschedule":
            start = self.clock() + timedelta(hours=data.draw(HOUR_OFFSETS, label="hours"))
            changes = {"scheduled_start": start.isoformat(),
                       "scheduled_end": (start + timedelta(hours=1)).isoformat()}
        else:
            changes = {"status": "cancelled", "cancel_reason": "Patient admitted to hospital"}
        self.coordinator.change(visit_id, changes)

    @rule(hours=st.integers(1, 72))
    def time_passes(self, hours: int) -> None:
        """Time moves: visits enter the window ahead and leave it behind, with no write."""
        self.clock.advance(hours=hours)

    # --- what must hold ------------------------------------------------------------------

    @invariant()
    def nothing_is_lost(self) -> None:
        """Every mutation is in its outbox or answered, and every answer is the ledger's."""
        for dev in self.devices:
            outbox = Outbox(dev.store)
            pending = {mutation.id for mutation in outbox.pending()}
            answered = {result.id: result for result in outbox.results()}
            assert pending.isdisjoint(answered)
            assert pending | set(answered) == set(dev.created)
            ledger = _ledger(self.app, set(answered))
            for mutation_id, result in answered.items():
                assert mutation_id in ledger, f"{result.type} answered but not in the ledger"
                assert ledger[mutation_id].outcome == result.status, (
                    mutation_id, result.status, ledger[mutation_id].outcome)

    def _clean_sync(self, dev: Device) -> None:
        """Sync over a behaving network; it must complete."""
        dev.wire.script()
        dev.client.sync()
        self._check_scope(dev)

    def _check_scope(self, dev: Device) -> None:
        """(c) and (d): after a completed sync the device holds exactly its nurse's scope,
        each visit as it is now."""
        visits, patients = _scope(self.app, self.world.agency[dev.nurse], self.clock())
        assert dev.held_ids("patient") <= patients, f"{dev.nurse}: patient outside her scope"
        assert dev.held_ids("visit") == set(visits), f"{dev.nurse}: visits other than her scope"
        assert dev.held_ids("patient") == patients, f"{dev.nurse}: patients of her scope missing"
        assert {visit.id: visit.version for visit in dev.store.all("visit")} == visits, (
            f"{dev.nurse}: a visit held at another version than the server's")
        with self.app.app_context():
            orders = set(map(str, db.session.scalars(select(TherapyOrder.id).where(
                TherapyOrder.patient_id.in_([uuid.UUID(p) for p in patients])))))
        assert dev.held_ids("order") == orders

    def _check_late_answers(self, dev: Device) -> None:
        """Every stale copy is answered 200, but a late ask after a batch's outcome may find
        that batch not arrived yet (its push was lost and is sent again later): 404
        ``batch_unknown``, which the device answers by sending it again. Nobody listens to
        a stale copy's answer; the checks after this show every mutation applied once. (A
        deep run found that case: the ask, held in the network, overtook the batch's resend.)"""
        for request, response in dev.wire.late:
            if response.status == 200:
                continue
            path = request.url.split("/api/v1", 1)[1]
            assert request.method == "GET" and path.startswith("/sync/push/"), (
                request.method, path, response.status, response.body[:200])
            assert response.status == 404
            assert json.loads(response.body)["error"]["code"] == "batch_unknown"

    def teardown(self) -> None:
        """Settle: every device syncs cleanly, stale copies arrive, every device pulls what
        the others pushed meanwhile; then check (a) to (d)."""
        try:
            for dev in self.devices:
                self._clean_sync(dev)
            for dev in self.devices:
                dev.wire.deliver_held()
                self._check_late_answers(dev)
            for dev in self.devices:
                self._clean_sync(dev)
                self._check_delivered_once(dev)
            self._check_recorded_once()
        finally:
            for dev in self.devices:
                dev.store.close()

    def _check_delivered_once(self, dev: Device) -> None:
        """(a) each mutation: one ledger row with an outcome, one inbox copy, outbox empty."""
        outbox, ids = Outbox(dev.store), set(dev.created)
        assert outbox.pending_count() == 0
        assert outbox.open_batch() is None
        answered = {result.id: result.status for result in outbox.results()}
        ledger = _ledger(self.app, ids)
        assert set(ledger) == ids
        assert all(row.outcome is not None for row in ledger.values())
        assert {i: str(row.outcome) for i, row in ledger.items()} == answered
        device_id = uuid.UUID(str(dev.store.get_meta("device_id")))
        assert {row.device_id for row in ledger.values()} <= {device_id}
        assert _counts_by_mutation(self.app, InboxEntry, ids) == Counter(dict.fromkeys(ids, 1))

    def _check_recorded_once(self) -> None:
        """(b) one vital sign or EVV event per mutation that was applied or conflicted."""
        created = {i: kind for dev in self.devices for i, kind in dev.created.items()}
        ledger = _ledger(self.app, set(created))
        stored = {i for i, row in ledger.items() if row.outcome in DOCUMENTED}
        for model, kinds in ((VitalSign, {documentation.VITALS}),
                             (VisitEvent, {documentation.CHECK_IN, documentation.CHECK_OUT})):
            ids = {i for i, kind in created.items() if kind in kinds}
            assert _counts_by_mutation(self.app, model, ids) == Counter(
                dict.fromkeys(ids & stored, 1)), model.__name__


@pytest.fixture
def device_folder(tmp_path: Path) -> Iterator[Path]:
    """Where the devices' stores are kept: in memory (``/dev/shm``) where the system has it.

    A store commits each change and waits for the disk, about 14 ms a commit on the CI
    machine's disk against 0.15 ms in memory, and a run makes about 1,800 commits per
    backend; what this test proves is the protocol, which the same store code runs on
    either. Elsewhere, the test's own temporary folder.
    """
    memory = Path("/dev/shm")  # noqa: S108 - a private TemporaryDirectory (0700) inside
    if not memory.is_dir():
        yield tmp_path
        return
    with tempfile.TemporaryDirectory(prefix="infusync-devices-", dir=memory) as folder:
        yield Path(folder)


def test_offline_devices_and_coordinator_over_a_faulty_wire(
        app: Flask, client: FlaskClient, clock: Any, agency: Any, device_folder: Path) -> None:
    """Random documentation, rescheduling and network faults never lose or double anything."""
    app.config["SYNC_MAX_BATCH_MUTATIONS"] = MAX_BATCH_MUTATIONS
    world = World(app, client, clock, agency, device_folder)
    run_state_machine_as_test(lambda: FieldDay(world), settings=SETTINGS)
