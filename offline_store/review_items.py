"""Review items about this nurse's documentation, and how the office resolved them.

They arrive in the pull as records of type ``review_item`` (protocol: "Review items") and
are stored like any synced record. ``status`` lists the open ones and those resolved in
the last 14 days ("resolved by <name> (<role>): accepted as documented — <comment>"); a
conflict whose item was resolved no longer counts as needing attention (``unresolved``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from offline_store.clock import parse_rfc3339
from offline_store.outbox import Outbox, Result
from offline_store.store import Store

REVIEW_ITEM = "review_item"
RECENT = timedelta(days=14)
# What the office did, in a nurse's words (the protocol's resolutions).
RESOLUTIONS = {"accept": "accepted as documented", "amend": "corrected by the reviewer",
               "reassign_documentation": "moved to the visit it belongs to",
               "entered_in_error": "marked as entered in error"}
# What a mutation documented, when its local document is gone (its visit left the device).
DOCUMENTED = {"visit.check_in": "check-in", "visit.check_out": "check-out",
              "vitals.record": "vitals", "infusion.record": "infusion", "visit.note": "note",
              "visit.sign": "signature", "visit.missed": "missed", "record.amend": "amendment"}
# The commonest doubts, in her words; any other kind is shown as its name.
KINDS = {
    "documentation_on_reassigned_visit": "documented on a visit reassigned while you were "
                                         "offline",
    "documentation_on_rescheduled_visit": "documented on a visit rescheduled while you were "
                                          "offline",
    "documentation_on_cancelled_visit": "documented on a visit cancelled while you were "
                                        "offline",
    "documentation_after_signature": "documented after the visit was signed",
    "evv_exception": "check-in or check-out location not verified",
}


@dataclass(frozen=True)
class ReviewLine:
    """One review item as ``status`` shows it."""

    id: str
    about: str  # what she documented, e.g. "check-in on visit …"
    what: str  # the doubt, in her words
    critical: bool
    open: bool
    resolved_at: datetime | None
    resolution: str | None
    resolved_by: Mapping[str, Any] | None
    note: str | None

    def outcome(self, zone: tzinfo | None = None) -> str:
        """``resolved by Quinn (qc) on 2026-11-23 14:05: accepted as documented — …``."""
        who = (f"resolved by {self.resolved_by.get('name')} ({self.resolved_by.get('role')})"
               if self.resolved_by else "closed by the agency's system")
        when = f" on {self.resolved_at.astimezone(zone):%Y-%m-%d %H:%M}" \
            if self.resolved_at else ""
        how = RESOLUTIONS.get(str(self.resolution), str(self.resolution or "resolved"))
        note = f" — {self.note}" if self.note else ""
        return f"{who}{when}: {how}{note}"


@dataclass(frozen=True)
class ReviewSummary:
    """Her open items (critical first) and those resolved lately (newest first)."""

    open: tuple[ReviewLine, ...]
    resolved: tuple[ReviewLine, ...]


def _moment(value: Any) -> datetime | None:
    try:
        return parse_rfc3339(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _about(data: Mapping[str, Any], labels: Mapping[str, str],
           types: Mapping[str, str]) -> str:
    """What she documented: the local label, else the type of the mutation's stored result
    (answered documents of a visit that left the device are pruned; results are kept)."""
    mutation_id = str(data.get("mutation_id"))
    kind = types.get(mutation_id)
    label = labels.get(mutation_id) or (kind and DOCUMENTED.get(kind, kind)) or "documentation"
    return f"{label} on visit {data.get('visit_id')}"


def _line(data: Mapping[str, Any], labels: Mapping[str, str],
          types: Mapping[str, str]) -> ReviewLine:
    kind = str(data.get("kind"))
    resolved_by = data.get("resolved_by")
    return ReviewLine(
        id=str(data.get("id")), about=_about(data, labels, types),
        what=KINDS.get(kind, kind.replace("_", " ")), critical=data.get("severity") == "critical",
        open=data.get("status") != "resolved", resolved_at=_moment(data.get("resolved_at")),
        resolution=data.get("resolution"),
        resolved_by=resolved_by if isinstance(resolved_by, dict) else None,
        note=data.get("note") if isinstance(data.get("note"), str) else None)


def review_summary(store: Store, now: datetime, labels: Mapping[str, str]) -> ReviewSummary:
    """Her items: open ones, and those resolved within ``RECENT`` of ``now``.

    ``labels`` maps mutation ids to what they documented (``StatusSummary.labels``).
    """
    types = {result.id: result.type for result in Outbox(store).results()}
    lines = [_line(record.data, labels, types) for record in store.all(REVIEW_ITEM)]
    never = datetime.min.replace(tzinfo=UTC)
    opened = sorted((line for line in lines if line.open),
                    key=lambda line: (not line.critical, line.id))
    resolved = sorted((line for line in lines if not line.open and line.resolved_at
                       and now - line.resolved_at <= RECENT),
                      key=lambda line: line.resolved_at or never, reverse=True)
    return ReviewSummary(tuple(opened), tuple(resolved))


def unresolved(store: Store, problems: Iterable[Result]) -> list[Result]:
    """``problems`` without the conflicts the office has resolved: the item the result named
    is resolved, and no other item about the same mutation is still open."""
    items = {record.id: record.data for record in store.all(REVIEW_ITEM)}
    still_open = {str(data.get("mutation_id")) for data in items.values()
                  if data.get("status") != "resolved"}

    def settled(result: Result) -> bool:
        item = items.get(result.review_item_id or "")
        return (item is not None and item.get("status") == "resolved"
                and result.id not in still_open)

    return [result for result in problems if not settled(result)]


def print_review_summary(summary: ReviewSummary, zone: tzinfo | None = None) -> None:
    """The section of ``status`` about review items (nothing when there are none)."""
    if not (summary.open or summary.resolved):
        return
    print("review of your documentation:")
    for line in summary.open:
        flag = "CRITICAL: " if line.critical else ""
        print(f"  open      {line.about}: {flag}{line.what}")
    for line in summary.resolved:
        print(f"  resolved  {line.about}: {line.what}")
        print(f"            {line.outcome(zone)}")
