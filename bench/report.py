"""The run's JSON summary, its Markdown table, and the files they are written to."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench import network

PUSH_RATIO_TARGET = 0.3  # issue 13: up from 0.2
PULL_RATIO_TARGET = 1.25
SNAPSHOT_TARGET_MS = 300.0
BACKENDS = ("postgresql", "sqlite")
RUSH_DEVICES, RUSH_WALL_S, RUSH_P99_MS = 1000, 60.0, 2000.0  # issue 13: the morning rush


def summary(results: dict[str, Any]) -> dict[str, Any]:
    """The flat numbers a reader (or CI) compares between runs, with the targets met."""
    push, pull, store = results["push"], results["pull"], results["store"]
    out: dict[str, Any] = {"mode": results["mode"]}
    for backend in BACKENDS:
        out[f"push_per_s_{backend}"] = push[backend]["push"]["per_s"]
        out[f"push_ceiling_per_s_{backend}"] = push[backend]["ceiling"]["per_s"]
        out[f"push_ceiling_ratio_{backend}"] = push[backend]["ratio"]
    small, large = pull["small"], pull["large"]
    out.update({
        "visits_small": small["visits"], "visits_large": large["visits"],
        "pull_p50_ms_small": small["delta"]["p50_ms"],
        "pull_p50_ms_large": large["delta"]["p50_ms"],
        "pull_p95_ms_small": small["delta"]["p95_ms"],
        "pull_p95_ms_large": large["delta"]["p95_ms"],
        "pull_large_small_ratio": pull["delta_p50_ratio"],
        "pull_bytes": large["delta"]["wire_bytes"],
        "snapshot_ms": large["snapshot"]["p50_ms"], "snapshot_p95_ms": large["snapshot"]["p95_ms"],
        "snapshot_ms_small": small["snapshot"]["p50_ms"],
        "snapshot_large_small_ratio": pull["snapshot_p50_ratio"],
        "snapshot_bytes": large["snapshot"]["wire_bytes"],
        "store_records_per_s": store["records_per_s"],
    })
    for backend in BACKENDS:
        scrape = results["metrics"][backend]
        out[f"metrics_scrape_p50_ms_{backend}"] = scrape["scrape"]["p50_ms"]
        out[f"metrics_scrape_p95_ms_{backend}"] = scrape["scrape"]["p95_ms"]
    wire = results["wire"]["kinds"]
    for kind, sizes in wire.items():
        name = kind.replace(".", "_")
        out[f"wire_bytes_plain_{name}"] = sizes["plain_per_mutation"]
        out[f"wire_bytes_zlib_{name}"] = sizes["zlib_per_mutation"]
    out["target_wire_vitals"] = results["wire"]["vitals_met"]
    for count, size in results["rush"]["sizes"].items():
        out[f"rush_{count}_wall_s"] = size["wall_s"]
        out[f"rush_{count}_push_p99_ms"] = size["push"]["p99_ms"]
        out[f"rush_{count}_errors"] = size["errors"]
        out[f"rush_{count}_cpu_ms_per_device"] = size["cpu_ms_per_device"]
    largest = results["rush"]["sizes"][max(results["rush"]["sizes"], key=int)]
    out["target_rush"] = (int(largest["devices"]) >= RUSH_DEVICES
                          and largest["wall_s"] <= RUSH_WALL_S and largest["errors"] == 0
                          and max(largest["push"]["p99_ms"], largest["pull"]["p99_ms"])
                          < RUSH_P99_MS)
    out.update(_console_summary(results["console"]))
    out.update(targets(out))
    return out


def _console_summary(console: dict[str, Any]) -> dict[str, Any]:
    """Board and review queue p50/p95 per backend, and whether each met issue 14's goal."""
    out: dict[str, Any] = {}
    for backend, run in console.items():
        for page in ("board", "review"):
            out[f"console_{page}_p50_ms_{backend}"] = run[page]["p50_ms"]
            out[f"console_{page}_p95_ms_{backend}"] = run[page]["p95_ms"]
            out[f"target_console_{page}_{backend}"] = run[page]["goal_met"]
    return out


def targets(numbers: dict[str, Any]) -> dict[str, bool]:
    """Whether each target of the issue is met."""
    return {
        "target_push_postgresql": numbers["push_ceiling_ratio_postgresql"] >= PUSH_RATIO_TARGET,
        "target_push_sqlite": numbers["push_ceiling_ratio_sqlite"] >= PUSH_RATIO_TARGET,
        "target_pull_ratio": numbers["pull_large_small_ratio"] <= PULL_RATIO_TARGET,
        "target_snapshot": numbers["snapshot_ms"] < SNAPSHOT_TARGET_MS,
    }


def _console_rows(console: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows = []
    for backend, run in console.items():
        rows_in = run["rows"]
        sizes = (f"{rows_in['visits']:,} visits, {rows_in['review_items']:,} review items "
                 f"({rows_in['open_items']:,} open)")
        for page, what in (("board", f"board of a day of {rows_in['day_visits']} visits"),
                           ("review", "review queue, first page")):
            m = run[page]
            rows.append((f"console {what}, {backend}: p50 / p95 ({sizes}; load average "
                         f"{m['load_after']} after)",
                         f"{m['p50_ms']:.1f} / {m['p95_ms']:.1f} ms",
                         f"p95 < {m['goal_ms']:.0f} ms", _met(m["goal_met"])))
    return rows


def _met(flag: bool) -> str:
    return "yes" if flag else "**no**"


def _push_rows(push: dict[str, Any], s: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows = []
    for backend in BACKENDS:
        run = push[backend]
        latency = run["push"]["batch_latency"]
        rows += [
            (f"push, {backend}: mutations applied/s ({run['devices']} devices, "
             f"{run['workers']} workers, {run['push']['mutations']} mutations)",
             f"{run['push']['per_s']:,.0f}", "", ""),
            (f"push, {backend}: batch of {run['batch_size']} p50 / p95",
             f"{latency['p50_ms']:,.0f} / {latency['p95_ms']:,.0f} ms", "", ""),
            (f"ceiling, {backend}: Core insert of the same vital_signs rows/s",
             f"{run['ceiling']['per_s']:,.0f}", "", ""),
            (f"push / ceiling, {backend}", f"{run['ratio']:.3f}", f">= {PUSH_RATIO_TARGET}",
             _met(s[f"target_push_{backend}"])),
        ]
    return rows


def _pull_rows(pull: dict[str, Any], s: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows = []
    for name in ("small", "large"):
        size = pull[name]
        for kind in ("delta", "snapshot"):
            m = size[kind]
            rows.append((f"{kind} pull, {size['visits']:,} visits: p50 / p95 "
                         f"({m['changes']} changes, {m['pages']} page(s))",
                         f"{m['p50_ms']:.1f} / {m['p95_ms']:.1f} ms", "", ""))
            rows.append((f"{kind} pull, {size['visits']:,} visits: bytes gzip / JSON",
                         f"{m['wire_bytes']:,} / {m['json_bytes']:,}", "", ""))
    rows += [
        ("delta pull p50, large / small", f"{pull['delta_p50_ratio']:.3f}",
         f"<= {PULL_RATIO_TARGET}", _met(s["target_pull_ratio"])),
        ("snapshot p50, large / small", f"{pull['snapshot_p50_ratio']:.3f}", "", ""),
        (f"initial snapshot, {pull['caseload_patients']}-patient caseload, "
         f"{pull['large']['visits']:,} visits (p50)", f"{s['snapshot_ms']:.1f} ms",
         f"< {SNAPSHOT_TARGET_MS:.0f} ms", _met(s["target_snapshot"])),
    ]
    return rows


def _metrics_rows(metrics: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows = []
    for backend in BACKENDS:
        run, counts = metrics[backend], metrics[backend]["rows"]
        rows += [
            (f"/metrics database gauges, {backend}: p50 / p95 ({counts['job_runs']:,} job runs, "
             f"{counts['review_items']:,} review items, {counts['devices']:,} devices)",
             f"{run['scrape']['p50_ms']:.1f} / {run['scrape']['p95_ms']:.1f} ms", "", ""),
            (f"counting every job run instead, {backend} (not done)",
             f"{run['count_every_job_run_ms']:.1f} ms", "", ""),
        ]
    return rows


def _wire_rows(wire: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows = []
    for kind, sizes in wire["kinds"].items():
        goal = kind == "vitals.record"
        rows.append((f"push body bytes per {kind}, batch of {wire['batch']}: plain / zlib",
                     f"{sizes['plain_per_mutation']:,.0f} / {sizes['zlib_per_mutation']:,.0f}",
                     f"<= {wire['goal_vitals_bytes']} (zlib)" if goal else "",
                     _met(wire["vitals_met"]) if goal else ""))
    return rows


def _rush_rows(rush: dict[str, Any], s: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows = []
    for count, size in rush["sizes"].items():
        push, pull, locks = size["push"], size["pull"], size["lock_waits"]
        rows += [
            (f"rush, {count} devices ({rush['workers']} workers, PostgreSQL): whole rush; "
             f"errors", f"{size['wall_s']:,.1f} s; {size['errors']}", "", ""),
            (f"rush, {count} devices: push p50 / p95 / p99 ({size['mutations'] // size['devices']}"
             " mutations each)",
             f"{push['p50_ms']:,.0f} / {push['p95_ms']:,.0f} / {push['p99_ms']:,.0f} ms", "", ""),
            (f"rush, {count} devices: pull p50 / p95 / p99",
             f"{pull['p50_ms']:,.0f} / {pull['p95_ms']:,.0f} / {pull['p99_ms']:,.0f} ms", "", ""),
            (f"rush, {count} devices: mutations applied/s; driver CPU (share of the cores)",
             f"{size['applied_per_s']:,.0f}; {size['driver_cpu_s']:.1f} s "
             f"({size['driver_cpu_share']:.0%})", "", ""),
            (f"rush, {count} devices: server + database CPU per device; devices per core "
             "per minute at that cost (the sizing rule)",
             f"{size['server_cpu_s'] * 1000 / size['devices']:,.0f} + "
             f"{size['database_cpu_s'] * 1000 / size['devices']:,.0f} ms; "
             f"{size['devices_per_core_minute']}", "", ""),
            (f"rush, {count} devices: backends running a statement, mean; share of them "
             "waiting on a lock (on the audit chain's head)",
             f"{locks['active_backends_mean']:.1f}; {locks['lock_waiting_share']:.0%} "
             f"({locks['waiting_on_audit_chain_head_share']:.0%})", "", ""),
        ]
    rows.append(("morning rush goal", "", f"{RUSH_DEVICES:,} devices <= {RUSH_WALL_S:.0f} s, "
                 f"p99 < {RUSH_P99_MS / 1000:.0f} s, 0 errors", _met(s["target_rush"])))
    return rows


def table(results: dict[str, Any]) -> str:
    """The Markdown report: machine, then one row per number."""
    s, m = results["summary"], results["machine"]
    postgresql = " ".join(str(m["postgresql"]).split()[:2])  # "PostgreSQL 15.20"
    store = results["store"]
    rows = [*_push_rows(results["push"], s), *_pull_rows(results["pull"], s),
            ("device store: records sealed and written/s", f"{store['records_per_s']:,.0f}",
             "", ""),
            ("device store: records read and opened/s", f"{store['read_records_per_s']:,.0f}",
             "", ""),
            *_metrics_rows(results["metrics"]),
            *_console_rows(results["console"]),
            *_rush_rows(results["rush"], s),
            *_wire_rows(results["wire"])]
    lines = [f"# infusync benchmark ({results['mode']}, {results['started_at']})", "",
             f"{m['nproc']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB; "
             f"{postgresql}; SQLite {m['sqlite']}; Python {m['python']}. "
             f"Load average before / after: {results['load_before']} / {results['load_after']}. "
             f"Run took {results['duration_s']:.0f} s. Pull times: {results['pull']['method']}.",
             "", "| metric | value | target | met |", "|---|---:|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    lines += network.rows(results.get("network"))
    return "\n".join(lines) + "\n"


def write(folder: Path, name: str, results: dict[str, Any]) -> tuple[Path, Path]:
    """``<name>.json`` and ``<name>.md`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    data, markdown = folder / f"{name}.json", folder / f"{name}.md"
    data.write_text(json.dumps(results, indent=2) + "\n")
    markdown.write_text(table(results))
    return data, markdown
