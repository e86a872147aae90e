"""A real ``infusync serve`` (gunicorn) process on a free loopback port.

The very gunicorn command line ``infusync serve`` runs (``server.cli.serve``), started
directly: ``infusync serve`` first loads the whole app in a process of its own to check
that the database is migrated, a second or more of CPU per server that the benchmark, which
migrated the database itself, does not need.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from server.cli.serve import (
    DEFAULT_THREADS,
    DEFAULT_TIMEOUT_SECONDS,
    gunicorn_args,
    metrics_directory,
)
from server.metrics.scrape import MULTIPROC_VARIABLE

BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("infusync serve exited early")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1):  # noqa: S310 - loopback
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("infusync serve did not come up in 60 s")


@contextmanager
def serve(url: str, instance: Path, workers: int,
          threads: int = DEFAULT_THREADS) -> Iterator[str]:
    """Run ``infusync serve`` on ``url`` with keys from ``instance`` (``workers`` x
    ``threads``); yield its base URL."""
    port = free_port()
    # Rate limits off: the pushing devices are the load under test (README, Benchmarks).
    env = {**os.environ, "INFUSYNC_DATABASE_URL": url, "INFUSYNC_INSTANCE_PATH": str(instance),
           "INFUSYNC_RATE_LIMIT_ENABLED": "false",
           MULTIPROC_VARIABLE: str(metrics_directory(str(instance), port))}
    # What ``infusync serve`` sets too: a pooled connection for each thread.
    env.setdefault("INFUSYNC_DATABASE_POOL_SIZE", str(threads))
    args = gunicorn_args("127.0.0.1", port, workers, threads, "gthread",
                         DEFAULT_TIMEOUT_SECONDS)
    with (instance / "serve.log").open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
            args, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(base, process)
            yield base
        finally:
            # gunicorn's quick shutdown: the measured requests are over, and a graceful
            # one waits for the workers' idle keep-alive connections (seconds per server).
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)
