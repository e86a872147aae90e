"""A recall list imported as CSV (POST /pumps/recalls, ``infusync pumps recall``)."""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent, Notification, Pump, ReviewItem
from tests.integration.recalls.helpers import (
    device_notifications,
    documented_with,
    patch_pump,
    recall_items,
    staff,
)

URL = "/api/v1/pumps/recalls"
BOTH = "serial,recall_number,reason\nPMP-A,Z-0101-2026,Free-flow risk\nPMP-B,Z-0101-2026,\n"


def post_csv(client: Any, text: str | bytes, who: str = "coordinator") -> Any:
    """POST the list as a text/csv body."""
    return client.post(URL, headers=staff(client, who), data=text, content_type="text/csv")


def _statuses(app: Any) -> dict[str, str]:
    with app.app_context():
        return {p.serial: p.status.value for p in db.session.scalars(select(Pump))}


def _counts(app: Any) -> tuple[int, int]:
    with app.app_context():
        return (len(db.session.scalars(select(ReviewItem)).all()),
                len(db.session.scalars(select(Notification)).all()))


def test_a_list_by_serial_recalls_each_pump_and_traces_it(app, client, enroll, agency):
    phone_a, phone_b = enroll("nurse_a"), enroll("nurse_b")
    given = documented_with(phone_a, agency["visit_a"], agency["order_a"], "PMP-A")
    response = post_csv(client, BOTH)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["rows"] == 2
    assert [(p["line"], p["serial"], p["outcome"]) for p in body["pumps"]] == [
        (2, "PMP-A", "recalled"), (3, "PMP-B", "recalled")]
    assert (body["review_items_opened"], body["notifications_sent"]) == (2, 2)
    assert _statuses(app) == {"PMP-A": "recalled", "PMP-B": "recalled"}
    items = recall_items(client)
    evidence = items[str(agency["patient_a"])]["details"]
    assert (evidence["recall_number"], evidence["reason"]) == ("Z-0101-2026", "Free-flow risk")
    assert [a["id"] for a in evidence["administrations"]] == [given]
    assert [n["body"] for n in device_notifications(phone_a)] == [
        "Pump PMP-A is recalled: stop using it and call the pharmacy. Recall Z-0101-2026."]
    assert [n["body"] for n in device_notifications(phone_b)] == [
        "Pump PMP-B is recalled: stop using it and call the pharmacy. Recall Z-0101-2026."]


def test_importing_the_same_list_again_changes_nothing(app, client, enroll, agency):
    enroll("nurse_a")
    assert post_csv(client, BOTH).status_code == 200
    before = _counts(app)
    again = post_csv(client, BOTH)
    assert again.status_code == 200, again.get_json()
    body = again.get_json()
    assert [p["outcome"] for p in body["pumps"]] == ["already_recalled", "already_recalled"]
    assert (body["review_items_opened"], body["notifications_sent"]) == (0, 0)
    assert _counts(app) == before


def test_a_udi_di_row_recalls_every_pump_of_that_model(app, client, agency):
    for pump in ("pump_a", "pump_b"):
        patch_pump(client, agency[pump], udi_di="00812345000011")
    response = post_csv(client, "udi_di,recall_number\n00812345000011,Z-7\n")
    assert response.status_code == 200, response.get_json()
    assert [p["serial"] for p in response.get_json()["pumps"]] == ["PMP-A", "PMP-B"]
    assert _statuses(app) == {"PMP-A": "recalled", "PMP-B": "recalled"}
    assert set(recall_items(client)) == {str(agency["patient_a"]), str(agency["patient_b"])}


def test_a_form_upload_is_read_like_a_csv_body(app, client, agency):
    response = client.post(URL, headers=staff(client, "coordinator"),
                           data={"file": (io.BytesIO(b"serial\nPMP-B\n"), "recall.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 200, response.get_json()
    assert _statuses(app) == {"PMP-A": "in_service", "PMP-B": "recalled"}


def test_bad_lines_are_refused_by_number_and_nothing_is_applied(app, client, agency):
    text = ("serial,udi_di,recall_number\n"
            "PMP-A,,Z-1\n"           # good, but the list is refused as a whole
            "PMP-NOPE,,Z-1\n"        # line 3: not in the registry
            ",,Z-1\n"                # line 4: names no pump
            f"PMP-B,,{'9' * 61}\n"   # line 5: recall number too long
            "\n"                     # a blank line is skipped
            ",00899999999999,\n"     # line 7: no pump of that model
            "PMP-A,,Z-1,extra\n")    # line 8: more cells than columns
    response = post_csv(client, text)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert "line(s) 3, 4, 5, 7, 8" in error["message"] and "nothing was applied" in error[
        "message"]
    assert {entry["line"]: entry["messages"] for entry in error["details"]["lines"]} == {
        3: ["No pump with serial 'PMP-NOPE' is registered."],
        4: ["Give the pump's serial or its udi_di."],
        5: ["recall_number is longer than 60 characters."],
        7: ["No registered pump has UDI-DI '00899999999999'."],
        8: ["4 cells, but the header names 3 columns."]}
    assert _statuses(app) == {"PMP-A": "in_service", "PMP-B": "in_service"}
    assert _counts(app) == (0, 0)


def test_a_serial_whose_udi_di_contradicts_the_registry_is_refused(app, client, agency):
    patch_pump(client, agency["pump_a"], udi_di="00812345000011")
    response = post_csv(client, "serial,udi_di\nPMP-A,00812345000099\n")
    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["lines"] == [{"line": 2, "messages": [
        "Pump 'PMP-A' has UDI-DI '00812345000011' in the registry, not '00812345000099'."]}]
    assert _statuses(app)["PMP-A"] == "in_service"


def test_a_header_without_identifiers_or_with_unknown_columns_is_refused(client, agency):
    for text, message in (
            ("model,reason\nCADD,x\n", "Unknown column 'model'; the columns are serial, "
             "udi_di, recall_number, reason."),
            ("reason\nx\n", "The header names neither a serial nor a udi_di column."),
            ("", "The file is empty: a header row, then a row per pump."),
            ("serial\n\n", "The list names no pump.")):
        response = post_csv(client, text)
        assert response.status_code == 422, (text, response.get_json())
        messages = [m for entry in response.get_json()["error"]["details"]["lines"]
                    for m in entry["messages"]]
        assert message in messages, (text, messages)


def test_a_file_that_is_not_utf8_text_is_refused_with_its_line(client, agency):
    for data, line in ((b"serial\nPMP-A\n\xff\xfe\n", 3), (b"serial\nPMP-\x00A\n", 2)):
        response = post_csv(client, data)
        assert response.status_code == 422, response.get_json()
        assert response.get_json()["error"]["details"]["lines"][0]["line"] == line


def test_only_a_csv_body_is_read(client, agency):
    response = client.post(URL, headers=staff(client, "coordinator"),
                           json={"serial": "PMP-A"})
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "unsupported_media_type"


def test_nurses_and_qc_may_not_import_a_recall_list(app, client, agency):
    for who in ("nurse_a", "qc"):
        assert post_csv(client, BOTH, who).status_code == 403
    assert _statuses(app) == {"PMP-A": "in_service", "PMP-B": "in_service"}


def test_the_import_is_audited_with_who_and_which_pumps(app, client, agency):
    assert post_csv(client, BOTH).status_code == 200
    with app.app_context():
        imported = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "import")).one()
        recalls = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "recall")).all()
    assert imported.actor_user_id == agency["coordinator"]
    assert imported.entity_type == "pump_recalls"
    assert sorted(imported.details["recalled_pump_ids"]) == sorted(
        [str(agency["pump_a"]), str(agency["pump_b"])])
    assert sorted(e.entity_id for e in recalls) == sorted([agency["pump_a"], agency["pump_b"]])
    assert {e.details["source"] for e in recalls} == {"recall_list"}


def test_the_cli_imports_a_list_and_refuses_a_bad_one(app, runner, agency, tmp_path):
    good, bad = tmp_path / "recall.csv", tmp_path / "bad.csv"
    good.write_text(BOTH)
    bad.write_text("serial\nPMP-A\nPMP-ZZZ\n")
    refused = runner.invoke(args=["pumps", "recall", "--file", str(bad)])
    assert refused.exit_code == 1
    assert "line 3: No pump with serial 'PMP-ZZZ' is registered." in refused.output
    assert _statuses(app) == {"PMP-A": "in_service", "PMP-B": "in_service"}
    result = runner.invoke(args=["pumps", "recall", "--file", str(good)])
    assert result.exit_code == 0, result.output
    assert "2 pump(s) recalled, 0 already recalled; 2 review item(s) opened" in result.output
    again = runner.invoke(args=["pumps", "recall", "--file", str(good)])
    assert "0 pump(s) recalled, 2 already recalled; 0 review item(s) opened" in again.output
    assert _statuses(app) == {"PMP-A": "recalled", "PMP-B": "recalled"}
