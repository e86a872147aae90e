"""``infusync seed-demo``: a realistic, deterministic demo agency, loaded once."""

from __future__ import annotations

import itertools
import sqlite3
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pyotp
import pytest
import sqlalchemy as sa
from flask import Flask

from schemas.users import npi_is_valid
from server.demo_data import (
    ADMIN_EMAIL,
    ADMIN_TOTP_SECRET,
    DEMO_PASSWORD,
    PRIVACY_EMAIL,
    STAFF,
    TIMEZONE,
)
from server.extensions import db
from server.models import (
    AuditEvent,
    Base,
    Device,
    FrequencyKind,
    InfusionAdministration,
    LocationKind,
    OrderStatus,
    Patient,
    Pump,
    PumpStatus,
    ReviewItem,
    ReviewStatus,
    ServiceLocation,
    TherapyOrder,
    User,
    Visit,
    VisitEvent,
    VisitNote,
    VisitStatus,
    VitalSign,
)
from tests.conftest import (
    CLOCK_START,
    FakeClock,
    app_on,
    empty_postgres_database,
    fresh_postgres_database,
)


def seed(runner, *args):
    """Run the command (with ``args``) and return what it printed."""
    result = runner.invoke(args=["seed-demo", *args])
    assert result.exit_code == 0, result.output
    return result.output


def all_rows(model):
    return db.session.execute(sa.select(model)).scalars().all()


# The tables whose ids the seed (or the demo devices) choose; other rows (the sync feed,
# assignment history, what the push service writes: events, audit, inbox) get ids of
# their own, as they would from a real device's push.
SEEDED = (User, Patient, ServiceLocation, TherapyOrder, Pump, Visit, Device, VitalSign,
          InfusionAdministration, VisitNote)


# The address the module's demo is seeded for, as ``make run`` passes the one it serves.
SERVED_URL = "http://127.0.0.1:8765"


@dataclass(frozen=True)
class Demo:
    """The demo agency as seeded once for this module's read-only tests."""

    app: Flask
    clock: FakeClock
    output: str
    url: str


@contextmanager
def copy_of_database(url: str, tmp: Path) -> Iterator[str]:
    """A copy of the database at ``url``, to which nobody may be connected; the copy is
    dropped afterwards. A copy takes well under a second where a seed takes many."""
    if url.startswith("sqlite"):
        path = tmp / f"copy-{uuid.uuid4().hex[:12]}.sqlite3"
        # SQLite's backup API: a consistent copy whatever the source's journal (WAL) holds.
        with (closing(sqlite3.connect(sa.make_url(url).database)) as source,
              closing(sqlite3.connect(path)) as copy):
            source.backup(copy)
        yield f"sqlite:///{path}"
        return
    with empty_postgres_database("infusync_copy", sa.make_url(url).database) as copy:
        yield copy


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def blank(request, tmp_path_factory):
    """A migrated, empty database per backend that nobody connects to: each test that
    seeds a database of its own seeds a copy of it."""
    if request.param == "sqlite":
        yield f"sqlite:///{request.getfixturevalue('sqlite_template')}"
        return
    with fresh_postgres_database("infusync_blank", tmp_path_factory.mktemp("blank")) as url:
        yield url


@pytest.fixture(scope="module")
def demo(blank, tmp_path_factory):
    """One seeded database per backend, shared by the tests that only read it (seeding
    documents a week through the push path: seconds, not milliseconds)."""
    tmp = tmp_path_factory.mktemp("seeded")
    with ExitStack() as stack:
        url = stack.enter_context(copy_of_database(blank, tmp))
        clock = FakeClock(CLOCK_START)
        app = stack.enter_context(app_on(url, tmp, clock))
        yield Demo(app, clock, seed(app.test_cli_runner(), "--server-url", SERVED_URL), url)


@pytest.fixture
def demo_copy(demo, tmp_path):
    """A copy of the seeded demo for a test that writes (a login's audit rows, which the
    read-only ``demo`` must not get): the same keys, its clock where the seed's began."""
    with demo.app.app_context():
        db.engine.dispose()  # a PostgreSQL template takes no connections while it is copied
    with ExitStack() as stack:
        url = stack.enter_context(copy_of_database(demo.url, tmp_path))
        clock = FakeClock(CLOCK_START)
        app = stack.enter_context(app_on(
            url, tmp_path, clock, SECRET_KEY=demo.app.config["SECRET_KEY"],
            INFUSYNC_DATA_KEY=demo.app.config["INFUSYNC_DATA_KEY"]))
        yield Demo(app, clock, demo.output, url)


def primary_keys_by_table(app, tables=None):
    """Each table's set of primary keys (every table unless ``tables`` is given)."""
    with app.app_context():
        chosen = tables or Base.metadata.sorted_tables
        return {
            table.name: set(db.session.execute(sa.select(*table.primary_key.columns)).all())
            for table in chosen
        }


def test_staff_of_every_role_with_valid_npis(demo):
    app = demo.app
    with app.app_context():
        users = all_rows(User)
        assert Counter(user.role.value for user in users) == {
            "admin": 1, "coordinator": 2, "training_lead": 1, "qc": 1, "nurse": 8,
            "physician": 3, "privacy_officer": 1,
        }
        physicians = [user for user in users if user.role.value == "physician"]
        assert all(npi_is_valid(user.npi) for user in physicians)
        assert len({user.npi for user in physicians}) == 3
        nurses = [user for user in users if user.role.value == "nurse"]
        assert len({tuple(sorted(nurse.competencies)) for nurse in nurses}) == 8
        assert len({user.password_hash for user in users}) == 1


def test_sixty_patients_at_home_some_also_at_work(demo):
    app = demo.app
    with app.app_context():
        patients = all_rows(Patient)
        assert len(patients) == 60
        kinds = Counter(location.kind for location in all_rows(ServiceLocation))
        assert kinds[LocationKind.HOME] == 60
        assert 10 <= kinds[LocationKind.WORK] <= 30
        assert all(patient.access_type is not None for patient in patients)
        assert all(patient.mrn.startswith("DEMO-") for patient in patients)


def test_orders_for_typical_home_infusion_therapies(demo):
    app = demo.app
    with app.app_context():
        orders = {order.medication: order for order in all_rows(TherapyOrder)}
        assert {"ceftriaxone", "vancomycin", "sodium chloride 0.9%"} <= set(orders)
        vancomycin = orders["vancomycin"]
        assert (vancomycin.frequency_kind.value, vancomycin.frequency_interval) == (
            "every_n_hours", 12)
        ivig = orders["immune globulin 10% (IVIG)"]
        assert (ivig.frequency_kind.value, ivig.frequency_interval) == ("every_n_days", 28)
        assert ivig.required_competency == "ivig"
        milrinone = orders["milrinone (continuous)"]
        assert milrinone.pump_required and milrinone.required_competency == "inotropes"
        tpn = orders["parenteral nutrition (2-in-1) with lipids"]
        assert tpn.required_competency == "tpn"


def test_pump_fleet_with_one_recall_and_maintenance_due(demo):
    app, clock = demo.app, demo.clock
    today = clock().astimezone(TIMEZONE).date()
    with app.app_context():
        pumps = all_rows(Pump)
        assert len(pumps) == 40
        assert len({pump.serial for pump in pumps}) == 40
        statuses = Counter(pump.status for pump in pumps)
        assert statuses[PumpStatus.RECALLED] == 1
        due = [pump for pump in pumps if pump.status is PumpStatus.MAINTENANCE_DUE]
        assert due and all(pump.next_pm_due_on <= today + timedelta(days=7) for pump in due)
        in_use = {pump.patient_id: pump for pump in pumps if pump.patient_id is not None}
        for order in all_rows(TherapyOrder):
            if order.pump_required and order.status is OrderStatus.ACTIVE:
                assert in_use[order.patient_id].status is PumpStatus.IN_SERVICE


def test_visits_for_the_next_week_by_qualified_nurses(demo):
    app, clock = demo.app, demo.clock
    now = clock()
    today = now.astimezone(TIMEZONE).date()
    with app.app_context():
        visits = all_rows(Visit)
        nurses = {user.id: user for user in all_rows(User)}
        orders = {order.id: order for order in all_rows(TherapyOrder)}
        locations = {location.id: location for location in all_rows(ServiceLocation)}
        days = {visit.scheduled_start.astimezone(TIMEZONE).date() for visit in visits}
        assert {today + timedelta(days=n) for n in range(15)} <= days
        assert min(days) >= today - timedelta(days=7)
        assert max(days) == today + timedelta(days=14)
        for visit in visits:
            day = visit.scheduled_start.astimezone(TIMEZONE).date()
            # The first week ahead is assigned; the rest of the horizon waits on the board.
            assert (visit.nurse_id is None) is (day >= today + timedelta(days=7))
            assert visit.occurrence_at is not None
            needed = orders[visit.order_id].required_competency
            assert (needed is None or visit.nurse_id is None
                    or needed in nurses[visit.nurse_id].competencies)
            assert locations[visit.service_location_id].patient_id == visit.patient_id
            if visit.scheduled_start > now:
                assert visit.status is VisitStatus.SCHEDULED
        assert any(locations[v.service_location_id].kind is LocationKind.WORK for v in visits)
        # A real week: everything past was documented, but for one visit missed and one
        # whose nurse's device has not synced since (the missed-visits job's verdicts on
        # visits that ended more than its grace ago).
        grace = timedelta(minutes=app.config["MISSED_VISIT_GRACE_MINUTES"])
        past = Counter(v.status for v in visits if v.scheduled_end <= now - grace)
        assert past[VisitStatus.MISSED] == past[VisitStatus.LATE_UNKNOWN] == 1
        assert past[VisitStatus.COMPLETED] == sum(past.values()) - 2 > 200


def test_seed_is_recorded_in_the_audit_trail(demo):
    app = demo.app
    with app.app_context():
        [event] = [e for e in all_rows(AuditEvent) if e.actor_user_id is None]
        assert (event.action, event.entity_type, event.actor_user_id) == ("seed", "demo", None)
        # Everything else in the trail is the nurses' devices pushing their documentation.
        devices = {device.id: device.user_id for device in all_rows(Device)}
        others = [e for e in all_rows(AuditEvent) if e is not event]
        assert others and all(e.action == "sync.push" for e in others)
        assert all(devices[e.actor_device_id] == e.actor_user_id for e in others)


def test_running_twice_changes_nothing(demo):
    app, runner = demo.app, demo.app.test_cli_runner()
    before = primary_keys_by_table(app)
    output = seed(runner)
    assert "demo data already loaded" in output
    assert ADMIN_EMAIL in output
    assert primary_keys_by_table(app) == before


def test_fresh_database_gets_the_same_ids(demo, blank, tmp_path):
    seeded = [model.__table__ for model in SEEDED]
    with ExitStack() as stack:
        url = stack.enter_context(copy_of_database(blank, tmp_path))
        fresh = stack.enter_context(app_on(url, tmp_path, FakeClock(CLOCK_START)))
        seed(fresh.test_cli_runner())
        assert primary_keys_by_table(fresh, seeded) == primary_keys_by_table(demo.app, seeded)
        with demo.app.app_context():
            [seed_event] = [e.id for e in all_rows(AuditEvent) if e.action == "seed"]
        with fresh.app_context():
            assert db.session.get(AuditEvent, seed_event) is not None


def test_output_lists_logins_but_no_patient_data(demo):
    app = demo.app
    output = demo.output
    assert ADMIN_EMAIL in output
    assert DEMO_PASSWORD in output
    assert "demo only" in output
    roles = [line.split()[-1] for line in output.splitlines() if "@demo.infusync.test" in line
             and line.startswith("  ")]
    assert sorted(roles) == sorted({member.role.value for member in STAFF}), roles
    with app.app_context():
        for patient in all_rows(Patient):
            for value in (patient.mrn, patient.last_name, patient.phone):
                assert value not in output
        for location in all_rows(ServiceLocation):
            assert location.address not in output


def test_refuses_to_seed_production(app, runner):
    app.config["INFUSYNC_ENV"] = "production"
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert "production" in result.output
    with app.app_context():
        assert all_rows(User) == []


def test_output_points_at_the_url_actually_served(demo):
    assert f"Log in at {SERVED_URL}/api/docs" in demo.output
    assert f"Staff console: {SERVED_URL}/console/" in demo.output
    assert ":8000" not in demo.output


def test_make_run_passes_its_host_and_port_to_the_seed():
    makefile = (Path(__file__).resolve().parents[3] / "Makefile").read_text()
    assert "seed-demo --server-url http://$(HOST):$(PORT)" in makefile


def _on_schedule(order, start):
    """A day-based order's visits start at its local window_start; a dose every N hours
    comes N elapsed hours after the previous one from the first dose at window_start (so
    across the November change its local time moves by an hour, as a dose's should)."""
    if order.frequency_kind is not FrequencyKind.EVERY_N_HOURS:
        return start.astimezone(TIMEZONE).time() == order.window_start
    first = datetime.combine(order.start_date, order.window_start, TIMEZONE)
    return (start - first) % timedelta(hours=order.frequency_interval) == timedelta(0)


def test_visits_start_when_their_orders_say_and_no_nurse_is_double_booked(demo):
    app = demo.app
    with app.app_context():
        orders = {order.id: order for order in all_rows(TherapyOrder)}
        rounds = {}
        for visit in all_rows(Visit):
            order = orders[visit.order_id]
            assert _on_schedule(order, visit.scheduled_start), (order.medication, visit)
            assert visit.scheduled_end - visit.scheduled_start == timedelta(
                minutes=order.window_minutes)
            if visit.nurse_id is not None:
                rounds.setdefault(visit.nurse_id, []).append(visit)
        assert len(rounds) == 8
        for visits in rounds.values():
            visits.sort(key=lambda v: v.scheduled_start)
            for before, after in itertools.pairwise(visits):
                # Half an hour to drive from one patient to the next.
                assert after.scheduled_start >= before.scheduled_end + timedelta(minutes=30)


def test_past_visits_documented_as_a_nurse_would(demo):
    app, clock = demo.app, demo.clock
    now = clock()
    with app.app_context():
        pumps = {pump.patient_id: pump for pump in all_rows(Pump) if pump.patient_id}
        orders = {order.id: order for order in all_rows(TherapyOrder)}
        events, vitals, infusions = {}, {}, {}
        for event in all_rows(VisitEvent):
            events.setdefault(event.visit_id, {})[event.kind] = event
        for sign in all_rows(VitalSign):
            vitals.setdefault(sign.visit_id, set()).add(sign.code)
        for infusion in all_rows(InfusionAdministration):
            infusions[infusion.visit_id] = infusion
        devices = {device.user_id: device.id for device in all_rows(Device)}
        completed = [v for v in all_rows(Visit) if v.status is VisitStatus.COMPLETED]
        assert len(completed) > 200
        for visit in completed:
            assert visit.scheduled_end <= now
            kinds = events[visit.id]
            assert {"check_in", "check_out", "sign"} <= set(kinds)
            assert kinds["check_in"].evv_status == kinds["check_out"].evv_status == "verified"
            assert visit.checked_in_at == kinds["check_in"].at
            assert visit.checked_out_at == kinds["check_out"].at
            assert visit.signed_at is not None
            assert kinds["check_in"].device_id == devices[visit.nurse_id]
            assert {"85354-9", "8867-4", "8310-5", "2708-6"} <= vitals[visit.id]
            infusion = infusions[visit.id]
            order = orders[visit.order_id]
            assert (infusion.order_id, infusion.medication) == (order.id, order.medication)
            assert infusion.lot_number and infusion.lot_expiry >= infusion.started_at.date()
            if order.pump_required:
                assert infusion.pump_serial == pumps[visit.patient_id].serial
                assert infusion.pump_id == pumps[visit.patient_id].id
            assert infusion.flags == []
        notes = {note.visit_id for note in all_rows(VisitNote)}
        assert 0 < len(notes) < len(completed)


def test_the_office_has_a_small_plausible_review_queue(demo):
    app = demo.app
    with app.app_context():
        open_items = [i for i in all_rows(ReviewItem) if i.status is ReviewStatus.OPEN]
        assert sorted(item.kind for item in open_items) == [
            "visit_late_unknown", "visit_missed"]
        visits = {visit.id: visit for visit in all_rows(Visit)}
        by_kind = {item.kind: visits[item.visit_id] for item in open_items}
        assert by_kind["visit_missed"].status is VisitStatus.MISSED
        assert by_kind["visit_late_unknown"].status is VisitStatus.LATE_UNKNOWN
        assert by_kind["visit_missed"].nurse_id != by_kind["visit_late_unknown"].nurse_id


@pytest.mark.parametrize("email", [ADMIN_EMAIL, PRIVACY_EMAIL])
def test_demo_accounts_needing_a_second_factor_log_in_with_the_published_secret(
        demo_copy, email):
    client, clock = demo_copy.app.test_client(), demo_copy.clock
    assert ADMIN_TOTP_SECRET in demo_copy.output and f"{email} " in demo_copy.output
    held = client.post("/api/v1/auth/login",
                       json={"email": email, "password": DEMO_PASSWORD}).get_json()
    assert held["status"] == "mfa_required"

    code = pyotp.TOTP(ADMIN_TOTP_SECRET).at(clock())
    response = client.post("/api/v1/auth/login/mfa",
                           json={"mfa_token": held["mfa_token"], "code": code})

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["user"]["email"] == email
