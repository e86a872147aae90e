"""End to end through a real gunicorn process: CLI-created staff, login, scoped reads."""

import pytest

from tests.e2e.conftest import Server, serve

pytestmark = pytest.mark.e2e


@pytest.fixture
def served(shared_served: Server) -> Server:
    """A server these tests share (each makes its own staff and patients)."""
    return shared_served


def test_coordinator_schedules_and_only_the_assigned_nurse_sees_it(served):
    assert served.request("GET", "/readyz")[0] == 200
    served.create_user(served.email("coord"), "coordinator")
    nurse_id = served.create_user(served.email("nina"), "nurse", "--competency", "picc-care")
    served.create_user(served.email("other"), "nurse")
    coordinator = served.login(served.email("coord"))

    status, patient = served.request("POST", "/api/v1/patients", {
        "mrn": served.unique("E2E-1"), "first_name": "Pat", "last_name": "Example",
        "birth_date": "1970-01-02",
        "locations": [{"kind": "home", "address": "9 Oak Rd", "latitude": 40.0,
                       "longitude": -75.0}],
    }, coordinator)
    assert status == 201, patient
    status, visit = served.request("POST", "/api/v1/visits", {
        "patient_id": patient["id"], "nurse_id": nurse_id,
        "service_location_id": patient["locations"][0]["id"],
        "scheduled_start": "2026-11-24T14:00:00+00:00",
        "scheduled_end": "2026-11-24T15:00:00+00:00",
    }, coordinator)
    assert status == 201, visit

    nurse = served.login(served.email("nina"))
    status, visits = served.request("GET", "/api/v1/visits", token=nurse)
    assert status == 200
    assert [v["id"] for v in visits] == [visit["id"]]

    other = served.login(served.email("other"))
    status, body = served.request("GET", f"/api/v1/patients/{patient['id']}", token=other)
    assert status == 404
    assert "Example" not in str(body)

    status, body = served.request("POST", "/api/v1/patients", {"mrn": "x"}, nurse)
    assert status == 403
    assert body["error"]["code"] == "forbidden"


def test_workers_forked_from_the_preloaded_app_and_their_replacements_all_answer(
        database_url, tmp_path):
    # --max-requests 3: gunicorn replaces each worker after three requests, forking the
    # replacement from the arbiter's preloaded app again; each must open its own
    # database connections (a shared one would garble answers or fail them). One request
    # at a time: a request sent to a worker on its way out is gunicorn's matter, not ours.
    with serve(database_url, tmp_path, GUNICORN_CMD_ARGS="--max-requests 3") as served:
        served.create_user("coord@e2e.test", "coordinator")
        ready = [served.request("GET", "/readyz")[0] for _ in range(8)]
        token = served.login("coord@e2e.test")
        status, me = served.request("GET", "/api/v1/auth/me", token=token)
        folder = tmp_path / "metrics" / served.base.rsplit(":", 1)[1]
        workers = {path.stem.split("_")[-1] for path in folder.glob("counter_*.db")}

    assert ready == [200] * 8
    assert status == 200 and me["email"] == "coord@e2e.test"
    assert len(workers) > 2, workers  # replaced workers, each with files of its own
