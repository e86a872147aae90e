"""``infusync seed-demo``: a deterministic demo agency to try infusync out on.

The same seed and fixed ``uuid5`` ids mean a fresh database gets the same records on every
run; a database that already holds the demo (the admin's fixed id) is left untouched.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import click
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from schemas.users import npi_is_valid
from server import clock, config
from server import demo_data as demo
from server.cli import seed_documentation as documentation
from server.cli import seed_schedule as schedule
from server.cli.database_check import with_migrated_database
from server.cli.seed_charting import Chart
from server.cli.seed_training import training_batches
from server.extensions import db
from server.models import (
    AccessDeviceType,
    AuditEvent,
    Device,
    LocationKind,
    OrderStatus,
    Patient,
    Pump,
    PumpStatus,
    Role,
    ServiceLocation,
    TherapyOrder,
    User,
    Visit,
)
from server.passwords import hash_password
from server.scheduler import missed
from server.services.mfa import credentials as mfa_credentials
from server.services.visit_generation import extend_horizon

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, demo.EMAIL_DOMAIN)
SEED = 20261123
DAYS_BACK = 7
# Visits are generated over the whole horizon (SCHEDULE_HORIZON_DAYS); the first week is
# already assigned, the rest waits on the coordinator's board.
DAYS_AHEAD = 7


def demo_id(kind: str, key: object) -> uuid.UUID:
    """The fixed id of one demo record, so reruns on a fresh database make the same ids."""
    return uuid.uuid5(NAMESPACE, f"{kind}:{key}")


@dataclass
class Case:
    """One demo patient, the therapy she is on, where she is seen and when the dose is due.

    ``first_dose`` is the therapy's preferred time; the schedule planner sets the order's
    ``window_start`` near it. An antibiotic course that ``ended`` before today was active
    while its doses were given, and is completed once they are documented.
    """

    patient: Patient
    therapy: demo.Therapy
    home: ServiceLocation
    work: ServiceLocation | None
    first_dose: time
    order: TherapyOrder
    ended: bool


@click.command("seed-demo")
@click.option("--server-url", default=demo.SERVER_URL, show_default=True,
              help="Where the demo is served, for the login hint (make run passes its own).")
@with_migrated_database
def seed_demo(server_url: str) -> None:
    """Load the demo agency: staff, 60 fictional patients, orders, pumps and a real week.

    Visits are the orders' occurrences in the agency's local time, from 7 days before today
    through the scheduling horizon ("today" from the app's clock); no nurse has two at
    once. Visits begun before now were documented by the nurses' demo devices (one was
    missed, one nurse's device is still offline); the 7 days starting today are assigned,
    later ones wait unassigned. Running it again on a seeded database changes nothing.
    """
    if config.is_production(current_app.config):
        raise click.ClickException("refusing to load demo accounts (shared password) "
                                   "into a production deployment")
    session = db.session()
    if _already_loaded(session):
        click.echo("demo data already loaded")
    else:
        counts = _load(session, clock.now())
        click.echo("demo data loaded: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()))
    _echo_logins(server_url.rstrip("/"))


def _already_loaded(session: Session) -> bool:
    """The admin's fixed id marks a seeded database."""
    return session.get(User, demo_id("user", demo.ADMIN_EMAIL)) is not None


@dataclass(frozen=True)
class Agency:
    """The demo agency built in memory, before anything is stored."""

    staff: list[User]
    cases: list[Case]
    pumps: list[Pump]
    visits: list[Visit]
    devices: list[Device]

    def counts(self) -> dict[str, int]:
        """How many of each the seed stores, for its output and audit event."""
        return {"staff accounts": len(self.staff), "patients": len(self.cases),
                "orders": len(self.cases), "pumps": len(self.pumps),
                "visits": len(self.visits), "devices": len(self.devices)}


def _build(now: datetime) -> Agency:
    """Staff, patients, orders, pumps, the schedule and the nurses' devices."""
    rng = random.Random(SEED)  # noqa: S311 - reproducible demo data, not security
    today = now.astimezone(demo.TIMEZONE).date()
    staff = _build_staff(rng)
    physicians = [user for user in staff if user.role is Role.PHYSICIAN]
    cases = _build_cases(rng, physicians, today)
    pumps = _build_pumps(rng, cases, today)
    nurses = [user for user in staff if user.role is Role.NURSE]
    span = schedule.span_of(today, DAYS_BACK, DAYS_AHEAD,
                            int(current_app.config["SCHEDULE_HORIZON_DAYS"]),
                            clock.agency_zone())
    nurse_of = schedule.plan_rounds([(c.order, c.first_dose) for c in cases], nurses, span)
    visits = schedule.build_visits([_placed(case, nurse_of[case.order.id]) for case in cases],
                                   span, demo_id)
    return Agency(staff, cases, pumps, visits, documentation.demo_devices(nurses, now, demo_id))


def _placed(case: Case, nurse_id: uuid.UUID) -> schedule.Placed:
    minutes = case.therapy.visit_minutes
    return schedule.Placed(case.order, nurse_id, lambda local_start: schedule.at_work(
        case.home, case.work, minutes, local_start))


def _load(session: Session, now: datetime) -> dict[str, int]:
    """Build the agency, store it, document its week, all in one transaction."""
    agency = _build(now)
    counts = agency.counts()
    audit = AuditEvent(id=demo_id("audit", "seed"), at=now, actor_user_id=None, action="seed",
                       entity_type="demo", outcome="ok", details=counts)
    # Foreign keys without a relationship() do not order the flush: flush parents first.
    batches: list[Sequence[object]] = [
        agency.staff, [case.patient for case in agency.cases],
        [*(case.order for case in agency.cases), *agency.pumps, *agency.devices],
        [*agency.visits, audit], *training_batches(agency.staff, now, demo_id)]
    try:
        for batch in batches:
            session.add_all(batch)
            session.flush()
        _enroll_second_factors(session, agency.staff, now)
        _live_the_week(session, agency, now)
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise click.ClickException("demo records clash with existing data (same e-mail, MRN "
                                   "or pump serial); use an empty database") from exc
    return counts


def _enroll_second_factors(session: Session, staff: list[User], now: datetime) -> None:
    """The second factor of the demo accounts whose roles require one (admin, privacy
    officer), with the published demo secret (see ``_echo_logins``)."""
    for user in staff:
        if user.email in demo.SECOND_FACTOR_EMAILS:
            credential, _secret = mfa_credentials.new_credential(
                session, user, current_app.config["INFUSYNC_DATA_KEY"], now,
                demo.ADMIN_TOTP_SECRET)
            credential.confirmed_at = now


def _live_the_week(session: Session, agency: Agency, now: datetime) -> None:
    """The nurses document what they did, finished courses close, the jobs run.

    Every occurrence is built with a fixed id, so the horizon job finds none missing;
    the missed-visits job judges what nobody documented, as it would at "now".
    """
    settings = current_app.config
    week = documentation.Week(
        session, {device.user_id: device for device in agency.devices}, now,
        timedelta(minutes=int(settings["MISSED_VISIT_GRACE_MINUTES"])), clock.agency_zone(),
        settings["INFUSYNC_DATA_KEY"], demo_id)
    documentation.document(week, _charts(agency))
    for case in agency.cases:
        if case.ended:
            case.order.status = OrderStatus.COMPLETED
    horizon = int(settings["SCHEDULE_HORIZON_DAYS"])
    extend_horizon(session, now, horizon, clock.agency_zone())
    missed.run(session, now, settings)


def _charts(agency: Agency) -> list[Chart]:
    """Each assigned visit with what its nurse needs to document it."""
    cases = {case.order.id: case for case in agency.cases}
    pumps = {pump.patient_id: pump.serial for pump in agency.pumps if pump.patient_id}
    places = {place.id: place for case in agency.cases
              for place in (case.home, case.work) if place is not None}
    charts = []
    for visit in agency.visits:
        case = cases[visit.order_id] if visit.order_id else None
        if case is None or visit.nurse_id is None:
            continue
        serial = pumps.get(case.patient.id) if case.order.pump_required else None
        charts.append(Chart(visit, case.order, case.patient,
                            places[visit.service_location_id], serial))
    return charts


def _echo_logins(server_url: str) -> None:
    """Print the console's address, one demo account per role, their shared password and
    the admin's TOTP secret, never any patient data."""
    click.echo(f"Staff console: {server_url}/console/ - one demo login per role:")
    shown: set[Role] = set()
    for member in demo.STAFF:
        if member.role not in shown:
            shown.add(member.role)
            click.echo(f"  {member.email:<36} {member.role.value}")
    click.echo(f"Password for every demo account: {demo.DEMO_PASSWORD}")
    click.echo(f"{' and '.join(demo.SECOND_FACTOR_EMAILS)} also need a TOTP code (second "
               f"factor) from the secret "
               f"{demo.ADMIN_TOTP_SECRET}: add it to an authenticator app, or print the "
               f"current code with .venv/bin/python -c \"import pyotp; "
               f"print(pyotp.TOTP('{demo.ADMIN_TOTP_SECRET}').now())\".")
    click.echo(f"Log in at {server_url}/api/docs with the same accounts (the admin sends the "
               "code to /api/v1/auth/login/mfa with the mfa_token the login answers).")
    click.echo("WARNING: for demo only. This password and secret are published; never load "
               "demo data into a database that holds real patients.")


def _build_staff(rng: random.Random) -> list[User]:
    """Every demo account, sharing one password hash (scrypt is slow on purpose)."""
    password_hash = hash_password(demo.DEMO_PASSWORD)
    return [
        User(id=demo_id("user", member.email), email=member.email, name=member.name,
             role=member.role, password_hash=password_hash,
             competencies=list(member.competencies),
             npi=_demo_npi(rng) if member.role is Role.PHYSICIAN else None)
        for member in demo.STAFF
    ]


def _demo_npi(rng: random.Random) -> str:
    """A random NPI with a correct check digit (exactly one of ten digits passes)."""
    body = "1" + "".join(rng.choice("0123456789") for _ in range(8))
    return next(body + digit for digit in "0123456789" if npi_is_valid(body + digit))


def _build_cases(rng: random.Random, physicians: list[User], today: date) -> list[Case]:
    """The 60 patients, each on one therapy from ``THERAPIES``, physicians in turn."""
    therapies = [therapy for therapy in demo.THERAPIES for _ in range(therapy.patients)]
    rng.shuffle(therapies)
    return [_build_case(rng, index, therapy, physicians[index % len(physicians)], today)
            for index, therapy in enumerate(therapies, start=1)]


def _build_case(rng: random.Random, index: int, therapy: demo.Therapy, physician: User,
                today: date) -> Case:
    """One fictional patient with her home (every third also a workplace) and her order."""
    patient_id = demo_id("patient", index)
    home = _location(rng, patient_id, LocationKind.HOME, demo.HOME_SPREAD_DEGREES,
                     _home_address(rng))
    work = None
    if index % 3 == 0:
        work = _location(rng, patient_id, LocationKind.WORK, demo.WORK_SPREAD_DEGREES,
                         _work_address(rng))
    patient = Patient(
        id=patient_id, mrn=f"DEMO-{index:04d}",
        first_name=rng.choice(demo.PATIENT_FIRST_NAMES),
        last_name=rng.choice(demo.PATIENT_LAST_NAMES),
        birth_date=today - timedelta(days=rng.randint(18 * 365, 90 * 365)),
        phone=f"(614) 555-01{rng.randint(0, 99):02d}",
        allergies=rng.sample(demo.ALLERGIES, k=rng.choice((0, 0, 1, 2))),
        primary_physician_id=physician.id, referral_source=rng.choice(demo.REFERRAL_SOURCES),
        locations=[home] if work is None else [home, work], **_access(rng, therapy, today),
    )
    first_dose = time(rng.choice(therapy.first_dose_hours), rng.choice((0, 30)))
    order = _build_order(rng, index, therapy, patient_id, physician.id, today)
    # Its visits: the first dose's time, as long as the therapy's visit takes.
    order.window_start, order.window_minutes, order.weekdays = (
        first_dose, therapy.visit_minutes, [])
    ended = order.end_date is not None and order.end_date < today
    return Case(patient, therapy, home, work, first_dose, order, ended)


def _location(rng: random.Random, patient_id: uuid.UUID, kind: LocationKind,
              spread: tuple[float, float], address: str) -> ServiceLocation:
    """A place around the metro centre; EVV accepts check-ins within 150 m of it."""
    return ServiceLocation(
        id=demo_id("location", f"{patient_id}:{kind.value}"), patient_id=patient_id, kind=kind,
        address=address, evv_radius_m=150,
        latitude=round(demo.METRO_CENTER[0] + rng.uniform(-spread[0], spread[0]), 5),
        longitude=round(demo.METRO_CENTER[1] + rng.uniform(-spread[1], spread[1]), 5),
    )


def _home_address(rng: random.Random) -> str:
    street = f"{rng.choice(demo.STREETS)} {rng.choice(demo.STREET_SUFFIXES)}"
    return f"{rng.randint(100, 9999)} {street}, {demo.CITY} {rng.choice(demo.ZIP_CODES)}"


def _work_address(rng: random.Random) -> str:
    street = f"{rng.choice(demo.STREETS)} {rng.choice(demo.STREET_SUFFIXES)}"
    return f"{rng.choice(demo.EMPLOYERS)}, {rng.randint(10, 400)} {street}, {demo.CITY} 43215"


def _access(rng: random.Random, therapy: demo.Therapy, today: date) -> dict[str, object]:
    """The vascular access device the therapy runs through; ports sit for months."""
    kind = rng.choice(therapy.access_types)
    age_days = rng.randint(60, 700) if kind is AccessDeviceType.PORT else rng.randint(2, 45)
    external = None
    if kind in (AccessDeviceType.PICC, AccessDeviceType.MIDLINE):
        external = Decimal(f"{rng.uniform(0.5, 4.0):.1f}")
    return {"access_type": kind, "access_placed_on": today - timedelta(days=age_days),
            "access_side": rng.choice(("left", "right")), "access_external_length_cm": external}


def _build_order(rng: random.Random, index: int, therapy: demo.Therapy,
                 patient_id: uuid.UUID, physician_id: uuid.UUID, today: date) -> TherapyOrder:
    """The patient's order, active (a course that has ended is completed by the seed once
    its doses are documented)."""
    start = today - timedelta(days=rng.randint(1, 30))
    end = None
    if therapy.course_days is not None:
        end = start + timedelta(days=rng.randint(*therapy.course_days) - 1)
    return TherapyOrder(
        id=demo_id("order", index), patient_id=patient_id, physician_id=physician_id,
        medication=therapy.medication, dose=Decimal(therapy.dose), dose_unit=therapy.dose_unit,
        route="IV", rate_ml_h=_decimal(therapy.rate_ml_h), volume_ml=_decimal(therapy.volume_ml),
        frequency_kind=therapy.frequency_kind, frequency_interval=therapy.frequency_interval,
        start_date=start, end_date=end, pump_required=therapy.pump_required,
        required_competency=therapy.required_competency,
        status=OrderStatus.ACTIVE,
    )


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _build_pumps(rng: random.Random, cases: list[Case], today: date) -> list[Pump]:
    """The fleet: pumps on the patients whose active orders need one, the rest on the shelf."""
    wearers = [case.patient.id for case in cases
               if case.order.pump_required and not case.ended]
    states = _shelf_states(rng, len(wearers))
    return [_pump(rng, index, wearers[index] if index < len(wearers) else None,
                  states.get(index, "ok"), today) for index in range(demo.PUMP_COUNT)]


def _shelf_states(rng: random.Random, worn: int) -> dict[int, str]:
    """Which shelf pumps are recalled (exactly one), broken or due for maintenance."""
    states = (["recalled"] + ["overdue"] * demo.PUMPS_PM_OVERDUE
              + ["due_soon"] * demo.PUMPS_PM_DUE_THIS_WEEK
              + ["broken"] * demo.PUMPS_OUT_OF_SERVICE)
    picked = rng.sample(range(worn, demo.PUMP_COUNT), len(states))
    return dict(zip(picked, states, strict=True))


PUMP_STATUS_OF_STATE = {"recalled": PumpStatus.RECALLED, "broken": PumpStatus.OUT_OF_SERVICE,
                        "overdue": PumpStatus.MAINTENANCE_DUE,
                        "due_soon": PumpStatus.MAINTENANCE_DUE}


def _pump(rng: random.Random, index: int, patient_id: uuid.UUID | None, state: str,
          today: date) -> Pump:
    """One pump; preventive maintenance is yearly, so the last one was a year before due."""
    next_pm = today + timedelta(days=rng.randint(30, 330))
    if state == "overdue":
        next_pm = today - timedelta(days=rng.randint(1, 20))
    elif state == "due_soon":
        next_pm = today + timedelta(days=rng.randint(1, 6))
    model = demo.PUMP_MODELS[index % len(demo.PUMP_MODELS)]
    return Pump(
        id=demo_id("pump", index), serial=f"DEMO-{model.serial_prefix}-{index + 1:04d}",
        manufacturer=model.manufacturer, model=model.model, udi_di=model.udi_di,
        status=PUMP_STATUS_OF_STATE.get(state, PumpStatus.IN_SERVICE), patient_id=patient_id,
        last_pm_on=next_pm - timedelta(days=365), next_pm_due_on=next_pm,
    )
