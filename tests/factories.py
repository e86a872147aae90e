"""Building records for tests straight through the models (fast, explicit)."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pyotp
from flask import Flask
from flask.testing import FlaskClient

from server.clock import app_clock
from server.extensions import db
from server.models import (
    FrequencyKind,
    LocationKind,
    MfaCredential,
    Patient,
    Pump,
    Role,
    ServiceLocation,
    TherapyOrder,
    User,
    Visit,
)
from server.passwords import hash_password
from server.services.mfa import credentials

PASSWORD = "correct horse battery staple"
PHYSICIAN_NPI = "1234567893"  # passes the NPI check digit


@functools.cache
def password_hash() -> str:
    """One scrypt hash shared by every test user, with cheap parameters: logging in is part
    of most tests, and the parameters travel with the hash (production uses N=2^15)."""
    return hash_password(PASSWORD, n=2**10)


def make_user(role: Role, email: str, **fields: Any) -> User:
    """A user with the shared test password."""
    defaults: dict[str, Any] = {"name": email.split("@")[0].title(), "competencies": []}
    if role is Role.PHYSICIAN:
        defaults["npi"] = PHYSICIAN_NPI
    user = User(email=email, role=role, password_hash=password_hash(), **{**defaults, **fields})
    db.session.add(user)
    return user


def make_patient(mrn: str, physician: User | None = None, **fields: Any) -> Patient:
    """A patient with a home location."""
    home = ServiceLocation(kind=LocationKind.HOME, address="1 Elm St, Springfield",
                           latitude=39.78, longitude=-89.65, evv_radius_m=150)
    patient = Patient(
        mrn=mrn, first_name="Test", last_name=f"Patient{mrn}", birth_date=date(1960, 5, 1),
        primary_physician_id=physician.id if physician else None, locations=[home], **fields,
    )
    db.session.add(patient)
    return patient


def make_order(patient: Patient, physician: User, **fields: Any) -> TherapyOrder:
    """A daily IV antibiotic order."""
    values: dict[str, Any] = {
        "medication": "ceftriaxone", "dose": Decimal("2"), "dose_unit": "g",
        "rate_ml_h": Decimal("100"), "volume_ml": Decimal("100"),
        "frequency_kind": FrequencyKind.DAILY, "start_date": date(2026, 11, 20),
    }
    order = TherapyOrder(patient=patient, physician_id=physician.id, **{**values, **fields})
    db.session.add(order)
    return order


def make_visit(patient: Patient, nurse: User | None, start: datetime, **fields: Any) -> Visit:
    """A one-hour visit at the patient's first location."""
    visit = Visit(patient_id=patient.id, nurse_id=nurse.id if nurse else None,
                  service_location_id=patient.locations[0].id, scheduled_start=start,
                  scheduled_end=start + timedelta(hours=1), **fields)
    db.session.add(visit)
    return visit


@dataclass
class Agency:
    """A small agency: a user of every role, two nurses with a patient and a visit each."""

    ids: dict[str, uuid.UUID] = field(default_factory=dict)

    def __getitem__(self, name: str) -> uuid.UUID:
        return self.ids[name]


def build_agency(app: Flask, now: datetime) -> Agency:
    """Create the small agency and return the ids of what it holds."""
    with app.app_context():
        staff = {
            "admin": make_user(Role.ADMIN, "admin@agency.test"),
            "coordinator": make_user(Role.COORDINATOR, "coord@agency.test"),
            "training_lead": make_user(Role.TRAINING_LEAD, "lead@agency.test"),
            "qc": make_user(Role.QC, "qc@agency.test"),
            "nurse_a": make_user(Role.NURSE, "ann@agency.test", competencies=["picc-care"]),
            "nurse_b": make_user(Role.NURSE, "bea@agency.test", competencies=["tpn"]),
            "physician_a": make_user(Role.PHYSICIAN, "drx@agency.test"),
            "physician_b": make_user(Role.PHYSICIAN, "dry@agency.test"),
        }
        db.session.flush()
        enroll_totp(app, staff["admin"], TOTP_SECRETS["admin"], now)
        patient_a = make_patient("MRN-A", staff["physician_a"])
        patient_b = make_patient("MRN-B", staff["physician_b"])
        db.session.flush()
        order_a = make_order(patient_a, staff["physician_a"])
        order_b = make_order(patient_b, staff["physician_b"])
        visit_a = make_visit(patient_a, staff["nurse_a"], now + timedelta(hours=2))
        visit_b = make_visit(patient_b, staff["nurse_b"], now + timedelta(hours=3))
        pump_a = Pump(serial="PMP-A", manufacturer="Moog", model="CADD-Solis",
                      patient_id=patient_a.id)
        pump_b = Pump(serial="PMP-B", manufacturer="Moog", model="CADD-Solis",
                      patient_id=patient_b.id)
        db.session.add_all([pump_a, pump_b])
        db.session.commit()
        ids = {name: user.id for name, user in staff.items()}
        ids.update(patient_a=patient_a.id, patient_b=patient_b.id, order_a=order_a.id,
                   order_b=order_b.id, visit_a=visit_a.id, visit_b=visit_b.id,
                   pump_a=pump_a.id, pump_b=pump_b.id,
                   location_a=patient_a.locations[0].id, location_b=patient_b.locations[0].id)
        return Agency(ids)


EMAILS = {
    "admin": "admin@agency.test", "coordinator": "coord@agency.test",
    "training_lead": "lead@agency.test", "qc": "qc@agency.test", "nurse_a": "ann@agency.test",
    "nurse_b": "bea@agency.test", "physician_a": "drx@agency.test",
    "physician_b": "dry@agency.test", "privacy_officer": "privacy@agency.test",
}


# The agency's admin has a second factor, as admins must: her TOTP secret (test only).
TOTP_SECRETS = {"admin": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
                "privacy_officer": "KRUGKIDROVUWG2ZAMJZG653OEBTG66BA"}


def add_privacy_officer(app: Flask, agency: Agency, now: datetime) -> uuid.UUID:
    """Give the agency its privacy officer (with the second factor her role requires); not
    in ``build_agency``, whose staff counts other tests rely on."""
    with app.app_context():
        officer = make_user(Role.PRIVACY_OFFICER, EMAILS["privacy_officer"])
        db.session.flush()
        enroll_totp(app, officer, TOTP_SECRETS["privacy_officer"], now)
        db.session.commit()
        agency.ids["privacy_officer"] = officer.id
        return officer.id


def enroll_totp(app: Flask, user: User, secret: str, now: datetime) -> MfaCredential:
    """Give ``user`` a confirmed TOTP credential, sealed as enrollment seals it."""
    credential, _ = credentials.new_credential(db.session, user,
                                               app.config["INFUSYNC_DATA_KEY"], now, secret)
    credential.confirmed_at = now
    return credential


def totp_code(app: Flask, secret: str, steps: int = 0) -> str:
    """The TOTP code of ``secret`` at the app's now (``steps`` 30-second steps later)."""
    return pyotp.TOTP(secret).at(app_clock(app)() + timedelta(seconds=30 * steps))


def login(client: FlaskClient, who: str, password: str = PASSWORD,
          steps: int = 0) -> dict[str, str]:
    """Log ``who`` in (with a real TOTP code, ``steps`` 30-second steps ahead, when she has a
    second factor: a code is accepted once) and return the Authorization header."""
    response = client.post("/api/v1/auth/login",
                           json={"email": EMAILS[who], "password": password})
    assert response.status_code == 200, response.get_json()
    if response.get_json().get("status") == "mfa_required":
        response = client.post("/api/v1/auth/login/mfa", json={
            "mfa_token": response.get_json()["mfa_token"],
            "code": totp_code(client.application, TOTP_SECRETS[who], steps)})
        assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}
