"""Role checks on every route: who may read and write each resource family."""

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from tests.conftest import CLOCK_START, FakeClock, app_on
from tests.factories import build_agency, login

ROLES = ("admin", "coordinator", "training_lead", "qc", "nurse_a", "physician_a")
EVERYONE_BUT_TRAINING = frozenset(ROLES) - {"training_lead"}
STAFF_WRITERS = frozenset({"admin", "coordinator"})
ADMIN_ONLY = frozenset({"admin"})
# the staff directory: who may turn a name into the id an assignment needs (issue 14)
DIRECTORY_READERS = frozenset({"admin", "coordinator", "training_lead"})

# (method, path template, roles allowed, status when allowed)
ROUTES = [
    ("GET", "/users", DIRECTORY_READERS, 200),
    ("POST", "/users", ADMIN_ONLY, 201),
    ("GET", "/users/{nurse_b}", DIRECTORY_READERS, 200),
    ("PATCH", "/users/{nurse_b}", ADMIN_ONLY, 200),
]
for _family, _record in (("patients", "patient_a"), ("orders", "order_a"),
                         ("pumps", "pump_a"), ("visits", "visit_a")):
    ROUTES += [
        ("GET", f"/{_family}", EVERYONE_BUT_TRAINING, 200),
        ("POST", f"/{_family}", STAFF_WRITERS, 201),
        ("GET", f"/{_family}/{{{_record}}}", EVERYONE_BUT_TRAINING, 200),
        ("PATCH", f"/{_family}/{{{_record}}}", STAFF_WRITERS, 200),
    ]

CASES = [
    pytest.param(role, method, path, role in allowed, status,
                 id=f"{role}-{method}-{path.replace('{', '').replace('}', '')}")
    for method, path, allowed, status in ROUTES
    for role in ROLES
]


def _body(method, path, agency):
    """A valid body for the write, so an allowed role succeeds."""
    family = path.split("/")[1]
    if method == "PATCH":
        return {
            "users": {"name": "Bea Renamed"},
            "patients": {"phone": "555-0100", "version": 1},
            "orders": {"dose": "3", "version": 1},
            "pumps": {"status": "maintenance_due", "version": 1},
            "visits": {"nurse_id": str(agency["nurse_b"]), "version": 1},
        }[family]
    return {
        "users": {"email": "new@agency.test", "name": "New Nurse", "role": "nurse",
                  "password": "a long enough password"},
        "patients": {"mrn": "MRN-NEW", "first_name": "New", "last_name": "Patient",
                     "birth_date": "1970-01-01",
                     "locations": [{"kind": "home", "address": "2 Oak St", "latitude": 39.7,
                                    "longitude": -89.6}]},
        "orders": {"patient_id": str(agency["patient_a"]),
                   "physician_id": str(agency["physician_a"]), "medication": "vancomycin",
                   "dose": "1", "dose_unit": "g", "frequency_kind": "daily",
                   "start_date": "2026-11-24"},
        "pumps": {"serial": "PMP-NEW", "manufacturer": "Moog", "model": "CADD-Solis"},
        "visits": {"patient_id": str(agency["patient_a"]),
                   "service_location_id": str(agency["location_a"]),
                   "nurse_id": str(agency["nurse_a"]),
                   "scheduled_start": "2026-11-25T15:00:00+00:00",
                   "scheduled_end": "2026-11-25T16:00:00+00:00"},
    }[family]


# An allowed write changes the agency (a second PATCH at version 1 would conflict): each
# gets a fresh database. Every other case reads or is refused, and changes nothing another
# case could see: those share one app, agency and login per role per module and backend.
WRITES = [case for case in CASES if case.values[3] and case.values[1] in ("POST", "PATCH")]
READS_AND_REFUSALS = [case for case in CASES if case not in WRITES]


@pytest.fixture(scope="module")
def module_app(module_database_url: str,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One app on the module's database for the cases that change nothing."""
    with app_on(module_database_url, tmp_path_factory.mktemp("roles"),
                FakeClock(CLOCK_START)) as app:
        yield app


@pytest.fixture(scope="module")
def module_agency(module_app: Flask) -> Any:
    """The small agency those cases read."""
    return build_agency(module_app, CLOCK_START)


@pytest.fixture(scope="module")
def module_headers(module_app: Flask, module_agency: Any) -> dict[str, dict[str, str]]:
    """Each role's Authorization header, logged in once (a TOTP code is accepted once)."""
    client = module_app.test_client()
    return {role: login(client, role) for role in ROLES}


def _check(client, url, method, body, headers, allowed, status):
    """The route answers ``status`` to a role it is open to, and 403 (forbidden) to others."""
    response = client.open(url, method=method, json=body, headers=headers)
    if allowed:
        assert response.status_code == status, response.get_json()
    else:
        assert response.status_code == 403, response.get_json()
        assert response.get_json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(("role", "method", "path", "allowed", "status"), WRITES)
def test_an_allowed_write_succeeds(client, agency, as_user, role, method, path,
                                   allowed, status):
    url = "/api/v1" + path.format(**agency.ids)
    _check(client, url, method, _body(method, path, agency), as_user(role), allowed, status)


@pytest.mark.parametrize(("role", "method", "path", "allowed", "status"), READS_AND_REFUSALS)
def test_route_is_open_only_to_its_roles(module_app, module_agency, module_headers, role,
                                         method, path, allowed, status):
    # every case starts with no rate-limit count, as on an app of its own
    module_app.extensions["infusync_rate_limits"].reset()
    url = "/api/v1" + path.format(**module_agency.ids)
    body = _body(method, path, module_agency) if method in ("POST", "PATCH") else None
    _check(module_app.test_client(), url, method, body, module_headers[role], allowed,
           status)


@pytest.mark.parametrize("path", ["/patients/{patient_b}", "/orders/{order_b}",
                                  "/pumps/{pump_b}", "/visits/{visit_b}"])
def test_refused_role_learns_nothing_of_the_record(client, agency, as_user, path):
    response = client.get("/api/v1" + path.format(**agency.ids),
                          headers=as_user("training_lead"))

    assert response.status_code == 403
    assert set(response.get_json()) == {"error"}
    assert "MRN-B" not in response.get_data(as_text=True)


def test_refused_write_changes_nothing(client, agency, as_user):
    url = f"/api/v1/patients/{agency['patient_a']}"

    response = client.patch(url, json={"phone": "555-0199", "version": 1},
                            headers=as_user("nurse_a"))

    assert response.status_code == 403
    stored = client.get(url, headers=as_user("coordinator")).get_json()
    assert stored["phone"] is None
    assert stored["version"] == 1
