"""The coordinator's board for one local day."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from server.extensions import db
from server.models import (
    AuditEvent,
    Device,
    ReviewItem,
    Severity,
    Visit,
    VisitEvent,
    VisitStatus,
)
from tests.assertions import error_of

URL = "/api/v1/board"


def _device(app, nurse_id, seen):
    with app.app_context():
        db.session.add(Device(user_id=nurse_id, name="Phone", platform="android",
                              app_version="1.0.0", signing_key="k" * 43,
                              token_hash=uuid.uuid4().hex * 2, last_seen_at=seen))
        db.session.commit()


def _review(app, kind, severity, **fields):
    with app.app_context():
        item = ReviewItem(kind=kind, severity=severity, summary=f"{kind} summary", **fields)
        db.session.add(item)
        db.session.commit()
        return item.id


def _set(app, visit_id, **fields):
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        assert visit is not None
        for name, value in fields.items():
            setattr(visit, name, value)
        db.session.commit()


def test_board_shows_each_nurses_day_in_order(client, as_user, agency, app, clock, tpn_visits):
    # Agency: Ann has visit_a at 10:00 New York (15:00 UTC), Bea visit_b at 11:00.
    _set(app, tpn_visits[0], nurse_id=agency["nurse_b"])  # 10:00 local, before visit_b
    _device(app, agency["nurse_b"], datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    _device(app, agency["nurse_b"], datetime(2026, 11, 23, 12, 40, tzinfo=UTC))
    response = client.get(URL, headers=as_user("coordinator"),
                          query_string={"date": "2026-11-23"})
    assert response.status_code == 200, response.get_json()
    board = response.get_json()
    assert board["date"] == "2026-11-23" and board["time_zone"] == "America/New_York"
    assert [row["nurse"]["name"] for row in board["nurses"]] == ["Ann", "Bea"]
    ann, bea = board["nurses"]
    assert [v["id"] for v in ann["visits"]] == [str(agency["visit_a"])]
    assert [v["id"] for v in bea["visits"]] == [str(tpn_visits[0]), str(agency["visit_b"])]
    assert bea["last_sync_at"] == "2026-11-23T12:40:00+00:00"
    assert ann["last_sync_at"] is None
    first = bea["visits"][0]
    assert first["patient"] == {"id": str(agency["patient_a"]), "name": "Test PatientMRN-A"}
    assert first["status"] == "scheduled"
    assert first["evv"] == {"state": "not_started", "checked_in_at": None,
                            "checked_out_at": None}
    assert first["service_location"]["kind"] == "home"
    assert first["scheduled_start"] == "2026-11-23T15:00:00+00:00"


def test_board_defaults_to_today_in_the_agency_zone(client, as_user, agency, clock):
    clock.current = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # still 23 Nov in New York
    board = client.get(URL, headers=as_user("coordinator")).get_json()
    assert board["date"] == "2026-11-23"


def test_unassigned_and_cancelled(client, as_user, agency, app, tpn_visits):
    _set(app, tpn_visits[0], status=VisitStatus.CANCELLED, cancel_reason="Away")
    board = client.get(URL, headers=as_user("coordinator"),
                       query_string={"date": "2026-11-24"}).get_json()
    assert [v["id"] for v in board["unassigned"]] == [str(tpn_visits[1])]
    assert board["nurses"] == []
    today = client.get(URL, headers=as_user("coordinator"),
                       query_string={"date": "2026-11-23"}).get_json()
    assert today["unassigned"] == []  # the cancelled one is off the board


def test_evv_states_and_late_unknown(client, as_user, agency, app, clock):
    start = clock() + timedelta(hours=2)
    _set(app, agency["visit_a"], status=VisitStatus.COMPLETED, checked_in_at=start,
         checked_out_at=start + timedelta(minutes=50))
    _set(app, agency["visit_b"], status=VisitStatus.LATE_UNKNOWN)
    board = client.get(URL, headers=as_user("coordinator")).get_json()
    ann, bea = board["nurses"]
    assert ann["visits"][0]["evv"]["state"] == "checked_out"
    assert ann["visits"][0]["status"] == "completed"
    assert bea["visits"][0]["status"] == "late_unknown"
    with app.app_context():
        db.session.add(VisitEvent(
            visit_id=agency["visit_a"], nurse_id=agency["nurse_a"], device_id=uuid.uuid4(),
            mutation_id=uuid.uuid4(), batch_id=uuid.uuid4(), seq=1, occurred_at_text="x",
            received_at=start, kind="check_in", at=start, at_text="x",
            evv_status="exception"))
        db.session.commit()
    board = client.get(URL, headers=as_user("coordinator")).get_json()
    assert board["nurses"][0]["visits"][0]["evv"]["state"] == "exception"


def test_review_counts_and_alerts(client, as_user, agency, app):
    silent = _review(app, "silent_device", Severity.WARNING, device_id=uuid.uuid4())
    missed = _review(app, "visit_missed", Severity.CRITICAL, visit_id=agency["visit_a"])
    _review(app, "vital_out_of_range", Severity.CRITICAL)
    _review(app, "pump_pm_due", Severity.INFO)
    with app.app_context():
        closed = ReviewItem(kind="visit_late_unknown", severity=Severity.WARNING,
                            summary="done", status="resolved")
        db.session.add(closed)
        db.session.commit()
    board = client.get(URL, headers=as_user("coordinator")).get_json()
    assert board["review_counts"] == {"critical": 2, "warning": 1, "info": 1}
    assert [(a["kind"], a["severity"]) for a in board["alerts"]] == [
        ("visit_missed", "critical"), ("silent_device", "warning"), ("pump_pm_due", "info")]
    assert board["alerts"][0]["id"] == str(missed)
    assert board["alerts"][0]["visit_id"] == str(agency["visit_a"])
    assert board["alerts"][1]["id"] == str(silent)


def test_board_access_is_audited_naming_the_patients(client, as_user, agency, app):
    client.get(URL, headers=as_user("coordinator"))
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "list", AuditEvent.entity_type == "visits")).one()
        assert event.actor_user_id == agency["coordinator"]
        assert event.details["view"] == "board"
        assert sorted(event.details["patient_ids"]) == sorted(
            [str(agency["patient_a"]), str(agency["patient_b"])])


def test_roles_and_bad_dates(client, as_user, agency):
    for who in ("nurse_a", "physician_a", "training_lead"):
        error_of(client.get(URL, headers=as_user(who)), 403, "forbidden")
    assert client.get(URL, headers=as_user("qc")).status_code == 200
    assert client.get(URL, headers=as_user("admin")).status_code == 200
    for bad in ("2026-13-01", "yesterday", "2026-11-23T10:00", ""):
        response = client.get(URL, headers=as_user("coordinator"), query_string={"date": bad})
        assert "date" in str(error_of(response, 422)["details"]), bad
    error_of(client.get(URL), 401, "unauthorized")


def test_todays_board_keeps_yesterdays_late_unknown_visits(client, as_user, agency, app, clock):
    with app.app_context():
        visit = db.session.get(Visit, agency["visit_b"])
        assert visit is not None
        yesterday = clock() - timedelta(days=1)
        visit.scheduled_start, visit.scheduled_end = yesterday, yesterday + timedelta(hours=1)
        visit.status = VisitStatus.LATE_UNKNOWN
        db.session.commit()
    today = client.get(URL, headers=as_user("coordinator")).get_json()
    bea = next(row for row in today["nurses"] if row["nurse"]["name"] == "Bea")
    assert [(v["id"], v["status"]) for v in bea["visits"]] == [
        (str(agency["visit_b"]), "late_unknown")]
    tomorrow = client.get(URL, headers=as_user("coordinator"),
                          query_string={"date": "2026-11-24"}).get_json()
    assert tomorrow["nurses"] == []
