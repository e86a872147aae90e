"""Security headers on every response (server/headers.py)."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from tests.factories import EMAILS, PASSWORD

HSTS = "max-age=31536000; includeSubDomains"


def responses(client: FlaskClient, headers: dict[str, str]) -> dict[str, Any]:
    """One response of each kind: data, a token, errors, the docs page, a docs file."""
    login = client.post("/api/v1/auth/login",
                        json={"email": "nobody@agency.test", "password": "wrong password"})
    answers = {
        "list": client.get("/api/v1/patients", headers=headers),
        "login": login,
        "no token": client.get("/api/v1/patients"),
        "unknown route": client.get("/api/v1/nothing"),
        "wrong method": client.delete("/api/v1/patients", headers=headers),
        "spec": client.get("/api/v1/openapi.json"),
        "docs page": client.get("/api/docs"),
        "docs file": client.get("/api/docs/assets/swagger-ui.css"),
        "health": client.get("/healthz"),
    }
    for response in answers.values():
        response.close()
    return answers


def test_every_response_forbids_sniffing_referrers_and_framing(client, as_user):
    for name, response in responses(client, as_user("coordinator")).items():
        assert response.headers["X-Content-Type-Options"] == "nosniff", name
        assert response.headers["Referrer-Policy"] == "no-referrer", name
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], name
        assert response.headers["X-Frame-Options"] == "DENY", name


def test_api_responses_are_never_stored_but_the_docs_files_may_be(client, as_user):
    answers = responses(client, as_user("coordinator"))
    for name in ("list", "login", "no token", "unknown route", "wrong method", "spec",
                 "docs page"):
        assert answers[name].headers["Cache-Control"] == "no-store", name
    assert "no-store" not in answers["docs file"].headers.get("Cache-Control", "")


def test_a_token_is_answered_with_no_store(client, agency):
    response = client.post("/api/v1/auth/login",
                           json={"email": EMAILS["nurse_a"], "password": PASSWORD})
    assert response.status_code == 200 and "token" in response.get_json()
    assert response.headers["Cache-Control"] == "no-store"


def test_hsts_only_over_https(client, as_user):
    headers = as_user("coordinator")
    secure = client.get("/api/v1/patients", headers=headers, base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"] == HSTS
    error = client.get("/api/v1/nothing", base_url="https://localhost")
    assert error.headers["Strict-Transport-Security"] == HSTS
    plain = client.get("/api/v1/patients", headers=headers)
    assert "Strict-Transport-Security" not in plain.headers


def test_data_may_load_nothing(client, as_user):
    for name, response in responses(client, as_user("coordinator")).items():
        if response.mimetype != "text/html":
            assert response.headers["Content-Security-Policy"].startswith(
                "default-src 'none'"), name


def test_the_docs_page_runs_only_its_own_files(client):
    page = client.get("/api/docs")
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    html = page.get_data(as_text=True)
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="/api/docs/' in attrs and not body.strip()
                           for attrs, body in scripts)
    assert "<style" not in html and "style=" not in html
    for src in re.findall(r'(?:src|href)="(/api/docs/[^"]+)"', html):
        asset = client.get(src)
        assert asset.status_code == 200, src
        asset.close()
    start = client.get("/api/docs/start/swagger-start.js")
    assert b"SwaggerUIBundle" in start.data and b"data-spec-url" in start.data
    start.close()
    assert 'data-spec-url="/api/v1/openapi.json"' in html
