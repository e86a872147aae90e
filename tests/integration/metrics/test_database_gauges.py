"""Gauges read from the database at each scrape: whatever worker answers, the same numbers."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from server.extensions import db
from server.models import JobRun, ReviewItem, ReviewStatus, Severity
from sync import feed
from sync.feed import FeedEntry
from tests.factories import login

AGE = "infusync_nurse_oldest_device_sync_age_seconds"
RUNS = "infusync_job_runs_last_hour"
LAST_SUCCESS = "infusync_job_last_success_timestamp_seconds"


def _item(severity: Severity, status: ReviewStatus = ReviewStatus.OPEN) -> ReviewItem:
    return ReviewItem(kind="metrics_test", severity=severity, status=status,
                      summary="An item for the metrics test")


def test_review_items_open_are_counted_by_severity(app, agency, scrape):
    with app.app_context():
        db.session.add_all([_item(Severity.WARNING), _item(Severity.WARNING),
                            _item(Severity.CRITICAL),
                            _item(Severity.CRITICAL, ReviewStatus.RESOLVED)])
        db.session.commit()

    got = scrape()

    assert got.value("infusync_review_items_open", severity="warning") == 2
    assert got.value("infusync_review_items_open", severity="critical") == 1
    assert got.value("infusync_review_items_open", severity="info") == 0


def test_each_nurse_shows_the_age_of_her_active_device_that_synced_longest_ago(
        client, agency, enroll, clock, scrape):
    older, newer = enroll("nurse_a"), enroll("nurse_a")
    assert older.pull().status_code == 200
    clock.advance(hours=2)
    assert newer.pull().status_code == 200
    clock.advance(minutes=30)
    nurse = str(agency["nurse_a"])

    assert scrape().series(AGE) == {frozenset({("nurse_id", nurse)}): 2.5 * 3600}

    retired = client.post(f"/api/v1/devices/{older.device_id}/retire",
                          headers=login(client, "coordinator"))  # 2.5 h idle: again
    assert retired.status_code == 200, retired.get_json()
    got = scrape()
    assert got.value(AGE, nurse_id=nurse) == 30 * 60
    assert "Ann" not in got.text and "ann@agency.test" not in got.text


def test_feed_size_is_the_number_of_feed_rows_compacted_or_not(app, agency, clock, scrape):
    def rows() -> int:
        with app.app_context():
            return int(db.session.scalar(select(func.count()).select_from(FeedEntry)) or 0)

    assert rows() > 0
    assert scrape().value("infusync_feed_entries") == rows()

    with app.app_context():
        feed.compact(db.session, clock.advance(minutes=1))
        db.session.commit()
    assert rows() == 0
    assert scrape().value("infusync_feed_entries") == 0


def _run(runner, job_id):
    result = runner.invoke(args=["jobs", "run", job_id])
    assert result.exit_code == 0, result.output


def test_job_runs_of_the_last_hour_are_counted_by_outcome_with_the_last_success(
        app, runner, agency, clock, scrape):
    assert scrape().series(RUNS) == {}
    _run(runner, "pump_maintenance")
    clock.advance(minutes=50)
    for _ in range(2):
        _run(runner, "missed_visits")
        clock.advance(minutes=15)
    with app.app_context():  # a run that broke, as runs.run records one
        db.session.add(JobRun(job_id="missed_visits", scheduled_for=clock(), started_at=clock(),
                              finished_at=clock(), outcome="failed", error="OperationalError",
                              counts={}, runner="test"))
        db.session.commit()
    got = scrape()

    assert got.value(RUNS, job_id="missed_visits", outcome="succeeded") == 2
    assert got.value(RUNS, job_id="missed_visits", outcome="failed") == 1
    assert got.value(RUNS, job_id="missed_visits", outcome="running") == 0
    # Its one run was 80 minutes ago: out of the hour, and its success still known.
    assert got.value(RUNS, job_id="pump_maintenance", outcome="succeeded") == 0
    assert got.value(LAST_SUCCESS, job_id="pump_maintenance") == \
        (clock() - timedelta(minutes=80)).timestamp()
    assert got.value(LAST_SUCCESS, job_id="missed_visits") == \
        (clock() - timedelta(minutes=15)).timestamp()
