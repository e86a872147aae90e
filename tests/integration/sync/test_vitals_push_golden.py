"""A push of vital signs answers and stores exactly what it did before the push's Python was
made cheaper (issue 13): the results, and every row it writes — vital signs, NEWS2 scores,
review items, ledger, inbox, the batch's stored response, audit events — compared with
``golden/vitals_push.<database>.json``, captured from the code before those changes.

Ids the server draws at random (devices, inbox rows, review items, scores) are named by
the order in which they first appear, so the comparison still says which row names which.
``INFUSYNC_WRITE_GOLDEN=1`` writes the files instead of comparing (only ever from code
whose output is the reference).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, String, cast, select

from server.extensions import db
from server.models import AuditEvent, EarlyWarningScore, ReviewItem, VitalSign
from sync import ledger
from sync.batches import SyncBatch
from sync.ledger import InboxEntry, LedgerEntry

GOLDEN = Path(__file__).parent / "golden"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Columns that hash random ids (the audit chain, batches' plaintexts: checked apart for the
# ledger) or are random bytes (sealed payloads).
_SKIPPED = {"prev_hash", "hash", "payload", "plaintext_hash", "content_hash"}


def _id(name: str) -> str:
    """A fixed id per name: mutation and entity ids the device chooses."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"golden/{name}"))


def _vital(device: Any, visit: Any, name: str, data: dict[str, Any]) -> dict[str, Any]:
    mutation = device.mutation("vitals.record", visit, data, entity_id=_id(f"{name}/sign"),
                               occurred_at="2026-11-23T09:58:00.250-05:00")
    mutation["id"] = _id(name)
    return mutation


def _reading(code: str, value: Any, unit: str, taken_at: str) -> dict[str, Any]:
    return {"code": code, "value": value, "unit": unit, "taken_at": taken_at}


SET_1 = "2026-11-23T10:00:00-05:00"
SET_2 = "2026-11-23T10:30:00.5-05:00"


def _first_batch(device: Any, agency: Any) -> list[dict[str, Any]]:
    """A critical set, a calm set, a coded reading, oxygen, and what is refused or repeated."""
    visit = agency["visit_a"]
    bp = {"code": "85354-9", "unit": "mm[Hg]", "taken_at": SET_1, "components": [
        {"code": "8480-6", "value": 85, "unit": "mm[Hg]"},
        {"code": "8462-4", "value": 50, "unit": "mm[Hg]"}]}
    calm_bp = {"code": "85354-9", "unit": "mm[Hg]", "taken_at": SET_2, "components": [
        {"code": "8480-6", "value": 122, "unit": "mm[Hg]"},
        {"code": "8462-4", "value": 78.5, "unit": "mm[Hg]"}]}
    pulse = _vital(device, visit, "pulse-1", _reading("8867-4", 135, "/min", SET_1))
    batch = [
        _vital(device, visit, "resp-1", _reading("9279-1", 26, "/min", SET_1)),
        _vital(device, visit, "spo2-1", _reading("2708-6", 90, "%", SET_1)),
        pulse,
        _vital(device, visit, "temp-1", _reading("8310-5", 39.5, "Cel", SET_1)),
        _vital(device, visit, "bp-1", bp),
        _vital(device, visit, "o2-1", _reading("3151-8", 2, "L/min", SET_1)),
        _vital(device, visit, "acvpu-1", {"code": "67775-7", "unit": "{ACVPU}",
                                          "answer": "voice", "taken_at": SET_1}),
        _vital(device, visit, "pulse-2", _reading("8867-4", 72, "/min", SET_2)),
        _vital(device, visit, "spo2-2", _reading("2708-6", 97, "%", SET_2)),
        _vital(device, visit, "temp-2", _reading("8310-5", 36.8, "Cel", SET_2)),
        _vital(device, visit, "bp-2", calm_bp),
        _vital(device, visit, "impossible", _reading("8867-4", 400, "/min", SET_2)),
        _vital(device, agency["visit_b"], "not-hers", _reading("8867-4", 80, "/min", SET_2)),
        _vital(device, visit, "no-unit", {"code": "8867-4", "value": 70, "taken_at": SET_2}),
        _vital(device, visit, "weight", _reading("29463-7", 70.25, "kg", SET_2)),
    ]
    device.seq += 1
    other = {**pulse, "seq": device.seq, "data": {**pulse["data"], "value": 136}}
    return [*batch, dict(pulse), other]


def _second_batch(device: Any, agency: Any, replayed: dict[str, Any]) -> list[dict[str, Any]]:
    """A replay, and readings added to both sets (the stored scores merged)."""
    visit = agency["visit_a"]
    return [replayed,
            _vital(device, visit, "pulse-3", _reading("8867-4", 45, "/min", SET_1)),
            _vital(device, visit, "resp-2", _reading("9279-1", 18, "/min", SET_2)),
            _vital(device, visit, "acvpu-2", {"code": "67775-7", "unit": "{ACVPU}",
                                              "answer": "alert", "taken_at": SET_2})]


def _rows(model: Any, order: tuple[str, ...]) -> list[dict[str, Any]]:
    """Every column of the table's rows (JSON as the text the database holds)."""
    table = model.__table__
    columns = [cast(column, String).label(column.key) if isinstance(column.type, JSON)
               else column for column in table.columns if column.key not in _SKIPPED]
    rows = [dict(row._mapping) for row in db.session.execute(select(*columns))]
    return sorted(rows, key=lambda row: tuple(str(row[key]) for key in order))


def _inbox(data_key: bytes) -> list[dict[str, Any]]:
    """Inbox rows with their payloads opened (the ciphertext is random by design)."""
    rows = []
    for entry in db.session.scalars(select(InboxEntry)):
        rows.append({"id": entry.id, "mutation_id": entry.mutation_id,
                     "device_id": entry.device_id, "batch_id": entry.batch_id,
                     "received_at": entry.received_at, "outcome": entry.outcome,
                     "reasons": json.dumps(entry.reasons, sort_keys=True),
                     "payload": ledger.read_payload(entry, data_key)})
    return sorted(rows, key=lambda row: (str(row["batch_id"]),
                                         json.dumps(row["payload"], sort_keys=True)))


def _content_hashes_hold(ledger_rows: list[Any], inbox: list[dict[str, Any]]) -> None:
    """Each ledger row's content hash is SHA-256 of the mutation as sent, in canonical JSON
    (sorted keys, ASCII) after its device's id (docs/protocol.md, Idempotency)."""
    sent = {(row["mutation_id"], row["payload"]["seq"]): row["payload"] for row in inbox}
    assert ledger_rows
    for row in ledger_rows:
        canonical = json.dumps([str(row.device_id), sent[row.mutation_id, row.seq]],
                               sort_keys=True,
                               separators=(",", ":"))
        assert row.content_hash == hashlib.sha256(canonical.encode()).hexdigest()


def _named(value: Any) -> Any:
    """``value`` as JSON with every UUID named by its first appearance."""
    text = json.dumps(value, default=str, sort_keys=False)
    names: dict[str, str] = {}
    return json.loads(_UUID.sub(
        lambda found: names.setdefault(found.group(0), f"<id {len(names) + 1}>"), text))


def _stored(app: Any) -> dict[str, Any]:
    from server.api import sync_settings

    with app.test_request_context():
        data_key = sync_settings.data_key()
        inbox = _inbox(data_key)
        _content_hashes_hold(list(db.session.scalars(select(LedgerEntry))), inbox)
        return {
            "vital_signs": _rows(VitalSign, ("batch_id", "seq")),
            "early_warning_scores": _rows(EarlyWarningScore, ("taken_at",)),
            "review_items": _rows(ReviewItem, ("created_at", "kind", "summary")),
            "sync_ledger": _rows(LedgerEntry, ("seq",)),
            "sync_batches": _rows(SyncBatch, ("received_at",)),
            "audit_events": [{k: v for k, v in row.items() if k not in ("at",)} for row in
                             _rows(AuditEvent, ("seq",)) if row["action"].startswith("sync.")],
            "sync_inbox": inbox,
        }


def test_a_vitals_push_answers_and_stores_what_it_did_before(app, enroll, agency, clock):
    device = enroll("nurse_a")
    first = _first_batch(device, agency)
    answers = [device.push(first, batch_id=_id("batch-1")).get_json()]
    clock.advance(minutes=5)
    skewed = device.body(device.plaintext(_second_batch(device, agency, first[2]),
                                          clock=clock() + timedelta(hours=2)),
                         batch_id=_id("batch-2"))
    answers.append(device.client.post("/api/v1/sync/push", headers=device.headers,
                                      json=skewed).get_json())
    with app.app_context():
        found = _named({"answers": answers, "stored": _stored(app)})
        dialect = db.engine.dialect.name
    path = GOLDEN / f"vitals_push.{dialect}.json"
    if os.environ.get("INFUSYNC_WRITE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")
    expected = json.loads(path.read_text())
    assert found["answers"] == expected["answers"]
    for table, rows in expected["stored"].items():
        assert found["stored"][table] == rows, table
    statuses = [r["status"] for r in answers[0]["results"]]
    assert statuses.count("applied") == 12 and statuses.count("rejected") == 4
    assert statuses.count("duplicate") == 1
    assert [r["status"] for r in answers[1]["results"]] == ["duplicate", *["applied"] * 3]
