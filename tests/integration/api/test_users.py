"""Staff accounts through /api/v1/users: admins create and change them; coordinators and the
training lead read them (to turn a name into the id an assignment needs)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from server.extensions import db
from server.models import User
from tests.assertions import count_rows, error_of
from tests.factories import PHYSICIAN_NPI

URL = "/api/v1/users"
PASSWORD = "a long enough passphrase"




def stored(app: Flask, *where: Any) -> int:
    """How many user rows match ``where``."""
    return count_rows(app, User, *where)


def new_user(**fields: Any) -> dict[str, Any]:
    """A valid body for a nurse; ``fields`` override."""
    body: dict[str, Any] = {
        "email": "cara@agency.test", "name": "Cara Nurse", "role": "nurse",
        "competencies": ["tpn", "pump-programming"], "password": PASSWORD,
    }
    return {**body, **fields}


def create(client: FlaskClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    """POST a user and return the created record."""
    response = client.post(URL, headers=headers, json=new_user(**fields))
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def test_create_echoes_the_account_without_the_password(client, as_user, agency):
    body = new_user()
    response = client.post(URL, headers=as_user("admin"), json=body)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert {k: created[k] for k in ("email", "name", "role", "competencies")} == {
        k: body[k] for k in ("email", "name", "role", "competencies")}
    assert "password" not in created
    assert uuid.UUID(created["id"])
    assert (created["version"], created["active"], created["npi"]) == (1, True, None)


def test_created_user_reads_back_and_can_log_in(client, as_user, agency):
    created = create(client, as_user("admin"), email="Cara@Agency.TEST")
    assert created["email"] == "cara@agency.test"
    response = client.get(f"{URL}/{created['id']}", headers=as_user("admin"))
    assert response.get_json() == created
    login = client.post("/api/v1/auth/login",
                        json={"email": "CARA@agency.test", "password": PASSWORD})
    assert login.status_code == 200, login.get_json()


def test_physician_with_a_valid_npi_is_created(client, as_user, agency):
    created = create(client, as_user("admin"), email="doc@agency.test", role="physician",
                     competencies=[], npi=PHYSICIAN_NPI)
    assert (created["role"], created["npi"]) == ("physician", PHYSICIAN_NPI)


def test_list_filters_by_role_and_pages(client, as_user, agency):
    headers = as_user("admin")
    create(client, headers)
    nurses = client.get(URL, headers=headers, query_string={"role": "nurse"})
    assert sorted(u["email"] for u in nurses.get_json()) == [
        "ann@agency.test", "bea@agency.test", "cara@agency.test"]
    response = client.get(URL, headers=headers, query_string={"page": 3, "page_size": 4})
    meta = json.loads(response.headers["X-Pagination"])
    assert (meta["total"], meta["total_pages"], meta["page"]) == (9, 3, 3)
    assert len(response.get_json()) == 1


def test_patch_changes_a_field_and_bumps_the_version(client, as_user, agency):
    headers = as_user("admin")
    url = f"{URL}/{agency['nurse_a']}"
    response = client.patch(url, headers=headers, json={"name": "Ann Renamed"})
    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["name"], response.get_json()["version"]) == ("Ann Renamed", 2)
    assert client.get(url, headers=headers).get_json()["name"] == "Ann Renamed"


def test_patch_takes_version_like_every_other_resource(client, as_user, agency):
    headers = as_user("admin")
    url = f"{URL}/{agency['nurse_a']}"
    response = client.patch(url, headers=headers, json={"name": "Ann One", "version": 1})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["version"] == 2
    stale = client.patch(url, headers=headers, json={"name": "Ann Two", "version": 1})
    current = error_of(stale, 409, "stale_version")["details"]["current"]
    assert (current["version"], current["name"]) == (2, "Ann One")
    assert "password" not in current and "password_hash" not in current
    assert client.get(url, headers=headers).get_json()["name"] == "Ann One"


def test_patch_on_a_stale_if_match_is_refused(client, as_user, agency):
    headers = as_user("admin")
    url = f"{URL}/{agency['nurse_a']}"
    assert client.patch(url, headers=headers, json={"name": "Ann One"}).status_code == 200
    stale = client.patch(url, headers={**headers, "If-Match": '"1"'}, json={"name": "Ann Two"})
    error_of(stale, 409, "stale_version")
    fresh = client.patch(url, headers={**headers, "If-Match": '"2"'}, json={"name": "Ann Two"})
    assert (fresh.status_code, fresh.get_json()["version"]) == (200, 3)


def test_duplicate_email_in_another_case_is_a_conflict_and_stored_once(
    client, as_user, agency, app
):
    response = client.post(URL, headers=as_user("admin"), json=new_user(email="ANN@Agency.test"))
    assert "email" in error_of(response, 409, "duplicate")["message"]
    assert stored(app, User.email == "ann@agency.test") == 1
    assert stored(app) == 8


def test_patch_to_a_taken_email_is_a_conflict_and_changes_nothing(client, as_user, agency, app):
    response = client.patch(f"{URL}/{agency['nurse_b']}", headers=as_user("admin"),
                            json={"email": "Ann@agency.test"})
    error_of(response, 409, "duplicate")
    assert stored(app, User.email == "bea@agency.test") == 1


def test_physician_without_an_npi_is_refused(client, as_user, agency, app):
    body = new_user(email="doc@agency.test", role="physician", competencies=[])
    response = client.post(URL, headers=as_user("admin"), json=body)
    assert "npi" in error_of(response, 422, "validation_failed")["details"]
    assert stored(app, User.email == "doc@agency.test") == 0


def test_physician_with_an_invalid_npi_is_refused(client, as_user, agency, app):
    headers = as_user("admin")
    fullwidth = "".join(chr(0xFF10 + int(d)) for d in PHYSICIAN_NPI)
    for npi in ("1234567890", "123456789", "12345678931", "abcdefghij", fullwidth):
        body = new_user(email="doc@agency.test", role="physician", competencies=[], npi=npi)
        details = error_of(client.post(URL, headers=headers, json=body), 422,
                           "validation_failed")["details"]
        assert "NPI" in details["npi"][0], npi
    assert stored(app, User.email == "doc@agency.test") == 0


def test_competencies_on_a_physician_are_refused(client, as_user, agency, app):
    body = new_user(email="doc@agency.test", role="physician", npi=PHYSICIAN_NPI)
    response = client.post(URL, headers=as_user("admin"), json=body)
    assert "competencies" in error_of(response, 422, "validation_failed")["details"]
    assert stored(app, User.email == "doc@agency.test") == 0


def test_patch_physician_npi_away_is_refused_and_changes_nothing(client, as_user, agency, app):
    response = client.patch(f"{URL}/{agency['physician_a']}", headers=as_user("admin"),
                            json={"npi": None})
    assert "npi" in error_of(response, 422, "validation_failed")["details"]
    with app.app_context():
        assert db.session.get(User, agency["physician_a"]).npi == PHYSICIAN_NPI


def test_only_admins_manage_accounts(client, as_user, agency, app):
    response = client.post(URL, headers=as_user("coordinator"), json=new_user())
    error_of(response, 403, "forbidden")
    assert stored(app) == 8


def test_coordinators_and_the_training_lead_read_accounts_without_credentials(
        client, as_user, agency):
    for who in ("coordinator", "training_lead"):
        response = client.get(f"{URL}?role=nurse", headers=as_user(who))
        assert response.status_code == 200, (who, response.get_json())
        nurses = {u["name"]: u for u in response.get_json()}
        assert set(nurses) == {"Ann", "Bea"}
        assert nurses["Ann"]["id"] == str(agency["nurse_a"])
        assert nurses["Ann"]["competencies"] == ["picc-care"]
        assert not {"password", "password_hash", "mfa", "totp_secret"} & set(nurses["Ann"])
        one = client.get(f"{URL}/{agency['nurse_b']}", headers=as_user(who))
        assert one.status_code == 200 and one.get_json()["name"] == "Bea"


def test_nurses_and_physicians_may_not_list_accounts(client, as_user, agency):
    for who in ("nurse_a", "physician_a", "qc"):
        error_of(client.get(URL, headers=as_user(who)), 403, "forbidden")


def test_a_coordinator_may_not_change_an_account(client, as_user, agency, app):
    response = client.patch(f"{URL}/{agency['nurse_a']}", headers=as_user("coordinator"),
                            json={"competencies": ["tpn"]})
    error_of(response, 403, "forbidden")
    with app.app_context():
        assert db.session.get(User, agency["nurse_a"]).competencies == ["picc-care"]
