"""Logs carry no patient data, even when a database error is logged; one record is one line."""

import io
import json
import logging
import socket
import threading

import pytest
from sqlalchemy.exc import IntegrityError
from werkzeug.serving import make_server

from server.errors import handle_unexpected
from server.extensions import db
from server.logs import JSONFormatter
from tests.factories import make_patient


def _duplicate_mrn_error(app) -> IntegrityError:
    with app.app_context():
        make_patient("MRN-A")  # the agency already holds MRN-A
        with pytest.raises(IntegrityError) as caught:
            db.session.commit()
        db.session.rollback()
    return caught.value


def test_database_errors_do_not_carry_bound_values(app, agency):
    assert "hidden" in str(_duplicate_mrn_error(app))


def test_an_unexpected_error_is_logged_without_its_message(app, agency):
    error = _duplicate_mrn_error(app)
    lines: list[str] = []
    handler = logging.Handler()
    handler.setFormatter(JSONFormatter())
    handler.emit = lambda record: lines.append(handler.format(record))  # type: ignore[method-assign]
    logger = logging.getLogger("server")
    logger.addHandler(handler)
    try:
        with app.test_request_context():
            try:  # as Flask calls it: inside the except block of the failed request
                raise error
            except IntegrityError as raised:
                response = handle_unexpected(raised)
    finally:
        logger.removeHandler(handler)
    assert response.status_code == 500
    assert len(lines) == 1
    assert "IntegrityError" in lines[0]
    assert "MRN-A" not in lines[0]


FORGED = '{"level": "ERROR", "forged": true}'
HOSTILE = ["a\nb", "a\r\nb", "nul\x00", "esc\x1b[2J", "line\u2028sep", "lone\udc80", FORGED]


def test_the_json_formatter_writes_one_line_per_record_whatever_the_fields():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONFormatter())
    logger = logging.getLogger("server.test_log_lines")
    logger.addHandler(handler)
    # Kept from pytest's log capture: a lone surrogate in a captured record cannot cross to
    # the xdist controller (UTF-8), which would end the whole run.
    logger.propagate = False
    try:
        for text in HOSTILE:
            logger.warning("path %s\n" + FORGED, text, extra={"path": text, "nested": [text]})
        try:
            raise ValueError("boom\n" + FORGED)
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    lines = stream.getvalue().splitlines()  # splitlines also splits at \u2028, \x1c-\x1e
    assert len(lines) == len(HOSTILE) + 1
    assert [json.loads(line)["level"] for line in lines] == ["WARNING"] * len(HOSTILE) + [
        "ERROR"]
    assert not any(char in stream.getvalue() for char in "\x00\x1b\r")


def test_the_development_server_escapes_its_access_log(app):
    """``flask run`` (werkzeug) escapes the decoded path itself; pinned here."""
    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger("werkzeug")
    logger.addHandler(handler)
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        for target in ("/x%0A" + FORGED.replace('"', "%22").replace(" ", "%20"), "/nul%00"):
            with socket.create_connection(("127.0.0.1", server.server_port), timeout=10) as s:
                s.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                          .encode())
                while s.recv(65536):
                    pass
    finally:
        server.shutdown()
        thread.join(timeout=10)
        logger.removeHandler(handler)
    access = [line for line in records if "GET /" in line]
    assert len(access) == 2
    assert not any(char in line for line in access for char in "\n\r\x00")
