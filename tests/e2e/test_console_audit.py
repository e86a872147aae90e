"""The privacy officer in a real browser against a real ``infusync serve``: she sets up her
second factor at sign-in, lands on the audit trail, filters it by a patient's MRN, downloads
the CSV of the same events, and is told beside the field when an MRN is unknown. The page,
filtered and refused, passes axe-core, with screenshots at 1280 and 390 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Server
from tests.e2e.console_pages import (
    screenshots,
    serious_violations,
    signs_in_with_a_new_second_factor,
)
from tests.e2e.test_device_sync import _patient

# One database: what the browser sees does not depend on it, and the page's rules run on
# both in tests/integration/console/test_audit_page.py; PostgreSQL is production's.
pytestmark = [pytest.mark.e2e,
              pytest.mark.parametrize("shared_served", ["postgresql"], indirect=True)]


@pytest.fixture
def served(shared_served: Server) -> Server:
    """A server these tests share (each makes its own staff and patients)."""
    return shared_served



def test_the_privacy_officer_reads_a_patients_accounting_and_downloads_it(served, page):
    served.create_user(served.email("coord"), "coordinator")
    served.create_user(served.email("pat"), "privacy_officer")
    token = served.login(served.email("coord"))
    mrn_p, mrn_q = served.unique("E2E-P"), served.unique("E2E-Q")
    _patient(served, token, "E2E-P", "Olive", "Oakes")
    _patient(served, token, "E2E-Q", "Quinn", "Quill")
    signs_in_with_a_new_second_factor(page, served.base, served.email("pat"))
    expect(page.get_by_role("heading", name="Audit trail", level=1)).to_be_visible()
    page.get_by_label("Patient MRN").fill(mrn_p)
    page.get_by_role("button", name="Show").click()
    rows = page.locator("tbody tr")
    expect(rows.first).to_contain_text(mrn_p)
    expect(rows.filter(has_text=mrn_q)).to_have_count(0)
    expect(rows.filter(has_text="coordinator")).not_to_have_count(0)
    assert serious_violations(page) == []
    screenshots(page, "audit")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename == "audit-events.csv"
    page.get_by_label("Patient MRN").fill(served.unique("NOPE-1"))
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("alert")).to_contain_text("Patient MRN: No patient has this MRN.")
    assert serious_violations(page) == []
    screenshots(page, "audit-refused")
