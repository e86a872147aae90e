"""The role x route matrix over every console route (the list lives in ``routes.py``)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from server.extensions import db
from server.models import AuditEvent
from server.review_items import open_item
from tests.factories import add_privacy_officer
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


@pytest.fixture
def agency(agency: Any, app: Flask, clock: Any) -> Any:
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
        app: Flask, agency: Any, route: ConsoleRoute) -> None:
    agency = _with_extra(app, agency, route)
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
def test_signed_out_visitors_get_the_login_page(app: Flask, agency: Any,
                                                route: ConsoleRoute) -> None:
    agency = _with_extra(app, agency, route)
    response = app.test_client().get(_path(route, agency))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/console/login?next=")


@pytest.mark.parametrize("route", POSTS, ids=lambda r: f"{r.method} {r.path}")
def test_a_post_without_its_csrf_token_is_refused_and_changes_nothing(
        app: Flask, agency: Any, route: ConsoleRoute) -> None:
    agency = _with_extra(app, agency, route)
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
        app: Flask, agency: Any, route: ConsoleRoute) -> None:
    agency = _with_extra(app, agency, route)
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
