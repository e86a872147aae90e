"""Fixtures for the reconciliation tier: enrolled devices, pushes, mutation builders, rows.

Every test drives the real sync push (sealed, signed batches) and reads what
reconciliation stored straight from the database.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from server.models import ReviewItem
from tests.integration.sync.device import TestDevice

HOME = {"latitude": 39.78, "longitude": -89.65, "accuracy_m": 8}
# When the nurse of visit_a checked in, out and signed (what her device reports).
CHECK_IN_AT = datetime(2026, 11, 23, 14, 55, tzinfo=UTC)  # 09:55 -05:00
CHECK_OUT_AT = datetime(2026, 11, 23, 16, 10, tzinfo=UTC)
SIGN_AT = datetime(2026, 11, 23, 16, 15, tzinfo=UTC)


def as_ordered(agency: Any) -> dict[str, Any]:
    """An ``infusion.record`` started as order_a says, on PMP-A, Monday 23 November 2026."""
    return {
        "order_id": str(agency["order_a"]), "medication": "ceftriaxone", "dose": 2,
        "dose_unit": "g", "route": "IV", "lot_number": "LOT-7731", "lot_expiry": "2027-06-30",
        "access": {"device_type": "picc", "site": "right basilic", "flushed_before": True,
                   "flushed_after": True,
                   "site_assessment": {"phlebitis_score": 0, "infiltration_score": 0}},
        "pump": {"serial": "PMP-A", "programmed_rate_ml_h": 100, "vtbi_ml": 100},
        "started_at": "2026-11-23T10:05:00-05:00",
    }


@pytest.fixture
def phone(enroll: Callable[[str], TestDevice]) -> TestDevice:
    """nurse_a's phone."""
    return enroll("nurse_a")


@pytest.fixture
def push() -> Callable[..., list[dict[str, Any]]]:
    """``push(device, m1, m2, ...)`` → the per-mutation results of one accepted batch."""

    def send(device: TestDevice, *mutations: dict[str, Any]) -> list[dict[str, Any]]:
        response = device.push(list(mutations))
        assert response.status_code == 200, response.get_json()
        results: list[dict[str, Any]] = response.get_json()["results"]
        return results

    return send


@pytest.fixture
def review_items(rows: Callable[..., list[Any]]) -> Callable[..., list[ReviewItem]]:
    """``review_items(kind=None)`` → the review items (of that kind), oldest first."""

    def items(kind: str | None = None) -> list[ReviewItem]:
        found = rows(ReviewItem, *([ReviewItem.kind == kind] if kind else []))
        return sorted(found, key=lambda item: item.created_at)

    return items


@pytest.fixture
def check(agency: Any) -> Callable[..., dict[str, Any]]:
    """``check(device, kind="check_in", at=..., location=HOME)`` → an EVV mutation."""

    def build(device: TestDevice, kind: str = "check_in", *, visit_id: Any = None,
              at: str = "2026-11-23T09:55:00-05:00", location: Any = HOME,
              base_version: int | None = None) -> dict[str, Any]:
        return device.mutation(f"visit.{kind}", visit_id or agency["visit_a"],
                               {"at": at, "location": location}, base_version=base_version)

    return build


@pytest.fixture
def vitals(agency: Any) -> Callable[..., dict[str, Any]]:
    """``vitals(device, code="8867-4", value=72, unit="/min", ...)`` → a vitals mutation."""

    def build(device: TestDevice, code: str = "8867-4", value: Any = 72, unit: str = "/min",
              *, components: list[dict[str, Any]] | None = None, visit_id: Any = None,
              base_version: int | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {"code": code, "unit": unit,
                                "taken_at": "2026-11-23T10:10:00-05:00"}
        if components is not None:
            data["components"] = components
        else:
            data["value"] = value
        return device.mutation("vitals.record", visit_id or agency["visit_a"], data,
                               entity_id=uuid.uuid4(), base_version=base_version)

    return build


@pytest.fixture
def infusion(agency: Any) -> Callable[..., dict[str, Any]]:
    """``infusion(device, **overrides)`` → an administration that matches order_a on pump_a."""

    def build(device: TestDevice, *, visit_id: Any = None, **overrides: Any) -> dict[str, Any]:
        data: dict[str, Any] = {
            **as_ordered(agency), "stopped_at": "2026-11-23T11:05:00-05:00",
            "volume_infused_ml": 100, **overrides,
        }
        return device.mutation("infusion.record", visit_id or agency["visit_a"], data,
                               entity_id=uuid.uuid4())

    return build
