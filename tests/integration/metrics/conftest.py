"""The app with /metrics turned on, and a scrape read back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import FakeClock, app_on
from tests.scrape import Scrape, parse

TOKEN = "metrics-token-for-the-tests-0123456789"


@pytest.fixture
def app(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[Flask]:
    """The application with ``INFUSYNC_METRICS_TOKEN`` set (every fixture built on it too)."""
    with app_on(database_url, tmp_path, clock, METRICS_TOKEN=TOKEN) as app:
        yield app


@pytest.fixture
def scrape(client: FlaskClient) -> Callable[[], Scrape]:
    """``scrape()`` → /metrics now, as Prometheus would get it, parsed."""

    def get() -> Scrape:
        response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        return parse(response.get_data(as_text=True))

    return get
