"""CPU time spent by the server under test and by its PostgreSQL backends, from ``/proc``.

On a machine shared with other work, wall-clock rates move with everyone else's load; the
CPU seconds the rush cost the server and the database do much less, so the sizing rule
(devices per core) is read from them (docs/operations.md, Sizing).
"""

from __future__ import annotations

import os
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def _read(pid: int, name: str) -> str:
    try:
        return (Path("/proc") / str(pid) / name).read_text(errors="replace")
    except OSError:  # gone, or not ours to read
        return ""


def _cmdline(pid: int) -> str:
    return _read(pid, "cmdline").replace("\0", " ")


def _pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def _ppid(pid: int) -> int | None:
    stat = _read(pid, "stat")
    return int(stat.rsplit(")", 1)[1].split()[1]) if stat else None


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process so far (0 when it is gone)."""
    stat = _read(pid, "stat")
    if not stat:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime


def server_pids(port: int) -> list[int]:
    """The gunicorn master serving ``port`` and its workers, each once (a worker's command
    line is its master's, so it matches both ways)."""
    masters = [pid for pid in _pids() if "gunicorn" in (line := _cmdline(pid))
               and f":{port} " in line]
    return list(dict.fromkeys([*masters, *(pid for pid in _pids() if _ppid(pid) in masters)]))


def database_pids(database: str) -> list[int]:
    """PostgreSQL backends connected to ``database`` (on this host)."""
    return [pid for pid in _pids()
            if (line := _cmdline(pid)).startswith("postgres: ") and f" {database} " in line]


def snapshot(port: int, database: str) -> dict[str, dict[int, float]]:
    """CPU seconds so far of the server's processes and the database's backends."""
    return {"server": {pid: cpu_seconds(pid) for pid in server_pids(port)},
            "database": {pid: cpu_seconds(pid) for pid in database_pids(database)}}


def spent(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]
          ) -> dict[str, float]:
    """CPU seconds each side spent between two snapshots (a backend that exited in between
    is missed: the server's pool keeps its connections, so few do)."""
    return {side: round(sum(seconds - before[side].get(pid, 0.0)
                            for pid, seconds in after[side].items()), 2)
            for side in after}
