"""The worker hook of ``infusync serve``: the heap is frozen once, after the first push."""

from __future__ import annotations

import gc
from types import SimpleNamespace

from server.cli.gunicorn_hooks import PUSH_PATH, post_request


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
