"""``infusync serve`` hands gunicorn our worker hooks (it replaces itself with gunicorn)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskCliRunner


def test_serve_hands_gunicorn_the_hooks(runner: FlaskCliRunner,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr("os.execv", lambda _exe, args: seen.append(args))
    result = runner.invoke(args=["serve", "--port", "8123", "--workers", "1"])
    assert result.exit_code == 0, result.output
    [args] = seen
    assert args[args.index("--config") + 1] == "python:server.cli.gunicorn_hooks"
    assert args[args.index("--bind") + 1] == "127.0.0.1:8123"


def test_serve_runs_threaded_workers_unless_told_otherwise(
        runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr("os.execv", lambda _exe, args: seen.append(args))
    assert runner.invoke(args=["serve"]).exit_code == 0
    assert runner.invoke(args=["serve", "--worker-class", "sync"]).exit_code == 0
    threaded, plain = seen
    assert threaded[threaded.index("--worker-class") + 1] == "gthread"
    assert threaded[threaded.index("--threads") + 1] == "8"
    # gunicorn makes a sync worker with threads a gthread one: sync gets exactly one.
    assert plain[plain.index("--worker-class") + 1] == "sync"
    assert plain[plain.index("--threads") + 1] == "1"
