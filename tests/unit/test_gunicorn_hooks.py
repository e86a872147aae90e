"""The hooks of ``infusync serve``: the heap is frozen once, after the first push or console
page; a dead worker's live gauges leave /metrics, its counts stay."""

from __future__ import annotations

import gc
from pathlib import Path
from types import SimpleNamespace

import pytest

from server.cli.gunicorn_hooks import CONSOLE_PREFIX, PUSH_PATH, child_exit, post_request


def test_the_heap_is_frozen_after_the_first_push_only() -> None:
    worker = SimpleNamespace()
    gc.unfreeze()
    try:
        post_request(worker, None, {"PATH_INFO": "/api/v1/sync/pull"}, None)
        assert gc.get_freeze_count() == 0
        post_request(worker, None, {"PATH_INFO": PUSH_PATH}, None)
        frozen = gc.get_freeze_count()
        assert frozen > 0
        post_request(worker, None, {"PATH_INFO": PUSH_PATH}, None)
        assert gc.get_freeze_count() == frozen  # once per worker
    finally:
        gc.unfreeze()


def test_the_heap_is_frozen_after_the_first_console_page_too() -> None:
    worker = SimpleNamespace()
    gc.unfreeze()
    try:
        post_request(worker, None, {"PATH_INFO": "/healthz"}, None)
        assert gc.get_freeze_count() == 0
        post_request(worker, None, {"PATH_INFO": f"{CONSOLE_PREFIX}board"}, None)
        frozen = gc.get_freeze_count()
        assert frozen > 0
        post_request(worker, None, {"PATH_INFO": PUSH_PATH}, None)
        assert gc.get_freeze_count() == frozen  # once per worker, whichever came first
    finally:
        gc.unfreeze()


def test_a_dead_workers_live_gauges_are_dropped_and_its_counts_kept(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    for name in ("counter_4242.db", "histogram_4242.db", "gauge_livesum_4242.db",
                 "gauge_liveall_4242.db", "gauge_livesum_4343.db"):
        (tmp_path / name).write_bytes(b"")

    child_exit(None, SimpleNamespace(pid=4242))

    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "counter_4242.db", "gauge_livesum_4343.db", "histogram_4242.db"]
