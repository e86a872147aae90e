"""The hooks of ``infusync serve``: the heap is frozen once, after the first push or console
page; a dead worker's live gauges leave /metrics, its counts stay."""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from server.cli.gunicorn_hooks import (
    CONSOLE_PREFIX,
    PUSH_PATH,
    SWITCH_INTERVAL_MS_VARIABLE,
    child_exit,
    post_fork,
    post_request,
    switch_interval_seconds,
)


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


def test_a_worker_lets_a_thread_back_within_half_a_millisecond(
        monkeypatch: pytest.MonkeyPatch) -> None:
    before = sys.getswitchinterval()
    monkeypatch.delenv(SWITCH_INTERVAL_MS_VARIABLE, raising=False)
    try:
        post_fork(None, None)
        assert sys.getswitchinterval() == pytest.approx(0.0005)
        monkeypatch.setenv(SWITCH_INTERVAL_MS_VARIABLE, "2")
        post_fork(None, None)
        assert sys.getswitchinterval() == pytest.approx(0.002)
    finally:
        sys.setswitchinterval(before)


@pytest.mark.parametrize("value", ["0", "-1", "fast", "nan", "101"])
def test_a_switch_interval_that_is_no_duration_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="must be a number of milliseconds above 0"):
        switch_interval_seconds({SWITCH_INTERVAL_MS_VARIABLE: value})
