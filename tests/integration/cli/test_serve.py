"""``infusync serve`` hands gunicorn our worker hooks (it replaces itself with gunicorn), and
a folder for the workers' metrics, emptied of an earlier run's."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def _serve(runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch,
           port: str = "8123") -> tuple[list[str], dict[str, str]]:
    """Run ``infusync serve`` up to its exec; the arguments and environment it would exec."""
    seen: list[tuple[list[str], dict[str, str]]] = []

    def execve(_exe: str, args: list[str], env: dict[str, str]) -> Any:
        seen.append((args, env))

    monkeypatch.setattr("os.execve", execve)
    result = runner.invoke(args=["serve", "--port", port, "--workers", "1"])
    assert result.exit_code == 0, result.output
    [(args, env)] = seen
    return args, env


def test_serve_hands_gunicorn_the_hooks(runner: FlaskCliRunner,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    args, _env = _serve(runner, monkeypatch)
    assert args[args.index("--config") + 1] == "python:server.cli.gunicorn_hooks"
    assert args[args.index("--bind") + 1] == "127.0.0.1:8123"


def test_each_run_starts_with_an_empty_metrics_folder_per_port(
        app: Flask, runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(VARIABLE, raising=False)
    folder = Path(app.instance_path) / "metrics" / "8124"
    folder.mkdir(parents=True)
    (folder / "counter_4242.db").write_bytes(b"an earlier run's worker")

    _args, env = _serve(runner, monkeypatch, port="8124")

    assert Path(env[VARIABLE]) == folder
    assert list(folder.iterdir()) == []
    assert VARIABLE not in os.environ  # this process keeps its values in memory


def test_an_operators_metrics_folder_is_used_and_emptied(
        tmp_path: Path, runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "prometheus"
    folder.mkdir()
    (folder / "histogram_77.db").write_bytes(b"stale")
    (folder / "README").write_text("the operator's own file stays")
    monkeypatch.setenv(VARIABLE, str(folder))

    _args, env = _serve(runner, monkeypatch)

    assert env[VARIABLE] == str(folder)
    assert [p.name for p in folder.iterdir()] == ["README"]


def test_serve_runs_threaded_workers_unless_told_otherwise(
        runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr("os.execve", lambda _exe, args, _env: seen.append(args))
    assert runner.invoke(args=["serve"]).exit_code == 0
    assert runner.invoke(args=["serve", "--worker-class", "sync"]).exit_code == 0
    threaded, plain = seen
    assert threaded[threaded.index("--worker-class") + 1] == "gthread"
    assert threaded[threaded.index("--threads") + 1] == "8"
    # gunicorn makes a sync worker with threads a gthread one: sync gets exactly one.
    assert plain[plain.index("--worker-class") + 1] == "sync"
    assert plain[plain.index("--threads") + 1] == "1"


@pytest.mark.parametrize(("setting", "value", "message"), [
    ("INFUSYNC_WORKER_SWITCH_INTERVAL_MS", "fast",
     "INFUSYNC_WORKER_SWITCH_INTERVAL_MS must be a number of milliseconds"),
    ("INFUSYNC_SERVE_PRELOAD", "maybe",
     "INFUSYNC_SERVE_PRELOAD must be true or false, not 'maybe'"),
])
def test_serve_refuses_a_setting_it_cannot_read_before_gunicorn_starts(
        runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch, setting: str, value: str,
        message: str) -> None:
    started: list[str] = []
    monkeypatch.setattr("os.execve", lambda *args: started.append("gunicorn"))
    monkeypatch.setenv(setting, value)
    result = runner.invoke(args=["serve", "--port", "8125", "--workers", "1"])
    assert result.exit_code == 2
    assert message in result.output
    assert started == []


def test_workers_fork_from_the_preloaded_app_unless_the_operator_says_false(
        runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INFUSYNC_SERVE_PRELOAD", raising=False)
    preloaded, _env = _serve(runner, monkeypatch)
    monkeypatch.setenv("INFUSYNC_SERVE_PRELOAD", "false")
    built_by_each, _env = _serve(runner, monkeypatch)
    assert "--preload" in preloaded
    assert preloaded[-1] == "server:create_app()"  # the app stays gunicorn's last argument
    assert "--preload" not in built_by_each
