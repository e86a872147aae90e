"""/metrics: off without a token, refused without the token, and what events it counts.

Counters belong to the process, which earlier tests also pushed to: each test reads them
before and after, and asserts the difference its own requests made.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from tests.assertions import error_of
from tests.conftest import FakeClock, app_on
from tests.factories import EMAILS
from tests.integration.api.test_mfa_login import admin_code, finish, password_step
from tests.integration.metrics.conftest import TOKEN

LOGIN = "/api/v1/auth/login"
PATIENT_RULE = "/api/v1/patients/<uuid:entity_id>"


def test_metrics_do_not_exist_without_a_configured_token(database_url: str, tmp_path: Path,
                                                         clock: FakeClock) -> None:
    with app_on(database_url, tmp_path, clock) as app:
        client = app.test_client()
        for headers in ({}, {"Authorization": f"Bearer {TOKEN}"}):
            assert error_of(client.get("/metrics", headers=headers), 404, "not_found")


def test_a_scrape_without_the_token_is_refused(client: Any) -> None:
    for headers in ({}, {"Authorization": "Bearer not-the-metrics-token"},
                    {"Authorization": f"Basic {TOKEN}"}, {"Authorization": f"Bearer {TOKEN}x"}):
        response = client.get("/metrics", headers=headers)
        error_of(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "infusync_" not in response.get_data(as_text=True)


def test_a_scrape_with_the_token_is_prometheus_text(client: Any) -> None:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    assert "# TYPE infusync_http_requests_total counter" in response.get_data(as_text=True)


def test_requests_are_counted_by_route_rule_never_by_path(client, as_user, agency, scrape):
    patient = str(agency["patient_a"])
    labels = {"route": PATIENT_RULE, "method": "GET", "status": "200"}
    before = scrape()

    for _ in range(2):
        assert client.get(f"/api/v1/patients/{patient}",
                          headers=as_user("coordinator")).status_code == 200
    client.get(f"/api/v1/no-such-thing/{uuid.uuid4()}")
    after = scrape()

    assert after.value("infusync_http_requests_total", **labels) == \
        before.value("infusync_http_requests_total", **labels) + 2
    assert after.value("infusync_http_request_duration_seconds_count", route=PATIENT_RULE,
                       method="GET") == before.value(
        "infusync_http_request_duration_seconds_count", route=PATIENT_RULE, method="GET") + 2
    unmatched = {"route": "unmatched", "method": "GET", "status": "404"}
    assert after.value("infusync_http_requests_total", **unmatched) == \
        before.value("infusync_http_requests_total", **unmatched) + 1
    assert patient not in after.text
    assert "no-such-thing" not in after.text


def test_login_failures_and_throttled_logins_are_counted(client, agency, scrape):
    before = scrape()
    wrong = {"email": EMAILS["nurse_a"], "password": "not her password at all"}
    for _ in range(5):
        assert client.post(LOGIN, json=wrong).status_code == 401
    error_of(client.post(LOGIN, json=wrong), 429, "too_many_requests")
    after = scrape()

    assert after.value("infusync_login_failures_total") == \
        before.value("infusync_login_failures_total") + 5
    assert after.value("infusync_throttled_total", attempt="login") == \
        before.value("infusync_throttled_total", attempt="login") + 1
    assert EMAILS["nurse_a"] not in after.text


def test_wrong_second_factor_codes_and_throttled_ones_are_counted(app, client, agency, scrape):
    before = scrape()
    wrong = "000000" if admin_code(app) != "000000" else "111111"
    for _ in range(2):  # two tokens used up: the per-user limit of 10 wrong codes
        body = password_step(client)
        for _ in range(5):
            error_of(finish(client, body["mfa_token"], wrong), 401, "mfa_code_invalid")
    body = password_step(client)
    error_of(finish(client, body["mfa_token"], admin_code(app)), 429, "too_many_requests")
    after = scrape()

    assert after.value("infusync_mfa_failures_total") == \
        before.value("infusync_mfa_failures_total") + 10
    assert after.value("infusync_throttled_total", attempt="mfa") == \
        before.value("infusync_throttled_total", attempt="mfa") + 1
    assert after.value("infusync_throttled_total", attempt="login") == \
        before.value("infusync_throttled_total", attempt="login")
