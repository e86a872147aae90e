"""Fixtures for the rule functions of server/reconcile, called directly: no HTTP, no push.

A rule reads the registry through a real session on the migrated database (both backends),
so each test changes one fact (an order on hold, a recalled pump) and reads the findings.
No fixture here builds a ``MutationContext``: the rules tested take plain values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from schemas.mutations import InfusionSchema
from server.extensions import db
from server.models import Severity, Visit
from server.review_items import FINDINGS

QcView = list[tuple[str, Severity, str]]


@pytest.fixture
def session(app: Flask, agency: Any) -> Iterator[Session]:
    """A session on the agency's database; what a test changes is rolled back."""
    with app.app_context():
        yield db.session()
        db.session.rollback()


@pytest.fixture
def visit(session: Session, agency: Any) -> Visit:
    """nurse_a's visit to patient_a, who has order_a (ceftriaxone 2 g at 100 mL/h), PMP-A."""
    found = session.get(Visit, agency["visit_a"])
    assert found is not None
    return found


@pytest.fixture
def administration(agency: Any) -> Callable[..., dict[str, Any]]:
    """``administration(**overrides)`` → an ``infusion.record`` payload as the handler gets it
    (loaded by the wire schema), matching order_a on PMP-A on Monday 23 November 2026."""

    def load(**overrides: Any) -> dict[str, Any]:
        raw: dict[str, Any] = {
            "order_id": str(agency["order_a"]), "medication": "ceftriaxone", "dose": 2,
            "dose_unit": "g", "route": "IV", "lot_number": "LOT-7731",
            "lot_expiry": "2027-06-30",
            "access": {"device_type": "picc", "site": "right basilic", "flushed_before": True,
                       "flushed_after": True,
                       "site_assessment": {"phlebitis_score": 0, "infiltration_score": 0}},
            "pump": {"serial": "PMP-A", "programmed_rate_ml_h": 100, "vtbi_ml": 100},
            "started_at": "2026-11-23T10:05:00-05:00",
            **overrides,
        }
        loaded: dict[str, Any] = InfusionSchema().load(raw)
        return loaded

    return load


def qc_view(findings: list[tuple[str, str, dict[str, Any]]]) -> QcView:
    """What the QC nurse's queue shows for each finding: kind, severity and message."""
    return [(kind, FINDINGS[kind].severity, summary) for kind, summary, _evidence in findings]
