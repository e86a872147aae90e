"""``infusync seed-demo``: a realistic, deterministic demo agency, loaded once."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from schemas.users import npi_is_valid
from server.demo_data import ADMIN_EMAIL, DEMO_PASSWORD, TIMEZONE
from server.extensions import db
from server.models import (
    AuditEvent,
    Base,
    LocationKind,
    OrderStatus,
    Patient,
    Pump,
    PumpStatus,
    ServiceLocation,
    TherapyOrder,
    User,
    Visit,
    VisitStatus,
)


def seed(runner):
    """Run the command and return what it printed."""
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return result.output


def all_rows(model):
    return db.session.execute(sa.select(model)).scalars().all()


# The tables the seed writes itself; other rows (the sync feed, assignment history) are
# written by flush hooks with ids of their own.
SEEDED = (User, Patient, ServiceLocation, TherapyOrder, Pump, Visit, AuditEvent)


def primary_keys_by_table(app, tables=None):
    """Each table's set of primary keys (every table unless ``tables`` is given)."""
    with app.app_context():
        chosen = tables or Base.metadata.sorted_tables
        return {
            table.name: set(db.session.execute(sa.select(*table.primary_key.columns)).all())
            for table in chosen
        }


def test_staff_of_every_role_with_valid_npis(app, runner):
    seed(runner)
    with app.app_context():
        users = all_rows(User)
        assert Counter(user.role.value for user in users) == {
            "admin": 1, "coordinator": 2, "training_lead": 1, "qc": 1, "nurse": 8,
            "physician": 3,
        }
        physicians = [user for user in users if user.role.value == "physician"]
        assert all(npi_is_valid(user.npi) for user in physicians)
        assert len({user.npi for user in physicians}) == 3
        nurses = [user for user in users if user.role.value == "nurse"]
        assert len({tuple(sorted(nurse.competencies)) for nurse in nurses}) == 8
        assert len({user.password_hash for user in users}) == 1


def test_sixty_patients_at_home_some_also_at_work(app, runner):
    seed(runner)
    with app.app_context():
        patients = all_rows(Patient)
        assert len(patients) == 60
        kinds = Counter(location.kind for location in all_rows(ServiceLocation))
        assert kinds[LocationKind.HOME] == 60
        assert 10 <= kinds[LocationKind.WORK] <= 30
        assert all(patient.access_type is not None for patient in patients)
        assert all(patient.mrn.startswith("DEMO-") for patient in patients)


def test_orders_for_typical_home_infusion_therapies(app, runner):
    seed(runner)
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


def test_pump_fleet_with_one_recall_and_maintenance_due(app, runner, clock):
    seed(runner)
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


def test_visits_for_the_next_week_by_qualified_nurses(app, runner, clock):
    seed(runner)
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
            expected = VisitStatus.COMPLETED if visit.scheduled_end <= now else (
                VisitStatus.SCHEDULED)
            assert visit.status is expected
        assert any(locations[v.service_location_id].kind is LocationKind.WORK for v in visits)


def test_seed_is_recorded_in_the_audit_trail(app, runner):
    seed(runner)
    with app.app_context():
        [event] = all_rows(AuditEvent)
        assert (event.action, event.entity_type, event.actor_user_id) == ("seed", "demo", None)


def test_running_twice_changes_nothing(app, runner):
    seed(runner)
    before = primary_keys_by_table(app)
    output = seed(runner)
    assert "demo data already loaded" in output
    assert ADMIN_EMAIL in output
    assert primary_keys_by_table(app) == before


def test_fresh_database_gets_the_same_ids(app, runner):
    seed(runner)
    seeded = [model.__table__ for model in SEEDED]
    first = primary_keys_by_table(app, seeded)
    with app.app_context():
        for table in reversed(Base.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
    seed(runner)
    assert primary_keys_by_table(app, seeded) == first


def test_output_lists_logins_but_no_patient_data(app, runner):
    output = seed(runner)
    assert ADMIN_EMAIL in output
    assert DEMO_PASSWORD in output
    assert "demo only" in output
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


def test_output_points_at_the_url_actually_served(runner):
    result = runner.invoke(args=["seed-demo", "--server-url", "http://127.0.0.1:8765"])
    assert result.exit_code == 0, result.output
    assert "Log in at http://127.0.0.1:8765/api/docs" in result.output
    assert ":8000" not in result.output


def test_make_run_passes_its_host_and_port_to_the_seed():
    makefile = (Path(__file__).resolve().parents[3] / "Makefile").read_text()
    assert "seed-demo --server-url http://$(HOST):$(PORT)" in makefile
