"""``job_runs_retention``: runs older than JOB_RUNS_KEEP_DAYS go, each job's newest run and
newest success stay, and the pruning job records its own run (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from server.extensions import db
from server.models import JobRun

NIGHT = datetime(2027, 3, 1, 9, 30, tzinfo=UTC)  # 04:30 in New York
DAY = timedelta(days=1)


def _record(app, job_id, scheduled_for, outcome="succeeded"):
    with app.app_context():
        db.session.add(JobRun(job_id=job_id, scheduled_for=scheduled_for,
                              started_at=scheduled_for, finished_at=scheduled_for,
                              outcome=outcome, counts={}, runner="test:1"))
        db.session.commit()


def _kept(rows):
    return sorted((run.job_id, (NIGHT - run.scheduled_for).days) for run in rows(JobRun)
                  if run.job_id != "job_runs_retention")


def test_runs_past_the_kept_days_are_pruned_and_recent_ones_stay(app, run_job, rows):
    for days in (200, 91, 89, 1):
        _record(app, "missed_visits", NIGHT - days * DAY)
    run = run_job("job_runs_retention", NIGHT)
    assert (run.outcome, run.counts) == ("succeeded", {"removed": 2})
    assert _kept(rows) == [("missed_visits", 1), ("missed_visits", 89)]
    [own] = [r for r in rows(JobRun) if r.job_id == "job_runs_retention"]
    assert own.scheduled_for == NIGHT


def test_each_jobs_newest_run_and_newest_success_are_kept_however_old(app, run_job, rows):
    _record(app, "pump_maintenance", NIGHT - 300 * DAY)
    _record(app, "pump_maintenance", NIGHT - 200 * DAY)  # its last run: kept
    _record(app, "audit_chain", NIGHT - 400 * DAY)
    _record(app, "audit_chain", NIGHT - 300 * DAY)  # its last success: kept
    _record(app, "audit_chain", NIGHT - 250 * DAY, outcome="failed")
    _record(app, "audit_chain", NIGHT - 120 * DAY, outcome="failed")  # its last run: kept
    assert run_job("job_runs_retention", NIGHT).counts == {"removed": 3}
    assert _kept(rows) == [("audit_chain", 120), ("audit_chain", 300),
                           ("pump_maintenance", 200)]


def test_the_kept_days_are_configured(app, run_job, rows):
    app.config["JOB_RUNS_KEEP_DAYS"] = 7
    for days in (30, 8, 6):
        _record(app, "missed_visits", NIGHT - days * DAY)
    assert run_job("job_runs_retention", NIGHT).counts == {"removed": 2}
    assert _kept(rows) == [("missed_visits", 6)]
