"""The first page of a nurse (her week) and of a physician (his patients and inbox): her
own data only, read through the API's services and audited (test client, on SQLite and
PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy import select

from server.extensions import db
from server.models import (
    AuditEvent,
    Device,
    EarlyWarningLevel,
    EarlyWarningScore,
    ModuleStatus,
    Notification,
    Patient,
    TrainingModule,
    TrainingState,
    TrainingStatus,
    User,
    VisitStatus,
)
from tests.factories import make_order, make_patient, make_visit
from tests.integration.console.browser import csrf_of, dashed_text_of, signed_in, text_of


def _events(app, who, action, entity_type):
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).filter_by(
            actor_user_id=who, action=action, entity_type=entity_type, outcome="ok")))


def _device(user_id, name, seen):
    return Device(user_id=user_id, name=name, platform="android", app_version="2.4.0",
                  signing_key=uuid.uuid4().hex, token_hash=uuid.uuid4().hex,
                  enrolled_at=seen, last_seen_at=seen)


def _module(title, nurse_id, state, due):
    module = TrainingModule(lineage_id=uuid.uuid4(), version=1, title=title, required=True,
                            status=ModuleStatus.PUBLISHED, competency="picc-care")
    db.session.add(module)
    db.session.flush()
    db.session.add(TrainingStatus(nurse_id=nurse_id, lineage_id=module.lineage_id,
                                  module_id=module.id, state=state, due_on=due))


def _nurse_week(app, agency, clock):
    """Ann's week: a visit in 3 days and one in 9 (beyond it), a device, two modules."""
    with app.app_context():
        nurse = db.session.get(User, agency["nurse_a"])
        patient = db.session.get(Patient, agency["patient_a"])
        make_visit(patient, nurse, clock() + timedelta(days=3))
        make_visit(patient, nurse, clock() + timedelta(days=9))
        db.session.add(_device(agency["nurse_a"], "Tablet A", clock() - timedelta(hours=1)))
        db.session.add(_device(agency["nurse_b"], "Phone B", clock()))
        _module("PICC refresher", agency["nurse_a"], TrainingState.OVERDUE, date(2026, 11, 20))
        _module("Hand hygiene", agency["nurse_a"], TrainingState.PASSED, date(2027, 11, 20))
        _module("TPN basics", agency["nurse_b"], TrainingState.OVERDUE, date(2026, 11, 1))
        db.session.commit()


def test_a_nurse_sees_her_week_her_devices_and_the_training_she_owes(app, agency, clock):
    _nurse_week(app, agency, clock)
    client = signed_in(app, "nurse_a")
    home = client.get("/console/")
    assert home.status_code == 302 and home.headers["Location"] == "/console/my-week"
    response = client.get("/console/my-week")
    text = dashed_text_of(response)
    assert response.status_code == 200
    assert "My visits today and the next 7 days" in text
    assert "Mon 23 Nov 10:00 - 11:00 PatientMRN-A, Test scheduled" in text
    assert "Thu 26 Nov 08:00 - 09:00 PatientMRN-A, Test scheduled" in text
    assert "Wed 02 Dec" not in text  # nine days ahead: beyond her week
    assert "PatientMRN-B" not in text  # Bea's patient
    assert "Tablet A (android 2.4.0) active Mon 23 Nov 07:00" in text
    assert "Phone B" not in text
    assert "PICC refresher (required) overdue Fri 20 Nov 2026" in text
    assert "Hand hygiene" not in text and "TPN basics" not in text
    visits = _events(app, agency["nurse_a"], "list", "visits")
    assert len(visits) == 1
    assert visits[0].details["patient_ids"] == [str(agency["patient_a"])]
    assert len(_events(app, agency["nurse_a"], "list", "devices")) == 1
    assert len(_events(app, agency["nurse_a"], "list", "training_statuses")) == 1


def test_a_nurse_with_nothing_assigned_is_told_so(app, agency):
    text = text_of(signed_in(app, "nurse_b").get("/console/my-week"))
    assert "PatientMRN-B" in text  # visit B is hers
    assert "No device is enrolled for you." in text
    assert "You owe no training module." in text


def _chart(app, agency, clock):
    """Patient A seen yesterday (NEWS2 6, a warning); a third patient of physician B's."""
    with app.app_context():
        physician_b = db.session.get(User, agency["physician_b"])
        patient_a = db.session.get(Patient, agency["patient_a"])
        seen = make_visit(patient_a, None, clock() - timedelta(days=1),
                          status=VisitStatus.COMPLETED)
        db.session.flush()
        for taken, score, level in ((1, 2, EarlyWarningLevel.NONE),
                                    (2, 6, EarlyWarningLevel.WARNING)):
            db.session.add(EarlyWarningScore(
                visit_id=seen.id, patient_id=patient_a.id, score=score, level=level,
                taken_at=seen.scheduled_start + timedelta(minutes=10 * taken),
                scored_at=clock(), parts={}, missing=[]))
        patient_c = make_patient("MRN-C", physician_b)
        db.session.flush()
        make_order(patient_c, physician_b, medication="vancomycin")
        db.session.commit()
        return patient_c.id


def test_a_physician_sees_only_his_patients_their_orders_and_latest_news2(app, agency, clock):
    patient_c = _chart(app, agency, clock)
    client = signed_in(app, "physician_a")
    assert client.get("/console/").headers["Location"] == "/console/my-patients"
    response = client.get("/console/my-patients")
    text = dashed_text_of(response)
    assert response.status_code == 200
    assert "Patients (1)" in text
    assert "PatientMRN-A, Test MRN MRN-A active ceftriaxone 2 g IV, daily from 2026-11-20" \
        in text
    assert "Sun 22 Nov 08:00 completed Score 6 (warning) at Sun 22 Nov 08:20" in text
    assert "MRN-B" not in text and "MRN-C" not in text and "vancomycin" not in text
    patients = _events(app, agency["physician_a"], "list", "patients")
    assert [e.details["patient_ids"] for e in patients] == [[str(agency["patient_a"])]]
    latest = _events(app, agency["physician_a"], "list", "visits")
    assert [e.details["patient_ids"] for e in latest] == [[str(agency["patient_a"])]]
    assert len(_events(app, agency["physician_a"], "list", "therapy_orders")) == 1
    # Physician B sees his two patients, never A.
    other = text_of(signed_in(app, "physician_b").get("/console/my-patients"))
    assert "Patients (2)" in other and "MRN-B" in other and "vancomycin" in other
    assert "MRN-A" not in other and "Score 6" not in other
    assert str(patient_c) not in text


def _notify(app, agency, who, title):
    with app.app_context():
        note = Notification(user_id=agency[who], kind="critical_finding", title=title,
                            body="A critical finding needs your review.",
                            patient_id=agency["patient_a"], dedupe_key=f"test:{title}")
        db.session.add(note)
        db.session.commit()
        return note.id


def test_a_physician_marks_a_notification_read_and_never_another_s(app, agency):
    mine = _notify(app, agency, "physician_a", "Critical finding for a patient")
    theirs = _notify(app, agency, "physician_b", "Another physician's finding")
    client = signed_in(app, "physician_a")
    text = text_of(client.get("/console/my-patients"))
    assert "Notifications (1 unread) Critical finding for a patient" in text
    assert "Another physician's finding" not in text
    token = csrf_of(client, "/console/my-patients")
    refused = client.post(f"/console/notifications/{theirs}/read", data={"csrf_token": token})
    assert refused.status_code == 404
    done = client.post(f"/console/notifications/{mine}/read", data={"csrf_token": token})
    assert done.status_code == 302
    page = text_of(client.get(done.headers["Location"]))
    assert "The notification is marked read." in page and "Notifications (0 unread)" in page
    with app.app_context():
        assert db.session.get(Notification, mine).read_at is not None
        assert db.session.get(Notification, theirs).read_at is None
    assert len(_events(app, agency["physician_a"], "mark_read", "notifications")) == 1
    assert len(_events(app, agency["physician_a"], "list", "notifications")) == 3  # 3 views
