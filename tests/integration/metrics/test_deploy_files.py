"""The Grafana dashboard and the Prometheus alert rules in deploy/ name only metrics that a
scrape has, and only jobs the scheduler runs: a renamed metric would leave a panel empty and
an alert silent, which nobody notices until it matters."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import yaml

from server.scheduler.jobs import BY_ID

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
DASHBOARD = DEPLOY / "grafana" / "infusync.json"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
METRIC = re.compile(r"\binfusync_[a-z0-9_]+")
JOB_IDS = re.compile(r'job_id=~?"([^"]+)"')


def dashboard_exprs() -> list[str]:
    """Every query of every panel of the dashboard."""
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"] for panel in panels for target in panel["targets"]]


def alert_rules() -> list[dict[str, Any]]:
    """Every alert rule, from every group."""
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def deploy_metric_names() -> set[str]:
    """Our metrics named by the dashboard and the alert rules."""
    exprs = dashboard_exprs() + [rule["expr"] for rule in alert_rules()]
    return {name for expr in exprs for name in METRIC.findall(expr)}


def test_every_alert_has_a_name_an_expression_and_what_it_means():
    rules = alert_rules()
    assert len({rule["alert"] for rule in rules}) == len(rules)
    for rule in rules:
        assert rule["expr"].strip() and rule["annotations"]["summary"]
        assert rule["annotations"]["description"]
        assert rule["labels"]["severity"] in {"page", "warn", "info"}


def test_every_job_the_alerts_name_is_a_scheduled_job():
    named = {job for rule in alert_rules() for alt in JOB_IDS.findall(rule["expr"])
             for job in alt.split("|")}
    assert named and named <= set(BY_ID)


def test_every_metric_the_dashboard_and_alerts_name_is_in_a_scrape(
        app, client, enroll, agency, runner, scrape):
    device = enroll("nurse_a")
    check_in = device.mutation("visit.check_in", agency["visit_a"], {
        "at": "2026-11-23T09:05:00-05:00",
        "location": {"latitude": 39.78, "longitude": -89.65, "accuracy_m": 8}})
    assert device.push([check_in]).status_code == 200
    assert device.pull().status_code == 200
    client.post("/api/v1/auth/login", json={"email": f"{uuid.uuid4()}@x.test", "password": "x"})
    assert runner.invoke(args=["jobs", "run", "missed_visits"]).exit_code == 0

    names = deploy_metric_names()

    assert len(names) >= 12
    assert names - scrape().names == set()
