"""End to end: /metrics of a real ``infusync serve`` with two workers, as Prometheus scrapes it.

A push, a pull and failed logins reach the workers; whichever worker answers the scrape, the
counts are those of the whole server (each worker's own files, summed), and the scrape holds
no patient's or nurse's name.
"""

import shutil
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector

from tests.e2e.conftest import serve
from tests.e2e.test_device_sync import (
    HOME,
    VITALS,
    _assert_clean_server_logs,
    _cli_code,
    _enroll,
    _ok,
    _patient,
    _visit,
)
from tests.integration.metrics.test_deploy_files import deploy_metric_names
from tests.scrape import parse

pytestmark = pytest.mark.e2e

TOKEN = "e2e-metrics-token-0123456789abcdef"
FAILED_LOGINS = 8


def _scrape(base, token=TOKEN):
    """GET /metrics with ``token``: the status and the text."""
    request = urllib.request.Request(base + "/metrics",
                                     headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _failed_login(server, n):
    status, _ = server.request("POST", "/api/v1/auth/login",
                               {"email": f"nobody{n}@e2e.test", "password": "wrong password!"})
    return status


def _per_worker(folder, tmp_path, name):
    """``name``'s value in each worker's own file (read alone, as if no other worker ran)."""
    values = []
    for index, path in enumerate(sorted(folder.glob("counter_*.db"))):
        alone = tmp_path / f"worker{index}"
        alone.mkdir(parents=True)
        shutil.copy(path, alone)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(alone))
        values.append(sum(sample.value for family in registry.collect()
                          for sample in family.samples if sample.name == name))
    return values


def _failed_logins_on_both_workers(served, folder, tmp_path):
    """Failed logins, ``FAILED_LOGINS`` at once, until each worker has counted some (which
    worker accepts a connection is the kernel's choice: one may take a whole round); at most
    four rounds, well under the fifty failures that throttle an address. How many were sent."""
    sent = 0
    for round_ in range(4):
        with ThreadPoolExecutor(4) as pool:
            statuses = list(pool.map(lambda n: _failed_login(served, n),
                                     range(sent, sent + FAILED_LOGINS)))
        assert statuses == [401] * FAILED_LOGINS
        sent += FAILED_LOGINS
        counted = _per_worker(folder, tmp_path / f"round{round_}",
                              "infusync_login_failures_total")
        if len(counted) == 2 and all(count > 0 for count in counted):
            break
    return sent


def test_two_workers_count_as_one_server(database_url, tmp_path):
    with serve(database_url, tmp_path, INFUSYNC_METRICS_TOKEN=TOKEN) as served:
        served.create_user("coord@e2e.test", "coordinator")
        nurse = served.create_user("anna@e2e.test", "nurse")
        coordinator = served.login("coord@e2e.test")
        patient = _patient(served, coordinator, "E2E-M", "Ada", "Alder")
        visit = _visit(served, coordinator, patient, nurse, hours_ahead=1)
        store = tmp_path / "a.sqlite3"
        _enroll(store, served.base, _cli_code(served, "anna@e2e.test"))
        _ok(store, "sync")  # a snapshot pull
        _ok(store, "check-in", visit["id"], "--lat", HOME["lat"], "--lon", HOME["lon"])
        _ok(store, "vitals", visit["id"], *VITALS)
        assert "sent 6 mutation(s)" in _ok(store, "sync")  # one batch pushed, then a pull
        folder = tmp_path / "metrics" / served.base.rsplit(":", 1)[1]
        failed = _failed_logins_on_both_workers(served, folder, tmp_path)

        refused, body = _scrape(served.base, token="not-the-token-at-all-0123456789")
        scrapes = [parse(_scrape(served.base)[1]) for _ in range(4)]
        per_worker = _per_worker(folder, tmp_path, "infusync_login_failures_total")

    assert refused == 401 and "infusync_" not in body
    for scrape in scrapes:  # answered by either worker: the same server-wide counts
        assert scrape.value("infusync_login_failures_total") == failed
        assert scrape.value("infusync_push_batches_total", outcome="applied") == 1
        assert scrape.value("infusync_push_mutations_total", outcome="applied") == 6
        assert scrape.value("infusync_pull_duration_seconds_count", page="snapshot") >= 1
        assert scrape.value("infusync_pull_changes_total", page="snapshot") >= 3
        assert scrape.value("infusync_http_requests_total", route="/api/v1/sync/push",
                            method="POST", status="200") == 1
        assert scrape.value("infusync_nurse_oldest_device_sync_age_seconds",
                            nurse_id=nurse) >= 0
    assert len(per_worker) == 2 and all(count > 0 for count in per_worker), per_worker
    assert sum(per_worker) == failed

    text = scrapes[-1].text
    assert nurse in text
    for private in ("Ada", "Alder", "E2E-M", patient["id"], visit["id"], "anna", "coord@"):
        assert private not in text
    assert deploy_metric_names() <= scrapes[-1].names
    _assert_clean_server_logs(tmp_path, "Alder")
