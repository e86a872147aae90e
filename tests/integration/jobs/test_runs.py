"""The run record: claimed once per scheduled time, failures by type, listed for the office."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from server import clock as app_clock
from server.extensions import db
from server.models import JobRun
from server.scheduler import runs
from server.scheduler.jobs import BY_ID, JOBS

AT = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)


def test_every_job_has_an_explicit_id_and_a_trigger_in_the_agency_zone():
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("America/New_York")
    assert sorted(BY_ID) == ["audit_chain", "critical_escalation", "feed_compaction",
                             "feed_partitions", "job_runs_retention", "missed_visits",
                             "notification_mail", "pump_maintenance", "silent_devices",
                             "training_daily", "visit_horizon"]
    for job in JOBS:
        assert job.trigger(zone).timezone == zone


def test_a_failing_body_is_recorded_with_its_error_type_only(app, rows):
    def body(session, at, config):
        raise ValueError("patient Jane Doe, MRN 12345")

    with app.app_context():
        run = runs.run(db.session, "missed_visits", body, AT, app.config, app_clock.now)
    [stored] = rows(JobRun)
    assert (stored.id, stored.outcome, stored.error) == (run.id, "failed", "ValueError")
    assert stored.finished_at is not None and stored.counts == {}
    assert "Jane" not in json.dumps({"error": stored.error, "counts": stored.counts})


def test_a_failed_body_leaves_nothing_half_written(app, rows, agency):
    from server.models import Visit, VisitStatus

    def body(session, at, config):
        session.get(Visit, agency["visit_a"]).status = VisitStatus.MISSED
        session.flush()
        raise RuntimeError("boom")

    with app.app_context():
        runs.run(db.session, "missed_visits", body, AT, app.config, app_clock.now)
    [visit] = rows(Visit, Visit.id == agency["visit_a"])
    assert visit.status is VisitStatus.SCHEDULED


def test_the_same_time_runs_once_another_time_runs_again(run_job, rows):
    assert run_job("feed_compaction", AT).outcome == "succeeded"
    assert run_job("feed_compaction", AT) is None
    assert run_job("feed_compaction", AT + timedelta(days=1)).outcome == "succeeded"
    assert sorted(r.scheduled_for for r in rows(JobRun)) == [AT, AT + timedelta(days=1)]


def test_a_new_lease_holder_closes_runs_its_dead_predecessor_left_running(app, run_job, rows):
    with app.app_context():
        db.session.add(JobRun(job_id="missed_visits", scheduled_for=AT, started_at=AT,
                              outcome="running", counts={}, runner="dead-host:1"))
        db.session.commit()
    assert run_job("feed_compaction", AT).outcome == "succeeded"
    with app.app_context():
        assert runs.close_interrupted(db.session, AT + timedelta(minutes=5)) == 1
    by_job = {r.job_id: r for r in rows(JobRun)}
    assert by_job["missed_visits"].outcome == "interrupted"
    assert by_job["missed_visits"].finished_at == AT + timedelta(minutes=5)
    assert by_job["feed_compaction"].outcome == "succeeded"
    assert run_job("missed_visits", AT) is None  # that time stays claimed: not run twice


def test_runs_are_listed_newest_first_for_admins_and_coordinators(client, as_user, run_job):
    for days in range(3):
        run_job("feed_compaction", AT + timedelta(days=days))
    run_job("missed_visits", AT)
    for who in ("admin", "coordinator"):
        response = client.get("/api/v1/jobs/runs", headers=as_user(who),
                              query_string={"job_id": "feed_compaction"})
        assert response.status_code == 200
        body = response.get_json()
        assert [r["scheduled_for"][:10] for r in body] == ["2026-11-25", "2026-11-24",
                                                           "2026-11-23"]
        assert body[0]["outcome"] == "succeeded" and body[0]["counts"] == {"removed": 0}
        assert json.loads(response.headers["X-Pagination"])["total"] == 3
    limited = client.get("/api/v1/jobs/runs", headers=as_user("admin"),
                         query_string={"limit": 2, "outcome": "succeeded"})
    assert len(limited.get_json()) == 2
    assert json.loads(limited.headers["X-Pagination"])["total"] == 4


def test_runs_are_closed_to_other_roles(client, as_user):
    for who in ("nurse_a", "qc", "training_lead", "physician_a"):
        assert client.get("/api/v1/jobs/runs", headers=as_user(who)).status_code == 403
    assert client.get("/api/v1/jobs/runs").status_code == 401


def test_bad_filters_are_refused(client, as_user):
    response = client.get("/api/v1/jobs/runs", headers=as_user("admin"),
                          query_string={"outcome": "exploded"})
    assert response.status_code == 422


def test_jobs_run_command_records_a_run(runner, agency, rows):
    result = runner.invoke(args=["jobs", "run", "pump_maintenance"])
    assert result.exit_code == 0, result.output
    assert "pump_maintenance succeeded" in result.output
    [run] = rows(JobRun)
    assert (run.job_id, run.outcome) == ("pump_maintenance", "succeeded")
    again = runner.invoke(args=["jobs", "run", "pump_maintenance"])  # the clock stands still
    assert again.exit_code != 0 and "already claimed" in again.output
