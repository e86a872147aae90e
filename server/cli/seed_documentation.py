"""The demo week as the nurses documented it: their devices' pushes, applied for real.

Every visit that began before "now" is charted (``seed_charting``) and sent by its nurse's
demo device, one batch per nurse and day after her round, through the push service's own phases
(``services.push.apply``: validation, the idempotency ledger, the reconciliation
handlers, the visit re-derived from its events, the encrypted inbox). The visits' status
(completed, or in progress for one under way), their check-in and check-out times, EVV
results and any review item therefore come from the real rules, not from the seed. Only
the envelope is skipped: the seed is the server, with nothing to seal or sign.

Two visits are left for the office to notice once the missed-visits job runs: one the
nurse never documented although her device synced since (missed), and the last visit of
a nurse whose device has been offline since (late: documentation may be on its way).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from server import audit
from server.cli.seed_charting import Chart, DemoId, Step, steps
from server.models import Device, User, Visit
from server.services.push.apply import apply_prepared, prepare
from sync import batches, envelope

# The device syncs a few minutes after the nurse signs her round's last visit.
SYNC_DELAY = timedelta(minutes=3)


def demo_devices(nurses: Sequence[User], now: datetime, demo_id: DemoId) -> list[Device]:
    """One enrolled tablet per demo nurse, which no one can use to sync.

    Its token hash is not hexadecimal, so no presented token ever hashes to it: the demo
    has a published password, but its devices have no usable token at all.
    """
    return [Device(id=demo_id("device", nurse.email), user_id=nurse.id,
                   name=f"Demo tablet {index}", platform="android", app_version="demo",
                   signing_key=_signing_key(nurse.email), token_hash=f"no-token:{nurse.id}",
                   enrolled_at=now - timedelta(days=60))
            for index, nurse in enumerate(nurses, start=1)]


def _signing_key(email: str) -> str:
    """A fixed Ed25519 public key per demo device (the private half is never used)."""
    seed = hashlib.sha256(f"infusync-demo-device:{email}".encode()).digest()
    return envelope.ed25519_public_key_to_b64u(
        Ed25519PrivateKey.from_private_bytes(seed).public_key())


@dataclass
class Week:
    """What the seed hands the documenting phase, and the counts it gives back."""

    session: Session
    devices: dict[uuid.UUID, Device]  # by nurse
    now: datetime
    grace: timedelta  # MISSED_VISIT_GRACE_MINUTES: visits older than this are judged
    zone: ZoneInfo
    data_key: bytes
    demo_id: DemoId
    seqs: dict[uuid.UUID, int] = field(default_factory=dict)  # last seq sent, by device
    pushes: int = 0


def document(week: Week, charts: Sequence[Chart]) -> dict[str, int]:
    """Push each nurse's documentation of each day's begun visits; return the counts."""
    ordered = sorted((c for c in charts if c.visit.scheduled_start <= week.now),
                     key=lambda c: (c.visit.scheduled_start, str(c.visit.id)))
    left = _left_for_the_office([c.visit for c in ordered], week)
    rounds: dict[tuple[uuid.UUID, date], list[Step]] = {}
    for chart in ordered:
        if chart.visit.nurse_id is None or left.undocumented(chart.visit):
            continue
        day = chart.visit.scheduled_start.astimezone(week.zone).date()
        rounds.setdefault((chart.visit.nurse_id, day), []).extend(
            step for step in steps(chart, week.zone, week.demo_id) if step.at <= week.now)
    for (nurse_id, day), done in sorted(rounds.items(), key=lambda kv: (kv[0][1], kv[1][-1].at)):
        if done:
            _send(week, week.devices[nurse_id], day, done)
    return {"pushes": week.pushes}


@dataclass(frozen=True)
class LeftUndocumented:
    """The missed visit, and the nurse whose device is offline since her late visit."""

    missed: Visit | None
    late: Visit | None

    def undocumented(self, visit: Visit) -> bool:
        """Whether the demo leaves this visit without documentation."""
        if visit is self.missed:
            return True
        late = self.late
        return (late is not None and visit.nurse_id == late.nurse_id
                and visit.scheduled_start >= late.scheduled_start)


def _left_for_the_office(visits: Sequence[Visit], week: Week) -> LeftUndocumented:
    """The latest visit that ended past the grace (late), and the first of three local
    days ago by another nurse (missed): the missed-visits job will judge both."""
    judged = [v for v in visits if v.scheduled_end <= week.now - week.grace]
    late = max(judged, key=lambda v: (v.scheduled_end, str(v.id)), default=None)
    three_days_ago = week.now.astimezone(week.zone).date() - timedelta(days=3)
    missed = next((v for v in judged
                   if v.scheduled_start.astimezone(week.zone).date() == three_days_ago
                   and late is not None and v.nurse_id != late.nurse_id), None)
    return LeftUndocumented(missed, late)


def _send(week: Week, device: Device, day: date, done: list[Step]) -> None:
    """A day's documentation as one push, once her round is over (or at "now").

    The demo tablets sync once a round: offline-first, as in homes without coverage.
    """
    received = min(max(step.at for step in done) + SYNC_DELAY, week.now)
    first = week.seqs.get(device.id, 0) + 1
    raws = [{**step.mutation, "seq": first + n} for n, step in enumerate(done)]
    week.seqs[device.id] = first + len(raws) - 1
    _push(week, device, week.demo_id("batch", f"{device.id}:{day}"), raws, received)
    week.pushes += 1


def _push(week: Week, device: Device, batch_id: uuid.UUID, raws: list[dict[str, Any]],
          received: datetime) -> None:
    """Apply one batch as ``services.push`` does once the envelope is open.

    The push's own receive step also checks the token and opens the envelope; the seed
    has neither, so it claims the batch and applies it with the same functions.
    """
    clock_text = received.astimezone(week.zone).isoformat()
    plaintext = json.dumps({"schema_version": 1, "device_clock": clock_text,
                            "app_version": "demo", "mutations": raws},
                           sort_keys=True).encode()
    record = batches.SyncBatch(
        device_id=device.id, batch_id=batch_id, plaintext_hash=batches.plaintext_hash(plaintext),
        received_at=received, device_clock=clock_text, clock_skew_s=0.0, clock_flagged=False,
        mutation_count=len(raws))
    batches.claim(week.session, record)
    actor = audit.Actor(device.user_id, None, None, device.id)
    results = apply_prepared(week.session, device, record,
                             prepare(raws, device.id, week.data_key), actor, received,
                             week.zone).results
    refused = [result for result in results if result["status"] != "applied"]
    if refused:
        raise RuntimeError(f"demo documentation was not applied: {refused}")
    device.last_push_at = device.last_seen_at = received
    batches.store_response(week.session, record, {
        "batch_id": str(batch_id), "results": results, "server_time": received.isoformat()})

