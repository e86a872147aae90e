"""Logs carry no patient data, even when a database error is logged."""

import logging

import pytest
from sqlalchemy.exc import IntegrityError

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
