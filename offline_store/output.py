"""How the command line prints visits, status and sync reports (plain, aligned text)."""

from __future__ import annotations

import json
from datetime import datetime

from offline_store.client import SyncReport
from offline_store.nurse_messages import safe_on_device
from offline_store.push import PushReport
from offline_store.summaries import StatusSummary, VisitLine


def _window(start: datetime | None, end: datetime | None) -> str:
    """``Mon 23 Nov 08:00-09:00`` in the device's local time."""
    if start is None:
        return "(no time)"
    text = start.strftime("%a %d %b %H:%M")
    return text if end is None else f"{text}-{end.strftime('%H:%M')}"


def print_visits(lines: list[VisitLine]) -> None:
    """One line per visit; what is not yet sent is shown so the nurse knows to sync."""
    if not lines:
        print("no visits on this device (run `infusync-device sync`)")
        return
    for line in lines:
        unsent = f"  unsent: {', '.join(line.unsent)}" if line.unsent else ""
        print(f"{line.id}  {_window(line.start, line.end):<22}  {line.status:<11}  "
              f"{line.patient}{unsent}")
        for document in line.documents:
            record = f"  {document.record_id}" if document.record_id else ""
            print(f"    {document.state:<9} {document.label}{record}")


def print_status(summary: StatusSummary) -> None:
    """Pending work, last sync, warnings, then every conflict or rejection with its errors."""
    if not summary.enrolled:
        print("not enrolled (run `infusync-device enroll`)")
    print(f"device     {summary.device_id or '-'}")
    print(f"server     {summary.server_url or '-'}")
    print(f"pending    {summary.pending} mutation(s)")
    print(f"last sync  {summary.last_sync_at or 'never'}")
    if summary.last_failure is not None:
        print(f"last try   {summary.last_failure.at} failed: {summary.last_failure.reason}; "
              f"{safe_on_device(summary.pending)}")
    if summary.enrolled and summary.offline_hours_exceeded:
        print("WARNING    offline longer than the agency allows: sync as soon as possible")
    if summary.retired:
        print("WARNING    this device is retired: it still sends, but receives nothing new")
    if not summary.problems:
        return
    print("needs attention:")
    for result in summary.problems:
        errors = json.dumps(result.errors, ensure_ascii=False) if result.errors else ""
        review = f" review {result.review_item_id}" if result.review_item_id else ""
        status = result.outcome if result.status == "duplicate" else result.status
        label = f" ({summary.labels[result.id]})" if result.id in summary.labels else ""
        print(f"  {status:<9} seq {result.seq:<5} {result.type:<16} "
              f"{result.entity_id}{label}{review} {errors}".rstrip())


def print_sent(push: PushReport) -> None:
    """The line for what was sent."""
    print(f"sent {len(push.results)} mutation(s) in {push.batches} batch(es): "
          f"{push.count('applied')} applied, {push.count('duplicate')} duplicate, "
          f"{push.count('conflict')} conflict, {push.count('rejected')} rejected")


def print_sync(report: SyncReport) -> None:
    """One line for what was sent, one for what was received."""
    push, pull = report.push, report.pull
    print_sent(push)
    snapshot = f" (full snapshot, {pull.purged} purged)" if pull.snapshot else ""
    print(f"received {pull.upserts} update(s), {pull.removals} removal(s){snapshot}")
    if pull.retired:
        print("this device is retired: nothing more is received")
    if push.count("conflict") or push.count("rejected"):
        print("some documentation needs attention: run `infusync-device status`")
