"""Missed visits: missed only once the nurse's device has synced since the window ended."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.models import JobRun, Notification, ReviewItem, ReviewStatus, Severity, Visit
from server.models import VisitStatus as S

# visit_a: nurse_a, 15:00-16:00 UTC; visit_b: nurse_b, 16:00-17:00 UTC; grace 60 minutes.
START = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
AFTER_A = datetime(2026, 11, 23, 17, 15, tzinfo=UTC)  # visit_a's end + grace has passed


def _status(row, agency, name):
    return row(Visit, agency[name]).status


def _open(rows, kind):
    return rows(ReviewItem, ReviewItem.kind == kind, ReviewItem.status == ReviewStatus.OPEN)


def test_no_sync_since_the_window_is_late_unknown_not_missed(enroll, run_job, row, rows,
                                                             agency, clock):
    phone = enroll("nurse_a")
    phone.pull_all()  # last seen 13:00, before visit_a's window ended
    clock.current = AFTER_A
    run = run_job("missed_visits", AFTER_A)
    assert run.outcome == "succeeded"
    assert run.counts == {"missed": 0, "late_unknown": 1, "unassigned": 0, "still_late": 0}
    assert _status(row, agency, "visit_a") is S.LATE_UNKNOWN
    assert _status(row, agency, "visit_b") is S.SCHEDULED  # its grace has not passed yet
    [item] = _open(rows, "visit_late_unknown")
    assert (item.visit_id, item.severity) == (agency["visit_a"], Severity.INFO)
    assert rows(Notification) == []  # nobody is told she missed it yet


def test_sync_after_the_window_promotes_late_unknown_to_missed(enroll, run_job, row, rows,
                                                               agency, clock):
    phone = enroll("nurse_a")
    phone.pull_all()
    clock.current = AFTER_A
    run_job("missed_visits", AFTER_A)
    clock.advance(minutes=5)
    phone.pull_all()  # the device synced after the window: nothing was on its way
    later = AFTER_A + timedelta(minutes=15)
    clock.current = later
    run = run_job("missed_visits", later)
    assert run.counts["missed"] == 1
    visit = row(Visit, agency["visit_a"])
    assert (visit.status, visit.missed_reason) == (S.MISSED, "no_documentation")
    [missed] = _open(rows, "visit_missed")
    assert (missed.visit_id, missed.severity) == (agency["visit_a"], Severity.WARNING)
    [late] = rows(ReviewItem, ReviewItem.kind == "visit_late_unknown")
    assert late.status is ReviewStatus.RESOLVED
    assert late.details["resolved_with"]["resolution"] == "promoted_to_missed"
    [note] = rows(Notification)
    assert (note.user_id, note.kind, note.visit_id) == (
        agency["nurse_a"], "visit_missed", agency["visit_a"])


def test_device_synced_after_the_window_is_missed_at_once(enroll, run_job, row, agency, clock):
    phone = enroll("nurse_a")
    clock.current = datetime(2026, 11, 23, 16, 30, tzinfo=UTC)
    phone.pull_all()  # synced after visit_a ended at 16:00
    clock.current = AFTER_A
    run = run_job("missed_visits", AFTER_A)
    assert run.counts["missed"] == 1
    assert _status(row, agency, "visit_a") is S.MISSED


def test_unassigned_past_visit_is_missed_and_critical(app, run_job, row, rows, agency, clock):
    from server.extensions import db
    from server.models import Patient
    from tests.factories import make_visit

    with app.app_context():
        patient = db.session.get(Patient, agency["patient_a"])
        visit = make_visit(patient, None, START - timedelta(hours=3))
        db.session.commit()
        visit_id = visit.id
    run = run_job("missed_visits", START)
    assert run.counts["unassigned"] == 1
    stored = row(Visit, visit_id)
    assert (stored.status, stored.missed_reason) == (S.MISSED, "unassigned")
    [item] = _open(rows, "visit_missed_unassigned")
    assert (item.visit_id, item.severity) == (visit_id, Severity.CRITICAL)


def test_a_second_run_for_the_same_time_does_nothing(enroll, run_job, rows, clock):
    enroll("nurse_a").pull_all()
    clock.current = AFTER_A
    assert run_job("missed_visits", AFTER_A).outcome == "succeeded"
    assert run_job("missed_visits", AFTER_A) is None
    assert len(rows(JobRun)) == 1
    assert len(rows(ReviewItem, ReviewItem.kind == "visit_late_unknown")) == 1


def test_a_later_run_never_duplicates_alerts(enroll, run_job, rows, clock):
    phone = enroll("nurse_a")
    clock.current = datetime(2026, 11, 23, 16, 30, tzinfo=UTC)
    phone.pull_all()
    for minutes in (0, 15, 30):
        at = AFTER_A + timedelta(minutes=minutes)
        clock.current = at
        run_job("missed_visits", at)
    assert len(rows(ReviewItem, ReviewItem.kind == "visit_missed")) == 1
    assert len(rows(Notification)) == 1
    assert [r.counts["missed"] for r in sorted(rows(JobRun), key=lambda r: r.scheduled_for)] \
        == [1, 0, 0]


@pytest.mark.parametrize("first", ["late_unknown", "missed"])
def test_documentation_arriving_later_still_counts(enroll, run_job, row, rows, agency, clock,
                                                   first):
    phone = enroll("nurse_a")
    if first == "missed":
        clock.current = datetime(2026, 11, 23, 16, 30, tzinfo=UTC)
    phone.pull_all()
    clock.current = AFTER_A
    run_job("missed_visits", AFTER_A)
    assert _status(row, agency, "visit_a").value == first
    clock.advance(minutes=10)
    response = phone.push([phone.mutation("visit.check_in", agency["visit_a"], {
        "at": "2026-11-23T10:05:00-05:00",
        "location": {"latitude": 39.78, "longitude": -89.65, "accuracy_m": 8}})])
    assert response.status_code == 200, response.get_json()
    assert _status(row, agency, "visit_a") is S.IN_PROGRESS
    kind = "visit_missed" if first == "missed" else "visit_late_unknown"
    [item] = rows(ReviewItem, ReviewItem.kind == kind)
    assert item.status is ReviewStatus.RESOLVED
    assert item.details["resolved_with"] == {"resolution": "documentation_arrived",
                                             "by": "system"}
    # and the next run leaves the documented visit alone
    later = AFTER_A + timedelta(minutes=30)
    clock.current = later
    run_job("missed_visits", later)
    assert _status(row, agency, "visit_a") is S.IN_PROGRESS


def test_job_marked_missed_survives_a_recompute(enroll, run_job, app, row, agency, clock):
    from server.extensions import db
    from server.reconcile.visit_state import recompute

    clock.current = datetime(2026, 11, 23, 16, 30, tzinfo=UTC)
    enroll("nurse_a").pull_all()
    clock.current = AFTER_A
    run_job("missed_visits", AFTER_A)
    with app.app_context():
        recompute(db.session, db.session.get(Visit, agency["visit_a"]), AFTER_A)
        db.session.commit()
    assert _status(row, agency, "visit_a") is S.MISSED


def test_the_nurse_device_receives_the_notification(enroll, run_job, agency, clock):
    phone = enroll("nurse_a")
    other = enroll("nurse_b")
    clock.current = datetime(2026, 11, 23, 16, 30, tzinfo=UTC)
    _, cursor = phone.pull_all()
    _, other_cursor = other.pull_all()
    clock.current = AFTER_A
    run_job("missed_visits", AFTER_A)
    held, _ = phone.pull_all(cursor)
    notes = [data for (kind, _id), data in held.items() if kind == "notification"]
    assert [(n["kind"], n["visit_id"]) for n in notes] == [
        ("visit_missed", str(agency["visit_a"]))]
    assert held[("visit", str(agency["visit_a"]))]["status"] == "missed"
    # a fresh snapshot carries it too; the other nurse never sees it
    snapshot, _ = phone.pull_all()
    assert any(kind == "notification" for kind, _ in snapshot)
    theirs, _ = other.pull_all(other_cursor)
    assert not any(kind == "notification" for kind, _ in theirs)


def test_a_coordinator_acknowledges_the_missed_visit_item(client, enroll, run_job, rows,
                                                          clock):
    from tests.factories import login

    clock.current = datetime(2026, 11, 23, 16, 30, tzinfo=UTC)
    enroll("nurse_a").pull_all()
    clock.current = AFTER_A
    run_job("missed_visits", AFTER_A)
    [item] = _open(rows, "visit_missed")
    headers = login(client, "coordinator")  # hours later: a fresh session
    shown = client.get(f"/api/v1/review-items/{item.id}", headers=headers)
    assert shown.status_code == 200, shown.get_json()
    assert shown.get_json()["allowed_resolutions"] == ["accept"]
    response = client.post(f"/api/v1/review-items/{item.id}/resolve", headers=headers,
                           json={"resolution": "accept", "comment": "Called the patient."})
    assert response.status_code == 200, response.get_json()
    assert _open(rows, "visit_missed") == []


def test_her_own_missed_report_arriving_later_replaces_the_job_verdict(enroll, run_job, row,
                                                                       rows, agency, clock):
    phone = enroll("nurse_a")
    phone.pull_all()
    clock.current = AFTER_A
    run_job("missed_visits", AFTER_A)  # late_unknown: her device has not synced since
    response = phone.push([phone.mutation("visit.missed", agency["visit_a"], {
        "at": "2026-11-23T10:20:00-05:00", "reason": "patient_not_home",
        "note": "No answer at the door"})])
    assert response.status_code == 200, response.get_json()
    visit = row(Visit, agency["visit_a"])
    assert (visit.status, visit.missed_reason) == (S.MISSED, "patient_not_home")
    [late] = rows(ReviewItem, ReviewItem.kind == "visit_late_unknown")
    assert late.status is ReviewStatus.RESOLVED
    later = AFTER_A + timedelta(minutes=15)
    clock.current = later
    assert run_job("missed_visits", later).counts["missed"] == 0  # her report stands
    assert row(Visit, agency["visit_a"]).missed_reason == "patient_not_home"
