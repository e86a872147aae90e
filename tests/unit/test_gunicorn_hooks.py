"""The hooks of ``infusync serve``: the heap is frozen once, after the first push or console
page; a dead worker's live gauges leave /metrics, its counts stay; a worker forked from the
preloaded app opens database connections of its own."""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask

from server.cli.gunicorn_hooks import (
    CONSOLE_PREFIX,
    PRELOAD_VARIABLE,
    PUSH_PATH,
    SWITCH_INTERVAL_MS_VARIABLE,
    child_exit,
    post_fork,
    post_request,
    switch_interval_seconds,
    wants_preload,
)
from server.extensions import db


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


def test_a_preloaded_worker_gets_an_empty_pool_and_leaves_the_arbiters_connection_open(
        app: Flask) -> None:
    with app.app_context():
        engine = db.engine
        with engine.connect() as connection:  # the arbiter's, back in its pool after
            inherited = connection.connection.dbapi_connection
        assert engine.pool.checkedin() == 1
    arbiter = SimpleNamespace(app=SimpleNamespace(callable=app))

    post_fork(arbiter, SimpleNamespace())

    assert engine.pool.checkedin() == 0  # the worker opens its own connections
    assert inherited is not None
    try:
        cursor = inherited.cursor()  # not closed: the arbiter may still be using it
        cursor.execute("SELECT 1")
        assert cursor.fetchall() == [(1,)]
        with app.app_context(), engine.connect() as connection:
            assert connection.connection.dbapi_connection is not inherited
    finally:
        inherited.close()  # the arbiter's to close; in this one process, the test's


def test_a_worker_that_builds_its_own_app_has_nothing_to_forget() -> None:
    post_fork(SimpleNamespace(app=SimpleNamespace(callable=None)), SimpleNamespace())


@pytest.mark.parametrize(("value", "preload"), [
    ("", True), ("true", True), (" On ", True), ("1", True),
    ("false", False), ("no", False), ("0", False)])
def test_workers_fork_from_a_preloaded_app_unless_told_not_to(value: str, preload: bool) -> None:
    assert wants_preload({PRELOAD_VARIABLE: value}) is preload
    assert wants_preload({}) is True


def test_a_preload_setting_that_is_no_yes_or_no_is_refused() -> None:
    with pytest.raises(ValueError, match="_PRELOAD must be true or false, not 'maybe'"):
        wants_preload({PRELOAD_VARIABLE: "maybe"})


def test_gunicorn_reads_only_our_hooks_from_the_module_as_settings() -> None:
    # gunicorn takes every module-level name of a -c python: module that matches a setting
    # as that setting: a helper named like one ("preload_app") broke `serve`.
    from gunicorn.config import KNOWN_SETTINGS

    from server.cli import gunicorn_hooks

    settings = {setting.name for setting in KNOWN_SETTINGS}
    assert settings & set(vars(gunicorn_hooks)) == {
        "post_request", "child_exit", "post_fork", "when_ready"}
