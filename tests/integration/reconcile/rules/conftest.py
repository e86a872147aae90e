"""Fixtures for the rule functions of server/reconcile, called directly: no HTTP, no push.

A rule reads the registry through a real session on the migrated database (both backends),
so each test changes one fact (an order on hold, a recalled pump) and reads the findings.
Rules that are part of a handler (vital signs, the nurse's standing, the visit's state) get
their ``MutationContext`` from ``context``, the one place that builds them: a real device
row, the wire schema's loaded data, and a real ``BatchCache`` as in a push.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from schemas.mutations import MUTATION_DATA_SCHEMAS, InfusionSchema
from server.extensions import db
from server.models import Device, Severity, Visit
from server.reconcile.batch_cache import DOCUMENT_TABLES, BatchCache
from server.reconcile.context import MutationContext
from server.review_items import FINDINGS
from tests.integration.reconcile.conftest import as_ordered

QcView = list[tuple[str, Severity, str]]
Context = Callable[..., MutationContext]
ZONE = ZoneInfo("America/New_York")  # the agency's (the test devices report -05:00)
OCCURRED_AT = "2026-11-23T10:00:00-05:00"


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
        raw: dict[str, Any] = {**as_ordered(agency), **overrides}
        loaded: dict[str, Any] = InfusionSchema().load(raw)
        return loaded

    return load


def qc_view(findings: list[tuple[str, str, dict[str, Any]]]) -> QcView:
    """What the QC nurse's queue shows for each finding: kind, severity and message."""
    return [(kind, FINDINGS[kind].severity, summary) for kind, summary, _evidence in findings]


def _device(session: Session, nurse_id: uuid.UUID) -> Device:
    device = Device(user_id=nurse_id, name="Rules tier phone", platform="android",
                    app_version="1.0.0", signing_key="0" * 64,
                    token_hash=secrets.token_hex(32))
    session.add(device)
    session.flush()
    return device


@pytest.fixture
def context(session: Session, agency: Any, clock: Callable[[], datetime]) -> Context:
    """``context(type, data, nurse="nurse_a", visit="visit_a", base_version=None,
    seq=None, cache=None)`` → the ``MutationContext`` a push would hand that handler.

    ``data`` is the mutation's wire data, loaded by its schema as validation would; each
    nurse has one device whose ``seq`` counts up unless given; each context gets its own
    ``BatchCache`` (its own batch) unless ``cache`` puts several in one batch.
    """
    devices: dict[str, Device] = {}
    seqs: dict[str, int] = {}

    def build(kind: str, data: dict[str, Any], *, nurse: str = "nurse_a",
              visit: str | uuid.UUID = "visit_a", base_version: int | None = None,
              seq: int | None = None, cache: BatchCache | None = None) -> MutationContext:
        device = devices.get(nurse) or devices.setdefault(nurse,
                                                          _device(session, agency[nurse]))
        seqs[nurse] = seq if seq is not None else seqs.get(nurse, 0) + 1
        visit_id = visit if isinstance(visit, uuid.UUID) else agency[visit]
        mutation = {"id": uuid.uuid4(), "seq": seqs[nurse], "type": kind,
                    "entity_id": uuid.uuid4() if kind in DOCUMENT_TABLES else visit_id,
                    "visit_id": visit_id, "base_version": base_version,
                    "occurred_at": datetime.fromisoformat(OCCURRED_AT), "data": data}
        loaded: dict[str, Any] = MUTATION_DATA_SCHEMAS[kind]().load(data)
        return MutationContext(
            session=session, device=device, mutation=mutation, data=loaded, raw_data=data,
            raw_occurred_at=OCCURRED_AT, batch_id=uuid.uuid4(), now=clock(), zone=ZONE,
            cache=cache or BatchCache(session))

    return build
