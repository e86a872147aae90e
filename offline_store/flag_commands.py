"""What the nurse sees of flags: printed at ``sync``, listed in ``status`` and ``flags``
until ``infusync-device flags ack <id>...|all`` — critical first, in the server's words.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, TypeAlias

from offline_store.errors import OfflineStoreError
from offline_store.flags import Flag, acknowledge, keep_order, open_flags
from offline_store.outbox import Result
from offline_store.store import Store
from offline_store.summaries import short_name

if TYPE_CHECKING:
    from offline_store.cli import Context

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
ACK_HINT = "acknowledge with `infusync-device flags ack ID` (or `... ack all`)"


def _patient(store: Store, visit_id: str | None) -> str:
    """The patient's short name when the visit is still on the device."""
    visit = store.get("visit", visit_id) if visit_id else None
    if visit is None:
        return ""
    patient = store.get("patient", str(visit.data.get("patient_id")))
    return short_name(None if patient is None else patient.data)


def flag_line(store: Store, flag: Flag) -> str:
    """``12.1  CRITICAL  A. Lovelace  Pump CS-0031 is recalled: ...``."""
    who = _patient(store, flag.visit_id)
    return f"  {flag.id:<7} {flag.severity.upper():<8}  {who + '  ' if who else ''}{flag.message}"


def print_new_flags(store: Store, results: list[Result]) -> None:
    """After a sync: what the server flagged in this push, critical first."""
    new = keep_order([flag for flag in open_flags(store)
                      if flag.seq in {result.seq for result in results}])
    if not new:
        return
    print(f"the server flagged {len(new)} thing(s) to act on:")
    for flag in new:
        print(flag_line(store, flag))
    print(ACK_HINT)


def print_open_flags(store: Store) -> None:
    """The ``status`` section: every flag not yet acknowledged."""
    waiting = open_flags(store)
    if not waiting:
        return
    print(f"flags ({ACK_HINT}):")
    for flag in waiting:
        print(flag_line(store, flag))


def cmd_flags(ctx: Context) -> None:
    """List the flags not yet acknowledged, or acknowledge some."""
    with ctx.open() as store:
        if ctx.args.action == "ack":
            if not ctx.args.ids:
                raise OfflineStoreError("name the flags to acknowledge (or `all`)")
            unknown = acknowledge(store, ctx.args.ids)
            if unknown:
                raise OfflineStoreError(f"no such flag: {', '.join(unknown)}")
            print("acknowledged")
            return
        if not open_flags(store):
            print("no flags to act on")
            return
        for flag in open_flags(store):
            print(flag_line(store, flag))


def add_flag_commands(sub: Subparsers) -> None:
    """``infusync-device flags [ack ID...|all]``."""
    parser = sub.add_parser("flags", help="what the server flagged, until acknowledged")
    parser.add_argument("action", nargs="?", choices=("list", "ack"), default="list")
    parser.add_argument("ids", nargs="*", metavar="ID", help="flag ids, or `all`")
    parser.set_defaults(handler=cmd_flags)
