"""The role x route matrix over every console route (the list lives in ``routes.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from server.clock import app_clock
from server.extensions import db
from server.models import AuditEvent
from server.review_items import open_item
from tests.conftest import CLOCK_START, FakeClock, app_on
from tests.factories import TOTP_SECRETS, add_privacy_officer, build_agency
from tests.integration.console.browser import csrf_of, sign_in
from tests.integration.console.routes import (
    EXTRA_IDS,
    PATIENT_TEXT,
    ROLES,
    ROUTES,
    ConsoleRoute,
)

GETS = [r for r in ROUTES if r.method == "GET" and not r.public]
POSTS = [r for r in ROUTES if r.method == "POST"]


def _with_review_item(agency: Any, app: Flask, clock: Any) -> Any:
    """The small agency with its privacy officer and one open review item about visit A
    (``review_a``)."""
    add_privacy_officer(app, agency, clock())
    with app.app_context():
        opened = open_item(db.session, "documentation_on_reassigned_visit",
                           "Vital signs documented after the visit was reassigned.",
                           dedupe_key=None, now=clock(), patient_id=agency["patient_a"],
                           visit_id=agency["visit_a"])
        agency.ids["review_a"] = opened.item.id
        db.session.commit()
    return agency


# Every case below is refused or only reads (a GET writes at most its own audit event, which
# its case counts before and after): they share one app and agency per module and backend,
# built once rather than about 130 times.
@pytest.fixture(scope="module")
def matrix_clock() -> FakeClock:
    """The shared app's clock (a TOTP user's sign-in moves it a step: see ``_client``)."""
    return FakeClock(CLOCK_START)


@pytest.fixture(scope="module")
def module_app(module_database_url: str, tmp_path_factory: pytest.TempPathFactory,
               matrix_clock: FakeClock) -> Iterator[Flask]:
    """One app on the module's database for every case of the matrix."""
    with app_on(module_database_url, tmp_path_factory.mktemp("matrix"), matrix_clock) as app:
        yield app


@pytest.fixture
def matrix_app(module_app: Flask) -> Flask:
    """The module's app with its rate-limit counts emptied: every case starts with none, as
    on an app of its own (all cases come from one address, 300 requests a minute)."""
    module_app.extensions["infusync_rate_limits"].reset()
    return module_app


@pytest.fixture(scope="module")
def matrix_agency(module_app: Flask, matrix_clock: FakeClock) -> Any:
    """The agency every case of the matrix reads (see ``_with_review_item``)."""
    return _with_review_item(build_agency(module_app, matrix_clock()), module_app,
                             matrix_clock)


def _ids(agency: Any) -> dict[str, str]:
    return {k: str(v) for k, v in agency.ids.items()}


def _with_extra(app: Flask, agency: Any, route: ConsoleRoute) -> Any:
    """The agency, plus the records (``EXTRA_IDS``) this route's path names."""
    for name, make in EXTRA_IDS.items():
        if "{" + name + "}" in route.path and name not in agency.ids:
            agency.ids[name] = make(app, agency)
    return agency


def _path(route: ConsoleRoute, agency: Any) -> str:
    return route.path.format(**_ids(agency))


def _form(route: ConsoleRoute, agency: Any) -> dict[str, str]:
    return {k: v.format(**_ids(agency)) for k, v in route.form.items()}


def _events(app: Flask, **where: Any) -> int:
    with app.app_context():
        stmt = select(func.count()).select_from(AuditEvent).filter_by(**where)
        return int(db.session.scalar(stmt) or 0)


def _client(app: Flask, who: str) -> FlaskClient:
    """A client signed in as ``who``. The shared app's clock moves a 30-second step first
    for a TOTP user: her code of the previous case's sign-in is spent for its whole step."""
    if who in TOTP_SECRETS:
        clock = app_clock(app)
        assert isinstance(clock, FakeClock)
        clock.advance(seconds=30)
    client = app.test_client()
    sign_in(client, who)
    return client


def test_every_console_route_is_in_the_matrix(app: Flask) -> None:
    rules = {(rule.rule, method) for rule in app.url_map.iter_rules()
             if rule.rule.startswith("/console/") and not rule.rule.startswith("/console/static")
             for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}}
    listed = {(route.rule, route.method) for route in ROUTES}
    assert rules - listed == set(), "add these console routes to tests/.../console/routes.py"


@pytest.mark.parametrize("route", GETS, ids=lambda r: f"{r.method} {r.path}")
def test_each_role_gets_the_page_or_a_403_without_patient_data(
        matrix_app: Flask, matrix_agency: Any, route: ConsoleRoute) -> None:
    app, agency = matrix_app, _with_extra(matrix_app, matrix_agency, route)
    for who in ROLES:
        client = _client(app, who)
        before = _events(app, actor_user_id=agency[who], **_audit_filter(route))
        response = client.get(_path(route, agency), follow_redirects=True)
        text = response.get_data(as_text=True)
        if who in route.roles:
            assert response.status_code == 200, (who, text[:300])
            if route.audit:
                after = _events(app, actor_user_id=agency[who], **_audit_filter(route))
                assert after == before + 1, f"{who}: no {route.audit} audit event"
        else:
            assert response.status_code == 403, (who, response.status_code)
            assert "Not open to your role" in text
            assert not any(name in text for name in PATIENT_TEXT), who


def _audit_filter(route: ConsoleRoute) -> dict[str, str]:
    if route.audit is None:
        return {}
    action, entity_type = route.audit
    return {"action": action, "entity_type": entity_type, "outcome": "ok"}


@pytest.mark.parametrize("route", GETS, ids=lambda r: f"{r.method} {r.path}")
def test_signed_out_visitors_get_the_login_page(matrix_app: Flask, matrix_agency: Any,
                                                route: ConsoleRoute) -> None:
    app, agency = matrix_app, _with_extra(matrix_app, matrix_agency, route)
    response = app.test_client().get(_path(route, agency))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/console/login?next=")


@pytest.mark.parametrize("route", POSTS, ids=lambda r: f"{r.method} {r.path}")
def test_a_post_without_its_csrf_token_is_refused_and_changes_nothing(
        matrix_app: Flask, matrix_agency: Any, route: ConsoleRoute) -> None:
    app, agency = matrix_app, _with_extra(matrix_app, matrix_agency, route)
    who = sorted(route.roles)[0]
    client = app.test_client() if route.public else _client(app, who)
    before = _events(app)
    response = client.post(_path(route, agency), data=_form(route, agency))
    assert response.status_code == 400
    assert "not sent from an open console page" in response.get_data(as_text=True)
    assert _events(app) == before  # every change the console makes is audited: none was


@pytest.mark.parametrize("route", [r for r in POSTS if not r.public],
                         ids=lambda r: f"{r.method} {r.path}")
def test_a_post_from_a_role_without_the_right_is_403_and_changes_nothing(
        matrix_app: Flask, matrix_agency: Any, route: ConsoleRoute) -> None:
    app, agency = matrix_app, _with_extra(matrix_app, matrix_agency, route)
    for who in ROLES:
        if who in route.roles:
            continue
        client = _client(app, who)
        form = {**_form(route, agency), "csrf_token": csrf_of(client, "/console/")}
        changes = _events(app, outcome="ok")
        response = client.post(_path(route, agency), data=form)
        assert response.status_code == 403, (who, response.status_code)
        assert not any(name in response.get_data(as_text=True) for name in PATIENT_TEXT)
        assert _events(app, outcome="ok") == changes, who
