"""The privacy officer in a real browser against a real ``infusync serve``: she sets up her
second factor at sign-in, lands on the audit trail, filters it by a patient's MRN, downloads
the CSV of the same events, and is told beside the field when an MRN is unknown. The page,
filtered and refused, passes axe-core, with screenshots at 1280 and 390 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.console_pages import (
    screenshots,
    serious_violations,
    signs_in_with_a_new_second_factor,
)
from tests.e2e.test_device_sync import _patient

# One database: what the browser sees does not depend on it, and the page's rules run on
# both in tests/integration/console/test_audit_page.py; PostgreSQL is production's.
pytestmark = [pytest.mark.e2e,
              pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)]



def test_the_privacy_officer_reads_a_patients_accounting_and_downloads_it(served, page):
    served.create_user("coord@e2e.test", "coordinator")
    served.create_user("pat@e2e.test", "privacy_officer")
    token = served.login("coord@e2e.test")
    _patient(served, token, "E2E-P", "Olive", "Oakes")
    _patient(served, token, "E2E-Q", "Quinn", "Quill")
    signs_in_with_a_new_second_factor(page, served.base, "pat@e2e.test")
    expect(page.get_by_role("heading", name="Audit trail", level=1)).to_be_visible()
    page.get_by_label("Patient MRN").fill("E2E-P")
    page.get_by_role("button", name="Show").click()
    rows = page.locator("tbody tr")
    expect(rows.first).to_contain_text("E2E-P")
    expect(rows.filter(has_text="E2E-Q")).to_have_count(0)
    expect(rows.filter(has_text="coordinator")).not_to_have_count(0)
    assert serious_violations(page) == []
    screenshots(page, "audit")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename == "audit-events.csv"
    page.get_by_label("Patient MRN").fill("NOPE-1")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("alert")).to_contain_text("Patient MRN: No patient has this MRN.")
    assert serious_violations(page) == []
    screenshots(page, "audit-refused")
