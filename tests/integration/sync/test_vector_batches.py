"""Vectors valid end to end: each vector file's push batch, pushed to the app as its
plaintext says, is ``applied`` mutation by mutation (issue 12, item 4: the v1 batch's vital
sign once had no ``taken_at`` and was refused), and each vector pull page is a page the
documented JSON Schema accepts."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from schemas import json_schemas
from server.extensions import db
from server.models import User, Visit, VisitEvent, VisitNote, VitalSign
from server.wire_check import problems
from tests.factories import make_patient

VECTORS = Path(__file__).parents[2] / "sync"
V1 = json.loads((VECTORS / "vectors-v1.json").read_text(encoding="utf-8"))
V1_1 = json.loads((VECTORS / "vectors-v1.1.json").read_text(encoding="utf-8"))


def _visit_for(app: Any, agency: Any, visit_id: str, start: datetime) -> None:
    """The vector's visit (its own id) for nurse_a, at a home where the EVV points are."""
    with app.app_context():
        patient = make_patient("MRN-VECTOR")
        patient.locations[0].latitude, patient.locations[0].longitude = 39.78, -89.65
        db.session.flush()
        db.session.add(Visit(id=uuid.UUID(visit_id), patient_id=patient.id,
                             nurse_id=db.session.get_one(User, agency["nurse_a"]).id,
                             service_location_id=patient.locations[0].id,
                             scheduled_start=start, scheduled_end=start + timedelta(hours=1)))
        db.session.commit()


@pytest.mark.parametrize(("vector", "start"), [
    (V1["push"], datetime(2026, 11, 22, 19, 0, tzinfo=UTC)),
    (V1_1["push"], datetime(2026, 12, 8, 14, 0, tzinfo=UTC)),
    (V1_1["visit_batch"], datetime(2026, 12, 8, 14, 0, tzinfo=UTC)),
], ids=["v1", "v1.1-push", "v1.1-visit_batch"])
def test_each_vector_batch_is_applied_mutation_by_mutation(app, enroll, agency, clock, rows,
                                                           vector, start):
    plaintext = vector["plaintext"]
    batch = json.loads(plaintext)
    clock.current = datetime.fromisoformat(batch["device_clock"].replace("Z", "+00:00"))
    _visit_for(app, agency, batch["mutations"][0]["visit_id"], start)
    device = enroll("nurse_a")
    response = device.client.post("/api/v1/sync/push", headers=device.headers,
                                  json=device.body(plaintext.encode()))
    assert response.status_code == 200, response.get_json()
    results = response.get_json()["results"]
    assert [(r["id"], r["status"]) for r in results] == [
        (m["id"], "applied") for m in batch["mutations"]]
    assert all(r["flags"] == [] for r in results), results
    kinds = [m["type"] for m in batch["mutations"]]
    assert len(rows(VitalSign)) == kinds.count("vitals.record")
    assert len(rows(VisitNote)) == kinds.count("visit.note")
    assert len(rows(VisitEvent)) == sum(kind.startswith("visit.") and kind != "visit.note"
                                        for kind in kinds)


def test_the_v1_1_batch_shows_each_notation_a_client_needs():
    batch = json.loads(V1_1["visit_batch"]["plaintext"])
    kinds = [m["type"] for m in batch["mutations"]]
    assert kinds[0] == "visit.check_in" and kinds[-2:] == ["visit.check_out", "visit.sign"]
    panel = next(m["data"] for m in batch["mutations"] if m["data"].get("code") == "85354-9")
    assert panel["unit"] == "mm[Hg]" and {c["unit"] for c in panel["components"]} == {"mm[Hg]"}


@pytest.mark.parametrize("page", [V1["pull"]["body"], *(p["plaintext"] for p in V1_1["pulls"])],
                         ids=["v1", *(p["name"] for p in V1_1["pulls"])])
def test_each_vector_pull_page_is_a_documented_page(page):
    assert problems(json_schemas.PULL_PAGE, json.loads(page)) == []
