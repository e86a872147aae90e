"""The privacy officer's audit trail in the console: filters, pages, CSV, the chain."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from server import audit
from server import clock as app_clock
from server.extensions import db
from server.models import AuditEvent
from server.review_items import open_item
from server.scheduler import runs
from server.scheduler.jobs import BY_ID
from server.services.audit_trail import CSV_COLUMNS
from tests.factories import add_privacy_officer
from tests.integration.console.browser import dashed_text_of, signed_in, text_of

PAGE = "/console/audit"
API = "/api/v1"
ROW = re.compile(r"<tr>\s*<td>(.*?)</tr>", re.S)


@pytest.fixture
def officer(app, agency, clock):
    """The agency's privacy officer, signed in to the console."""
    add_privacy_officer(app, agency, clock())
    return signed_in(app, "privacy_officer")


@pytest.fixture
def accesses(client, agency, as_user, clock):
    """The coordinator reads patients A and B, the nurse reads A, the training lead is
    refused A: events about A by three people, one about B."""
    coordinator, nurse, lead = as_user("coordinator"), as_user("nurse_a"), as_user("training_lead")
    for url, headers in ((f"{API}/patients/{agency['patient_a']}", coordinator),
                         (f"{API}/patients/{agency['patient_a']}", nurse),
                         (f"{API}/patients/{agency['patient_b']}", coordinator),
                         (f"{API}/patients/{agency['patient_a']}", lead)):
        clock.advance(minutes=1)
        assert client.get(url, headers=headers).status_code in (200, 403)
    clock.advance(minutes=1)


def _rows(response):
    """The events table's rows, each as the text of its cells."""
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split())
            for row in ROW.findall(response.get_data(as_text=True))]


def _count(app, **where):
    with app.app_context():
        return int(db.session.scalar(
            select(func.count()).select_from(AuditEvent).filter_by(**where)) or 0)


def test_her_console_opens_on_the_audit_trail(officer):
    response = officer.get("/console/", follow_redirects=True)
    assert response.status_code == 200
    assert "Audit trail" in text_of(response)
    assert response.request.path == PAGE


def test_she_sees_one_patients_events_newest_first(app, agency, officer, accesses):
    about_a = _count(app, patient_id=agency["patient_a"])
    response = officer.get(PAGE, query_string={"patient": "MRN-A"})
    rows = _rows(response)
    assert response.status_code == 200
    assert len(rows) == about_a == 3
    assert all("MRN-A" in row for row in rows)
    assert "MRN-B" not in " ".join(rows)
    # The training lead's refused read was the last: it is shown first, with its outcome.
    assert " Lead training lead read forbidden MRN-A patients " in rows[0]
    assert all(" read ok MRN-A patients " in row for row in rows[1:])


def test_she_sees_one_staff_members_events_by_email_or_name(app, agency, officer, accesses):
    by_email = _rows(officer.get(PAGE, query_string={"user": "coord@agency.test"}))
    assert len(by_email) == _count(app, actor_user_id=agency["coordinator"]) >= 2
    assert all(" Coord coordinator " in row for row in by_email)
    by_name = _rows(officer.get(PAGE, query_string={"user": "ann", "action": "read"}))
    assert len(by_name) == 1 and "Ann nurse read" in by_name[0]


def test_a_staff_search_matching_several_asks_for_more(officer, agency):
    response = officer.get(PAGE, query_string={"user": "agency.test"})
    assert response.status_code == 422
    assert "staff members match" in text_of(response)
    assert "type more of the name, or the e-mail." in text_of(response)
    assert _rows(response) == []


def test_an_unknown_mrn_is_refused_beside_its_field(officer):
    response = officer.get(PAGE, query_string={"patient": "MRN-ZZZ"})
    assert response.status_code == 422
    assert "Patient MRN: No patient has this MRN." in text_of(response)
    assert 'value="MRN-ZZZ"' in response.get_data(as_text=True)


def test_a_bad_date_is_refused_with_its_message(officer):
    response = officer.get(PAGE, query_string={"from": "2026-13-45", "patient": "MRN-A"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "From: Enter a date like 2026-11-23." in text_of(response)
    assert 'id="from-error-1"' in page and 'value="2026-13-45"' in page
    backwards = officer.get(PAGE, query_string={"from": "2026-11-23", "to": "2026-11-20"})
    assert backwards.status_code == 422
    assert "To: The last day must be on or after the first." in text_of(backwards)
    csv_refused = officer.get(f"{PAGE}.csv", query_string={"to": "yesterday"})
    assert csv_refused.status_code == 422
    assert "To: Enter a date like 2026-11-23." in text_of(csv_refused)


def test_dates_are_agency_days(app, agency, officer, accesses, clock):
    today = clock().date().isoformat()
    shown = _rows(officer.get(PAGE, query_string={"from": today, "to": today,
                                                  "patient": "MRN-A"}))
    assert len(shown) == 3
    tomorrow = (clock() + timedelta(days=1)).date().isoformat()
    assert _rows(officer.get(PAGE, query_string={"from": tomorrow, "patient": "MRN-A"})) == []


def test_the_trail_is_paged_and_the_pages_keep_the_filters(app, agency, officer, clock):
    with app.app_context():
        for minute in range(60):
            audit.record(db.session(), audit.Actor(agency["nurse_a"]), "export", "visits",
                         at=clock() + timedelta(minutes=minute))
        db.session.commit()
    first = officer.get(PAGE, query_string={"action": "export"})
    assert len(_rows(first)) == 50
    assert "Showing 1-50 of 60" in dashed_text_of(first)
    assert 'href="/console/audit?page=2&amp;action=export"' in first.get_data(as_text=True)
    second = officer.get(PAGE, query_string={"action": "export", "page": "2"})
    assert len(_rows(second)) == 10 and "Showing 51-60 of 60" in dashed_text_of(second)
    assert officer.get(PAGE, query_string={"action": "export", "page": "3"}).status_code == 404
    assert officer.get(PAGE, query_string={"page": "abc"}).status_code == 400


def test_the_csv_holds_the_rows_the_filters_choose(app, agency, officer, accesses):
    response = officer.get(f"{PAGE}.csv", query_string={"patient": "MRN-A"})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert {row["patient_id"] for row in rows} == {str(agency["patient_a"])}
    # Every event about A but the export's own reading, which is recorded after it.
    assert len(rows) == _count(app, patient_id=agency["patient_a"]) - 1 == 3
    by_user = officer.get(f"{PAGE}.csv", query_string={"user": "coord@agency.test"})
    users = {row["actor_user_id"] for row in csv.DictReader(io.StringIO(by_user.text))}
    assert users == {str(agency["coordinator"])}


def test_her_reading_is_audited_with_its_filters(app, agency, officer, accesses):
    before = _count(app, actor_user_id=agency["privacy_officer"], action="audit_read")
    assert officer.get(PAGE, query_string={"patient": "MRN-A"}).status_code == 200
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.actor_user_id == agency["privacy_officer"],
            AuditEvent.action == "audit_read").order_by(AuditEvent.seq.desc())).first()
        assert event is not None
        assert event.patient_id == agency["patient_a"]
        assert event.details["filters"] == {"patient_id": str(agency["patient_a"])}
    assert _count(app, actor_user_id=agency["privacy_officer"],
                  action="audit_read") == before + 1


def test_the_page_shows_the_chains_state(app, agency, officer, clock):
    page = text_of(officer.get(PAGE))
    assert "Last nightly check not run yet" in page
    assert "Breaks found none open" in page
    with app.app_context():
        head_seq = db.session.scalar(select(func.max(AuditEvent.seq)))
        runs.run(db.session, "audit_chain", BY_ID["audit_chain"].body, clock(), app.config,
                 app_clock.now)
    checked = text_of(officer.get(PAGE))
    # The head as it stood before this reading (her previous one is its last link).
    assert f"Head event {head_seq}, hash " in checked
    assert "Last nightly check Mon 23 Nov 08:00 (succeeded)" in checked
    assert "Breaks found none open" in checked
    with app.app_context():
        open_item(db.session, "audit_chain_broken", "The chain is broken at seq 3.",
                  dedupe_key="audit_chain_broken:3:hash", now=clock())
        db.session.commit()
    assert "1 open in the review queue" in text_of(officer.get(PAGE))
