"""Flags the server raised about this device's documentation, kept until the nurse
acknowledges them.

A push result carries ``flags: [{code, severity, message}]`` (docs/protocol.md, Flags):
each a review item her mutation raised, worded for her ("Pump CS-0031 is recalled: stop
using it and call the pharmacy"). They are stored as local records of kind ``flag`` in the
encrypted store, in the same transaction as the result that carried them, so a flag is
never lost between the answer and the screen; a snapshot never purges them (they are not
synced records). ``infusync-device flags ack`` removes them. A flag's id is
``<seq>.<n>``: the n-th flag of the mutation with that seq, short enough to type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from offline_store.store import Store

FLAG = "flag"
SEVERITIES = ("critical", "warning", "info")  # the order they are shown in


@dataclass(frozen=True)
class Flag:
    """One flag kept on the device."""

    id: str
    code: str
    severity: str
    message: str
    seq: int
    type: str
    visit_id: str | None
    answered_at: str

    @property
    def rank(self) -> tuple[int, int, str]:
        """Critical first, then by the order documented."""
        order = SEVERITIES.index(self.severity) if self.severity in SEVERITIES \
            else len(SEVERITIES)
        return order, self.seq, self.id


def parse_flags(raw: Any) -> list[dict[str, str]]:
    """The well-formed flags of a result (code, severity, message: strings); an old server
    sends none, and anything malformed is skipped rather than failing the push."""
    if not isinstance(raw, list):
        return []
    return [{"code": one["code"], "severity": one["severity"], "message": one["message"]}
            for one in raw if isinstance(one, dict)
            and all(isinstance(one.get(key), str) for key in ("code", "severity", "message"))]


def keep(store: Store, flags: list[dict[str, str]], *, seq: int, type_: str,
         visit_id: str | None, answered_at: str) -> list[Flag]:
    """Store the flags of one result (the caller's transaction makes it atomic with it)."""
    kept = [Flag(f"{seq}.{n}", one["code"], one["severity"], one["message"], seq, type_,
                 visit_id, answered_at) for n, one in enumerate(flags, start=1)]
    for flag in kept:
        store.put(FLAG, flag.id, dict(flag.__dict__))
    return kept


def open_flags(store: Store) -> list[Flag]:
    """The flags not yet acknowledged, critical first."""
    return keep_order([Flag(**record.data) for record in store.all(FLAG)])


def acknowledge(store: Store, ids: list[str]) -> list[str]:
    """Remove the flags named (``all``: every one), or none of them when an id names no
    flag (a typo must not acknowledge the rest unseen); the ids that named none."""
    with store.transaction():
        if ids == ["all"]:
            ids = [flag.id for flag in open_flags(store)]
        unknown = [flag_id for flag_id in ids if store.get(FLAG, flag_id) is None]
        if not unknown:
            for flag_id in ids:
                store.delete(FLAG, flag_id)
        return unknown


def keep_order(flags: list[Flag]) -> list[Flag]:
    """Critical first, then in the order documented."""
    return sorted(flags, key=lambda flag: flag.rank)
