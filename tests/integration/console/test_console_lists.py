"""Console lists past their first page: 50 rows a page, Previous / Next keeping the
filters, the last page without Next, a bad page number refused with its message (test
client, on SQLite and PostgreSQL)."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from server.extensions import db
from server.models import JobRun, ModuleStatus, Pump, PumpStatus, Role, TrainingModule, User
from tests.factories import make_patient, make_user
from tests.integration.console.browser import dashed_text_of, signed_in, text_of

ROWS = 120
ROW = re.compile(r"Rowlist ?\d{3}")
NEXT = re.compile(r'<a href="([^"]+)" rel="next">')


def _patients(_app: Flask, _agency: Any) -> None:
    for i in range(ROWS):
        make_patient(f"RL{i:03}").last_name = f"Rowlist{i:03}"


def _nurses(_app: Flask, _agency: Any) -> None:
    for i in range(ROWS):
        # "Aa" sorts before the agency's own staff, who then come after on the last page.
        make_user(Role.NURSE, f"n{i:03}@agency.test", name=f"Aa Rowlist {i:03}")


def _pumps(_app: Flask, _agency: Any) -> None:
    for i in range(ROWS):
        db.session.add(Pump(serial=f"Rowlist{i:03}", manufacturer="Moog", model="CADD",
                            status=PumpStatus.MAINTENANCE_DUE))


def _runs(_app: Flask, _agency: Any) -> None:
    for i in range(ROWS):
        at = datetime(2026, 11, 23, 8, tzinfo=UTC) - timedelta(minutes=i)
        db.session.add(JobRun(job_id="rowlist", scheduled_for=at, started_at=at,
                              outcome="succeeded", counts={"made": i},
                              error=f"Rowlist {i:03}", runner="test"))


def _modules(_app: Flask, agency: Any) -> None:
    for i in range(ROWS):
        db.session.add(TrainingModule(lineage_id=uuid.uuid4(), status=ModuleStatus.DRAFT,
                                      title=f"Rowlist {i:03}", created_by=agency["admin"]))


# Each list page: who opens it, the path with a filter that keeps the agency's own rows
# out, and what makes ROWS rows it shows.
LISTS: dict[str, tuple[str, str, Callable[[Flask, Any], None]]] = {
    "patients": ("coordinator", "/console/patients?q=Rowlist", _patients),
    "directory": ("coordinator", "/console/staff?q=Rowlist&role=nurse", _nurses),
    "users": ("admin", "/console/admin/users", _nurses),
    "pumps": ("admin", "/console/admin/pumps?status=maintenance_due", _pumps),
    "job runs": ("admin", "/console/admin/jobs?job_id=rowlist", _runs),
    "training": ("admin", "/console/training", _modules),
}


def _total(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User)) or 0


def _made(app: Flask, agency: Any, make: Callable[[Flask, Any], None]) -> None:
    with app.app_context():
        make(app, agency)
        db.session.commit()


def _rows(response: Any) -> set[str]:
    """The rows a page shows, by their names (a pump's is on its buttons too)."""
    return set(ROW.findall(text_of(response)))


def _next(response: Any) -> str:
    found = NEXT.search(response.get_data(as_text=True))
    assert found, "no Next link"
    return html.unescape(found.group(1))


@pytest.mark.parametrize("name", LISTS)
def test_a_long_list_shows_50_rows_a_page_and_next_keeps_the_filter(app, agency, name):
    who, path, make = LISTS[name]
    _made(app, agency, make)
    client = signed_in(app, who)
    first = client.get(path)
    assert first.status_code == 200
    total = _total(app) if name == "users" else ROWS  # the users page lists the agency too
    assert len(_rows(first)) == 50
    assert f"Showing 1-50 of {total} Next page" in dashed_text_of(first)
    assert "Previous page" not in text_of(first)

    second_path = _next(first)
    filters = path.partition("?")[2]
    assert filters in second_path and "page=2" in second_path  # the filter survives paging
    second = client.get(second_path)
    assert f"Previous page Showing 51-100 of {total} Next page" in dashed_text_of(second)
    assert len(_rows(second)) == 50 and not _rows(second) & _rows(first)

    last = client.get(_next(second))
    assert f"Showing 101-{total} of {total}" in dashed_text_of(last)
    assert len(_rows(last)) == ROWS - 100
    assert "Next page" not in text_of(last)


@pytest.mark.parametrize("page", ["0", "-1", "abc", "2.5"])
def test_a_page_number_that_is_not_one_is_refused_with_its_message(app, agency, page):
    response = signed_in(app, "coordinator").get(f"/console/patients?page={page}")
    assert response.status_code == 400
    text = html.unescape(text_of(response))
    assert "The request was refused" in text
    assert f'There is no page "{page}": a page is a whole number from 1.' in text
    assert "PatientMRN-A" not in text


def test_a_huge_page_number_is_refused_not_sent_to_the_database(app, agency):
    client = signed_in(app, "coordinator")
    response = client.get("/console/patients?page=99999999999999999999")
    assert response.status_code == 400
    assert ("There is no page 99999999999999999999: the page number is too large."
            in text_of(response))
    longer = client.get("/console/patients", query_string={"page": "9" * 5000})
    assert longer.status_code == 400  # more digits than Python's int() takes
    assert f"There is no page {'9' * 20}: the page number is too large." in text_of(longer)


def test_a_page_past_the_last_is_not_found_and_says_how_many_there_are(app, agency):
    _made(app, agency, _patients)
    response = signed_in(app, "qc").get("/console/patients?q=Rowlist&page=9")
    assert response.status_code == 404
    assert "There is no page 9: this list has 3 pages." in text_of(response)


def test_bad_page_numbers_are_refused_on_every_list(app, agency):
    admin = signed_in(app, "admin")
    for path in ("/console/staff", "/console/admin/users", "/console/admin/devices",
                 "/console/admin/pumps", "/console/admin/jobs", "/console/training",
                 "/console/review"):
        response = admin.get(path, query_string={"page": "abc"})
        assert response.status_code == 400, path
        assert 'There is no page "abc": a page is a whole number from 1.' in \
            html.unescape(text_of(response)), path


def test_a_short_list_has_no_pagination(app, agency):
    text = text_of(signed_in(app, "coordinator").get("/console/patients"))
    assert "PatientMRN-A" in text
    assert "Showing" not in text and "Next page" not in text


def test_the_macro_says_page_n_when_the_list_is_not_counted(app):
    from server.console.paging import Pager
    with app.test_request_context("/console/admin/jobs?job_id=x"):
        macros = app.jinja_env.get_template("console/macros.html").module
        shown = str(macros.pagination(Pager(2, 50, 50, None, True, {"job_id": ["x"]}),
                                      "console.job_runs"))
    text = " ".join(re.sub(r"<[^>]+>", " ", shown).split())
    assert text == "Previous page Page 2 Next page"
    assert 'href="/console/admin/jobs?page=3&amp;job_id=x"' in shown


def test_the_pages_hold_every_row_once_in_the_lists_order(app, agency):
    """Following Next from the first page reads the whole list: no row twice, none left out."""
    _made(app, agency, _patients)
    client = signed_in(app, "coordinator")
    seen: list[str] = []
    path = "/console/patients?q=Rowlist"
    for _page in range(3):
        response = client.get(path)
        seen += ROW.findall(text_of(response))
        found = NEXT.search(response.get_data(as_text=True))
        path = html.unescape(found.group(1)) if found else ""
    assert seen == [f"Rowlist{i:03}" for i in range(ROWS)] and not path
