"""The device's review item for sequence numbers that never arrived (``seq_gap``).

Missing = the device's highest seq - how many ledger rows it has. Every push ends with this
check, in its transaction, and nothing else writes the ledger.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server import review_items
from server.models import Device, ReviewItem, ReviewStatus
from sync.bulk import is_postgresql
from sync.ledger import LedgerEntry

_HEALED = "Every sequence number has arrived."


def _gap_item(session: Session, device: Device) -> ReviewItem | None:
    """The device's open seq_gap item, or else its latest one (None: it never had one)."""
    return session.scalars(select(ReviewItem).where(
        ReviewItem.device_id == device.id, ReviewItem.kind == "seq_gap").order_by(
        (ReviewItem.status == ReviewStatus.OPEN).desc(), ReviewItem.created_at.desc(),
        ReviewItem.id).limit(1)).first()


def _missing_before(item: ReviewItem | None, previous: int) -> int | None:
    """How many seqs were missing before this batch, as the last check left it, or None
    when that cannot be told from the review items (then the ledger is counted).

    After a check either nothing is missing, or the open item says how many and up to which
    highest seq. No item ever, or a latest one the check itself healed, means nothing was
    missing; one a reviewer closed (accepted) says nothing of what came since.
    """
    if item is None:
        return 0
    if item.status is ReviewStatus.OPEN:
        details = item.details or {}
        missing, highest = details.get("missing"), details.get("highest_seq")
        if type(missing) is int and highest == previous:
            return missing
        return None
    if item.status is ReviewStatus.RESOLVED and item.resolution == _HEALED \
            and item.resolved_by is None and "resolved_with" not in (item.details or {}):
        return 0
    return None


def _from_batch(session: Session, device: Device, found: ReviewItem | None,
                claimed_seqs: set[int]) -> tuple[int | None, int | None]:
    """(missing, highest) worked out from this batch's seqs and the last check's item:
    the highest seqs through the (device, seq) unique index tell the previous high-water
    mark, so a push does not count every row the device ever sent. Missing is None when
    the items cannot tell."""
    top = list(session.scalars(select(LedgerEntry.seq).where(
        LedgerEntry.device_id == device.id).order_by(LedgerEntry.seq.desc()).limit(
        len(claimed_seqs) + 1)))
    highest = top[0] if top else None
    previous = next((seq for seq in top if seq not in claimed_seqs), 0)
    before = _missing_before(found, previous)
    if before is None:
        return None, highest
    return before + (highest or 0) - previous - len(claimed_seqs), highest


def _counted(session: Session, device: Device) -> tuple[int, int | None]:
    """(missing, highest) by counting the device's ledger rows."""
    highest, count = session.execute(select(func.max(LedgerEntry.seq), func.count()).where(
        LedgerEntry.device_id == device.id)).one()
    return (highest or 0) - count, highest


def _record(session: Session, device: Device, item: ReviewItem | None, now: datetime,
            missing: int, highest: int | None) -> None:
    """Open, update or heal the open item so that it says what is missing."""
    if missing > 0 and item is None:
        # No dedupe key: a gap healed and a later one opened are two items.
        review_items.open_item(
            session, "seq_gap", f"{missing} mutation(s) from this device have not arrived: "
                                "documentation may be missing on the device.",
            dedupe_key=None, now=now, device_id=device.id,
            details={"missing": missing, "highest_seq": highest})
    elif missing > 0 and item is not None:
        item.details = {**item.details, "missing": missing, "highest_seq": highest}
    elif item is not None:
        item.status, item.resolved_at = ReviewStatus.RESOLVED, now
        item.resolution = _HEALED


def check_seq_gap(session: Session, device: Device, now: datetime,
                  claimed_seqs: set[int] | None = None) -> int:
    """Open (or heal) the device's review item for sequence numbers that never arrived, and
    return how many the server lacks now (0: none).

    With the seqs this batch wrote to the ledger (``claimed_seqs``) the count comes from
    the batch alone (``_from_batch``); counting the ledger stays the fallback. The push
    response says how many are missing (``missing_seqs``): after a restore from a backup,
    the device sends again what it keeps of what the old server acknowledged
    (``offline_store.sent``). Returned from here, what the open item now says, rather than
    read back from the item: that was a second read of it on every push.
    """
    if claimed_seqs is not None and is_postgresql(session):
        # Two pushes of one device at once: the second waits here until the first commits,
        # then reads its ledger rows and item (each statement sees what committed before it
        # began), so that neither works from a state the other is changing. (Counting
        # needed no such lock: the next push's count healed a wrong item; an item worked
        # out from the previous one would keep it.)
        session.execute(select(Device.id).where(Device.id == device.id).with_for_update())
    found = _gap_item(session, device)
    item = found if found is not None and found.status is ReviewStatus.OPEN else None
    missing, highest = (None, None) if claimed_seqs is None else \
        _from_batch(session, device, found, claimed_seqs)
    if missing is None or missing < 0:  # unknown, or the items disagree with the ledger
        missing, highest = _counted(session, device)
    _record(session, device, item, now, missing, highest)
    return max(missing, 0)
