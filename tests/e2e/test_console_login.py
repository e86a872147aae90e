"""The console's front door in a real browser against a real ``infusync serve``."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Server
from tests.e2e.console_pages import screenshots, serious_violations, sign_in

# One database: what the browser (or the socket) sees does not depend on it, and each
# page's rules run on both in tests/integration; PostgreSQL is production's.
pytestmark = [pytest.mark.e2e,
              pytest.mark.parametrize("shared_served", ["postgresql"], indirect=True)]


@pytest.fixture
def served(shared_served: Server) -> Server:
    """A server these tests share (each signs in as staff of its own)."""
    return shared_served


def test_a_refused_login_shows_why_keeps_the_email_and_passes_axe(served, page):
    coord = served.email("coord")
    served.create_user(coord, "coordinator")
    page.goto(served.base + "/")
    assert page.url.endswith("/console/login?next=/console/")
    assert serious_violations(page) == []
    page.keyboard.press("Tab")  # the keyboard's first stop skips the header
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    screenshots(page, "login")
    page.get_by_label("Email").fill(coord)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    summary = page.get_by_role("alert")
    assert "Wrong email or password" in summary.inner_text()
    assert page.get_by_label("Email").input_value() == coord
    assert page.get_by_label("Password").input_value() == ""
    assert serious_violations(page) == []
    sign_in(page, served.base, coord)
    assert "coord" in page.get_by_role("banner").inner_text()
