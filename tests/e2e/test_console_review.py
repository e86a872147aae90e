"""QC's review queue in a real browser against a real ``infusync serve``: a nurse's offline
check-in on a visit reassigned meanwhile becomes an item; the QC nurse filters the queue,
opens the item, is refused without a reason, resolves it, and the nurse's real
``infusync-device`` shows it resolved after one sync."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.console_pages import screenshots, serious_violations, sign_in
from tests.e2e.test_device_sync import (
    HOME,
    _assert_clean_server_logs,
    _cli_code,
    _enrol_and_pull,
    _http_code,
    _ok,
    _patch_if_match,
    _two_nurses_two_visits,
)

# One database: what the browser (or the socket) sees does not depend on it, and each
# page's rules run on both in tests/integration; PostgreSQL is production's.
pytestmark = [pytest.mark.e2e,
              pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)]
NOTE = "Checked with the coordinator: she was there before the visit moved."


def _conflict_on_the_device(served, tmp_path):
    """Nurse B checks in offline on a visit handed to nurse A: (store B, visit B)."""
    coordinator, _nurse_a, nurse_b, visit_a, visit_b = _two_nurses_two_visits(served)
    store_a, store_b = tmp_path / "a.sqlite3", tmp_path / "b.sqlite3"
    _enrol_and_pull(store_a, served.base, _cli_code(served, "anna@e2e.test"), visit_a,
                    shown="A. Alder", hidden="Birch")
    _enrol_and_pull(store_b, served.base, _http_code(served, coordinator, nurse_b), visit_b,
                    shown="B. Birch", hidden="Alder")
    _ok(store_b, "check-in", visit_b["id"], "--lat", HOME["lat"], "--lon", HOME["lon"])
    status, _moved = _patch_if_match(served, f"/api/v1/visits/{visit_b['id']}",
                                     {"nurse_id": _nurse_a}, coordinator, visit_b["version"])
    assert status == 200
    assert "1 conflict" in _ok(store_b, "sync")
    return store_b, visit_b


def _filter_the_queue(page, base):
    page.goto(base + "/console/review")
    page.get_by_label("Kind").select_option(label="documentation on reassigned visit")
    page.get_by_label("Patient").fill("birch")  # the start of her name, as she would type it
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("status").filter(has_text="matches")).to_contain_text(
        "1 item matches: 1 open, 0 resolved")
    expect(page.get_by_role("main")).to_contain_text("Patient: Bo Birch")  # the one found
    assert "kind=documentation_on_reassigned_visit" in page.url  # bookmarkable
    assert serious_violations(page) == []
    screenshots(page, "review-queue")


def _resolve_on_the_item_page(page):
    page.get_by_role("link", name="documentation on reassigned visit").click()
    expect(page.get_by_role("heading", name="What the device saw")).to_be_visible()
    expect(page.get_by_role("heading", name="The record now")).to_be_visible()
    page.get_by_label("Accept").check()
    page.get_by_role("button", name="Resolve").click()
    summary = page.get_by_role("alert")
    expect(summary.get_by_role("link", name="Reason: Say why, in words.")).to_be_visible()
    expect(page.get_by_label("Accept")).to_be_checked()  # what was chosen is kept
    assert serious_violations(page) == []
    screenshots(page, "review-item")
    page.get_by_label("Reason").fill(NOTE)
    page.get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("status").filter(has_text="The item is resolved.")).to_be_visible()
    expect(page.get_by_text(NOTE)).to_be_visible()


def test_a_qc_nurse_filters_resolves_and_the_nurses_device_shows_it(served, page, tmp_path):
    store_b, visit_b = _conflict_on_the_device(served, tmp_path)
    served.create_user("quinn@e2e.test", "qc")
    sign_in(page, served.base, "quinn@e2e.test")
    _filter_the_queue(page, served.base)
    _resolve_on_the_item_page(page)

    _ok(store_b, "sync")
    after = _ok(store_b, "status")
    assert "needs attention" not in after
    assert re.search(rf"^  resolved  check-in on visit {visit_b['id']}: documented on a visit "
                     rf"reassigned while you were offline\n\s+resolved by quinn \(qc\) on "
                     rf"[\d-]+ [\d:]+: accepted as documented — {re.escape(NOTE)}$",
                     after, re.M), after
    _assert_clean_server_logs(tmp_path, "Alder", "Birch")
