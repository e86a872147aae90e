"""Helpers for the console's browser tests: sign in, screenshots, the accessibility check."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pyotp

from tests.e2e.conftest import PASSWORD

SCREENSHOTS = Path(__file__).parent / "screenshots"  # git-ignored
WIDTHS = (1280, 390)  # a desk, and a coordinator's phone
BLOCKING = ("serious", "critical")


def sign_in(page: Any, base: str, email: str, totp_secret: str | None = None) -> None:
    """Sign in through the console's login form (and its code step, with a TOTP secret)."""
    page.goto(base + "/console/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if totp_secret:
        page.get_by_label("Code from your authenticator app").fill(
            pyotp.TOTP(totp_secret).at(time.time()))
        page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Sign out").wait_for()


def signs_in_with_a_new_second_factor(page: Any, base: str, email: str) -> str:
    """A user made by the CLI in a role that needs a second factor has none yet: she sets
    one up at sign-in. Returns the TOTP secret she was shown."""
    page.goto(base + "/console/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Show my key").click()
    secret: str = page.locator("dd code").inner_text()
    page.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on and sign in").click()
    page.get_by_role("link", name="Continue to the console").click()
    page.get_by_role("button", name="Sign out").wait_for()
    return secret


def screenshots(page: Any, name: str) -> list[Path]:
    """Full-page screenshots of the page at each of ``WIDTHS``, saved for review."""
    SCREENSHOTS.mkdir(exist_ok=True)
    saved = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        path = SCREENSHOTS / f"{name}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        saved.append(path)
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})
    return saved


def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical WCAG 2.x A/AA violations on the page, as lines."""
    from axe_playwright_python.sync_playwright import Axe

    options = {"runOnly": {"type": "tag", "values": [
        "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]}}
    results = Axe().run(page, options=options)
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}"
            for v in results.response["violations"] if v["impact"] in BLOCKING]
