"""Silent devices, pump maintenance, feed compaction and the visit horizon, run by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models import Device, Notification, Pump, PumpStatus, ReviewItem, Severity
from sync.feed import FeedEntry

# The clock starts Monday 2026-11-23 13:00 UTC (08:00 in New York); the agency's visits
# are today, local. SILENT_DEVICE_HOURS is 12.
TODAY = date(2026, 11, 23)
EVENING = datetime(2026, 11, 24, 1, 5, tzinfo=UTC)  # 20:05 local, 12 h 5 min after 13:00


def test_a_nurse_silent_for_hours_on_a_working_day_is_flagged_once(enroll, run_job, rows,
                                                                   agency, clock):
    phone = enroll("nurse_a")
    phone.pull_all()  # heard from at 13:00
    enroll("nurse_b").pull_all()
    morning = datetime(2026, 11, 23, 14, 5, tzinfo=UTC)
    assert run_job("silent_devices", morning).counts == {"nurses_working": 2, "flagged": 0}
    clock.current = EVENING
    run = run_job("silent_devices", EVENING)
    assert run.counts["flagged"] == 2
    items = {i.details["nurse_id"]: i for i in rows(ReviewItem, ReviewItem.kind == "silent_device")}
    item = items[str(agency["nurse_a"])]
    assert (item.severity, str(item.device_id)) == (Severity.WARNING, phone.device_id)
    assert item.details["local_date"] == "2026-11-23"
    notes = rows(Notification, Notification.kind == "silent_device")
    assert sorted(str(n.user_id) for n in notes) == sorted(
        [str(agency["nurse_a"]), str(agency["nurse_b"])])
    # an hour later, the same day: nothing new
    assert run_job("silent_devices", EVENING + timedelta(hours=1)).counts["flagged"] == 0
    assert len(rows(ReviewItem, ReviewItem.kind == "silent_device")) == 2
    assert len(rows(Notification)) == 2


def test_a_recent_sync_is_not_silent_and_no_device_is(enroll, run_job, rows, agency, clock):
    clock.current = EVENING - timedelta(hours=2)
    enroll("nurse_a").pull_all()  # heard from at 23:05 UTC
    run = run_job("silent_devices", EVENING)
    assert run.counts == {"nurses_working": 2, "flagged": 1}  # nurse_b has no device at all
    [item] = rows(ReviewItem, ReviewItem.kind == "silent_device")
    assert item.details["nurse_id"] == str(agency["nurse_b"]) and item.device_id is None


def test_a_nurse_without_visits_today_is_never_silent(app, run_job, rows):
    tomorrow_evening = EVENING + timedelta(days=1)
    assert run_job("silent_devices", tomorrow_evening).counts == {
        "nurses_working": 0, "flagged": 0}
    assert rows(ReviewItem) == []


def _set_pm(app, agency, name, due, status=PumpStatus.IN_SERVICE):
    with app.app_context():
        pump = db.session.get(Pump, agency[name])
        pump.next_pm_due_on, pump.status = due, status
        db.session.commit()


def test_pump_pm_due_within_seven_days_is_flagged_and_eight_is_not(app, enroll, run_job, rows,
                                                                   agency):
    _set_pm(app, agency, "pump_a", TODAY + timedelta(days=7))
    _set_pm(app, agency, "pump_b", TODAY + timedelta(days=8))
    morning = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)  # 06:00 local
    run = run_job("pump_maintenance", morning)
    assert run.counts == {"pumps_due": 1, "flagged": 1, "notified": 1}
    [item] = rows(ReviewItem, ReviewItem.kind == "pump_pm_due")
    assert (item.severity, item.patient_id) == (Severity.INFO, agency["patient_a"])
    assert (item.details["pump_id"], item.details["due_on"]) == (
        str(agency["pump_a"]), "2026-11-30")
    [note] = rows(Notification)
    assert (note.user_id, note.pump_id) == (agency["nurse_a"], agency["pump_a"])
    # the next day: pump_a's same due date raises nothing new; pump_b's comes into the window
    assert run_job("pump_maintenance", morning + timedelta(days=1)).counts == {
        "pumps_due": 2, "flagged": 1, "notified": 1}
    assert sorted(i.details["pump_id"] for i in rows(ReviewItem)) == sorted(
        [str(agency["pump_a"]), str(agency["pump_b"])])
    assert len(rows(Notification)) == 2


@pytest.mark.parametrize("status", [PumpStatus.RECALLED, PumpStatus.OUT_OF_SERVICE])
def test_pumps_out_of_use_are_not_flagged(app, run_job, rows, agency, status):
    _set_pm(app, agency, "pump_a", TODAY, status)
    run = run_job("pump_maintenance", datetime(2026, 11, 23, 11, 0, tzinfo=UTC))
    assert run.counts["pumps_due"] == 0 and rows(ReviewItem) == []


def test_pm_notification_reaches_the_nurse_device(app, enroll, run_job, agency):
    phone = enroll("nurse_a")
    _, cursor = phone.pull_all()
    _set_pm(app, agency, "pump_a", TODAY + timedelta(days=2))
    run_job("pump_maintenance", datetime(2026, 11, 23, 11, 0, tzinfo=UTC))
    held, _ = phone.pull_all(cursor)
    notes = [d for (kind, _id), d in held.items() if kind == "notification"]
    assert [(n["kind"], n["pump_id"]) for n in notes] == [("pump_pm_due", str(agency["pump_a"]))]


def test_feed_compaction_removes_entries_past_retention(app, run_job, agency, clock):
    retention = timedelta(hours=max(app.config["SYNC_FEED_RETENTION_HOURS"],
                                    app.config["SYNC_MAX_OFFLINE_HOURS"]))
    later = clock() + retention + timedelta(hours=1)
    with app.app_context():
        old = db.session.scalar(select(func.count()).select_from(FeedEntry))
    assert old > 0  # building the agency wrote its nurses' feeds
    run = run_job("feed_compaction", later)
    assert run.counts == {"removed": old}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FeedEntry)) == 0
    assert run_job("feed_compaction", later + timedelta(days=1)).counts == {"removed": 0}


def test_sync_compact_command_uses_the_same_job(runner, app, agency, clock):
    clock.advance(days=30)
    result = runner.invoke(args=["sync", "compact"])
    assert result.exit_code == 0, result.output
    assert "removed" in result.output and "older than 336 h" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FeedEntry)) == 0


def test_visit_horizon_job_runs_the_generator(run_job):
    run = run_job("visit_horizon", datetime(2026, 11, 23, 6, 0, tzinfo=UTC))
    assert run.outcome == "succeeded"
    assert set(run.counts) >= {"created", "cancelled"}


def test_devices_last_contact_counts_any_active_device(app, enroll, run_job, agency, clock):
    old_phone, tablet, other = enroll("nurse_a"), enroll("nurse_a"), enroll("nurse_b")
    old_phone.pull_all()
    clock.current = EVENING - timedelta(hours=1)
    tablet.pull_all()  # her second device synced an hour ago
    other.pull_all()
    run = run_job("silent_devices", EVENING)
    assert run.counts == {"nurses_working": 2, "flagged": 0}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Device)) == 3


def test_training_daily_job_runs_the_training_engine(run_job):
    run = run_job("training_daily", datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    assert (run.outcome, run.error) == ("succeeded", None)
