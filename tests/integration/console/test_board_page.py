"""The board page: lanes, unassigned visits, alerts, days, and its live-update stamp."""

from __future__ import annotations

from datetime import timedelta

from server.extensions import db
from server.models import ReviewItem, Severity, Visit
from tests.conftest import CLOCK_START
from tests.integration.console.browser import sign_in, text_of

TODAY = "2026-11-23"  # the test clock's local date (America/New_York)


def _signed_in(app, who="coordinator"):
    client = app.test_client()
    sign_in(client, who)
    return client


def test_the_board_shows_each_nurse_her_visits_and_the_unassigned(app, agency):
    with app.app_context():
        db.session.get(Visit, agency["visit_b"]).nurse_id = None
        db.session.commit()
    response = _signed_in(app).get(f"/console/board?date={TODAY}")
    page, text = response.get_data(as_text=True), text_of(response)
    lanes, unassigned = text.split("Unassigned visits", 1)
    # visit_a: 2 h after the clock's 08:00, local time
    assert "Ann Last device sync: never Test PatientMRN-A 10:00 \u2013 11:00 scheduled" in lanes
    assert "PatientMRN-B" not in lanes
    assert "Test PatientMRN-B 11:00 \u2013 12:00" in unassigned.split("Needs attention")[0]
    assert 'href="/console/board?date=2026-11-22"' in page
    assert 'href="/console/board?date=2026-11-24"' in page


def test_another_day_has_its_own_visits(app, agency):
    page = _signed_in(app).get("/console/board?date=2026-11-24").get_data(as_text=True)
    assert "PatientMRN-A" not in page
    assert "No visits are assigned on this day." in page


def test_a_bad_date_is_a_422_page_saying_what_a_date_looks_like(app, agency):
    response = _signed_in(app).get("/console/board?date=23/11/2026")
    assert response.status_code == 422
    assert "like 2026-11-23" in response.get_data(as_text=True)


def test_open_alerts_are_listed_with_a_link_to_their_visit(app, agency):
    with app.app_context():
        db.session.add(ReviewItem(kind="visit_missed", severity=Severity.CRITICAL,
                                  summary="Visit missed: no check-in", visit_id=agency["visit_a"],
                                  patient_id=agency["patient_a"], created_at=CLOCK_START))
        db.session.commit()
    page = _signed_in(app).get("/console/board").get_data(as_text=True)
    alerts = page.split("Open alerts", 1)[1]
    assert "visit missed" in alerts and "Visit missed: no check-in" in alerts
    assert f'href="/console/visits/{agency["visit_a"]}"' in alerts


def test_the_stamp_changes_when_a_visit_changes_and_holds_no_patient_data(app, agency):
    client = _signed_in(app)
    first = client.get(f"/console/board/stamp?date={TODAY}").get_json()
    assert client.get(f"/console/board/stamp?date={TODAY}").get_json() == first
    with app.app_context():
        visit = db.session.get(Visit, agency["visit_a"])
        visit.scheduled_start += timedelta(minutes=30)
        visit.scheduled_end += timedelta(minutes=30)
        db.session.commit()
    second = client.get(f"/console/board/stamp?date={TODAY}").get_json()
    assert set(second) == {"stamp"} and second != first


def test_polling_the_stamp_does_not_keep_the_session_alive(app, clock, agency):
    client = _signed_in(app)
    for _ in range(2):
        clock.advance(minutes=5)
        assert client.get("/console/board/stamp").status_code == 200
    clock.advance(minutes=6)  # 16 minutes since the person last did anything
    response = client.get("/console/board")
    assert response.status_code == 302 and "/console/login" in response.headers["Location"]


def test_a_rate_limit_is_a_page_saying_when_to_try_again(database_url, tmp_path, clock):
    from tests.conftest import app_on

    with app_on(database_url, tmp_path, clock, RATE_LIMIT_PER_ADDRESS="2/minute") as app:
        client = app.test_client()
        statuses = [client.get("/console/login").status_code for _ in range(3)]
        response = client.get("/console/login")
    assert statuses == [200, 200, 429]
    assert response.mimetype == "text/html" and response.headers["Retry-After"]
    assert "Too many requests; try again in" in text_of(response)
