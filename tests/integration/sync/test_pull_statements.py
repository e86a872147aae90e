"""A snapshot pull reads each kind of record once and nothing the request already holds.

The morning rush is bounded by the server's CPU, most of it spent per statement (README,
"The morning rush"; ``python -m bench.sync_cpu`` counts a pull's statements): these pin
what made a pull of her schedule 17 statements instead of 21 — her profile loaded with the
device, her modules read once, the signing keys not read per answer.
"""

import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event

from server.extensions import db
from server.services import server_keys
from sync import envelope

TABLE = re.compile(r"^\s*(?:INSERT INTO|UPDATE|(?:SELECT|WITH)\s.*?\sFROM)\s+\"?(\w+)",
                   re.IGNORECASE | re.DOTALL)


@contextmanager
def statements(app) -> Iterator[Counter[str]]:
    """Statements sent while inside, by verb and first table (``SELECT users``)."""
    seen: Counter[str] = Counter()
    with app.app_context():
        engine = db.engine

    def count(_conn, _cursor, statement, *_args):
        found = TABLE.match(statement)
        seen[f"{statement.split(None, 1)[0].upper()} {found.group(1) if found else '?'}"] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_a_snapshot_pull_reads_each_kind_once_in_16_statements(app, enroll, agency, clock):
    device = enroll("nurse_a")
    assert device.pull().status_code == 200  # the first answer reads the signing keys
    clock.current += timedelta(seconds=5)  # the device's last pull moves: one UPDATE
    with statements(app) as seen:
        response = device.pull()
    page = response.get_json()
    assert response.status_code == 200 and not page["has_more"]
    assert {c["type"] for c in page["changes"]} >= {"profile", "visit", "patient", "pump"}
    for table in ("devices", "training_modules", "training_statuses", "patients",
                  "service_locations", "therapy_orders", "pumps", "visits",
                  "device_commands", "notifications", "review_items"):
        assert seen[f"SELECT {table}"] == 1, (table, seen)
    # Her profile came with the device; the keys that sign were read by the first pull.
    assert seen["SELECT users"] == 0 and seen["SELECT server_keys"] == 0, seen
    assert seen["UPDATE devices"] == 1, seen
    with app.app_context():
        dialect = db.engine.dialect.name
    # PostgreSQL writes the audit event and moves the chain's head in one statement (a WITH);
    # SQLite sends them apart, and two more of its own: BEGIN, and an UPDATE that write-locks
    # the chain's head.
    assert seen["SELECT audit_chain_head"] == 1, seen
    assert sum(seen.values()) == {"postgresql": 16, "sqlite": 19}[dialect], seen


def test_a_signing_key_rotated_at_once_signs_the_next_pull(app, enroll, runner):
    device = enroll("nurse_a")
    assert device.pull().status_code == 200  # signed by the first key, now held in memory
    result = runner.invoke(args=["keys", "rotate-signing", "--grace-hours", "0"])
    assert result.exit_code == 0, result.output
    response = device.client.get("/api/v1/sync/pull", headers=device.headers,
                                 query_string={"cursor": ""})
    key_id, sig = envelope.parse_pull_signature_header(response.headers["Infusync-Signature"])
    assert response.status_code == 200
    assert key_id != "signing-initial" and key_id in result.output
    keys = device.client.get("/api/v1/sync/keys", headers=device.headers).get_json()
    public = {k["key_id"]: k["public_key"] for k in keys["signing_keys"]}[key_id]
    envelope.verify_pull(envelope.ed25519_public_key_from_b64u(public), response.data, sig)


def _signer(device):
    """The key id that signs a fresh snapshot pull of ``device``."""
    response = device.client.get("/api/v1/sync/pull", headers=device.headers,
                                 query_string={"cursor": ""})
    assert response.status_code == 200
    return envelope.parse_pull_signature_header(response.headers["Infusync-Signature"])[0]


def test_a_rotation_by_another_process_signs_here_within_ten_seconds(app, enroll, clock):
    device = enroll("nurse_a")
    assert _signer(device) == "signing-initial"
    with app.app_context():  # as another worker (or the CLI's own process) rotates
        new = server_keys.rotate_signing(db.session, app.config["INFUSYNC_DATA_KEY"],
                                         clock(), timedelta(0)).key_id
    assert _signer(device) == "signing-initial"  # the previous key, still trusted
    clock.current += timedelta(seconds=10)
    assert _signer(device) == new
