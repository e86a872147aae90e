"""End to end: what a push flags reaches the nurse's ``infusync-device`` (critical first),
stays in ``status`` until she acknowledges it, and the NEWS2 score is on the visit."""

import re
import uuid
from datetime import date, timedelta

import pytest

from tests.e2e.conftest import Server
from tests.e2e.test_device_sync import (
    HOME,
    _assert_clean_server_logs,
    _cli_code,
    _enroll,
    _ok,
    _patient,
    _visit,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def served(shared_served: Server) -> Server:
    """A server these tests share (each makes its own staff and patients)."""
    return shared_served


NEWS2 = re.compile(r"^\s+(\d+\.\d+)\s+CRITICAL\s+A\. Alder\s+NEWS2 score 7 \(.*\): emergency "
                   r"response\. .*call the physician\.$", re.M)
EXPIRED = re.compile(r"^\s+(\d+\.\d+)\s+CRITICAL\s+A\. Alder\s+Lot L-OLD expired on "
                     r"(\S+): do not infuse it; call the pharmacy\.$", re.M)
NO_ORDER = re.compile(r"^\s+(\d+\.\d+)\s+WARNING\s+A\. Alder\s+No active order", re.M)


def test_a_critical_push_is_flagged_on_the_device_until_acknowledged(served, tmp_path):
    served.create_user(served.email("coord"), "coordinator")
    served.create_user(served.email("qc"), "qc")
    nurse = served.create_user(served.email("anna"), "nurse")
    coordinator = served.login(served.email("coord"))
    visit = _visit(served, coordinator, _patient(served, coordinator, "E2E-A", "Ada", "Alder"),
                   nurse, hours_ahead=1)
    store = tmp_path / "a.sqlite3"
    _enroll(store, served.base, _cli_code(served, served.email("anna")))
    _ok(store, "sync")

    _ok(store, "check-in", visit["id"], "--lat", HOME["lat"], "--lon", HOME["lon"])
    _ok(store, "vitals", visit["id"], "--hr", "130", "--spo2", "91", "--rr", "24")
    expired = (date.today() - timedelta(days=10)).isoformat()
    _ok(store, "infusion", visit["id"], "--order", str(uuid.uuid4()), "--medication",
        "ceftriaxone", "--dose", "2", "--unit", "g", "--route", "IV", "--lot", "L-OLD",
        "--lot-expiry", expired, "--access-type", "picc", "--site", "right basilic",
        "--phlebitis", "0", "--infiltration", "0", "--started", "09:10", "--stopped", "09:40")
    report = _ok(store, "sync")

    assert "the server flagged 3 thing(s) to act on:" in report, report
    news2, lot, no_order = (NEWS2.search(report), EXPIRED.search(report),
                            NO_ORDER.search(report))
    assert news2 and lot and no_order, report
    assert lot.group(2) == expired
    assert max(news2.start(), lot.start()) < no_order.start()  # critical first

    status = _ok(store, "status")
    assert NEWS2.search(status) and EXPIRED.search(status) and NO_ORDER.search(status)
    _ok(store, "flags", "ack", news2.group(1))
    status = _ok(store, "status")
    assert not NEWS2.search(status) and EXPIRED.search(status)
    _ok(store, "flags", "ack", "all")
    assert "flags (" not in _ok(store, "status")

    qc = served.login(served.email("qc"))
    code, items = served.request(
        "GET", f"/api/v1/review-items?kind=news2_critical&visit_id={visit['id']}", token=qc)
    assert code == 200 and len(items) == 1, items
    code, shown = served.request("GET", f"/api/v1/visits/{visit['id']}", token=qc)
    assert code == 200, shown
    (score,) = shown["documentation"]["early_warning_scores"]
    assert (score["score"], score["level"]) == (7, "critical")
    _assert_clean_server_logs(served.folder, "Alder")
