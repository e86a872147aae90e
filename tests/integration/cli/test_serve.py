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
