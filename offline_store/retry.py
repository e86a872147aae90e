"""Retrying a sync step by itself, with exponential backoff and full jitter.

Every step the client retries is safe to repeat: a push whose answer was lost asks for
that batch's results by its id, and resends the persisted batch only when the server does
not know it (a batch id it knows is answered with the results it committed), a pull resends the
cursor it has not yet moved, an enrollment resends the same keys (the server answers a
retry for a short while). Jitter spreads an agency's devices that lost the link together:
without it they all come back at the same instants and the server takes every one of
them at once ("AWS Architecture Blog: Exponential Backoff and Jitter", full jitter).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from offline_store.errors import BatchInProgress, ServerError, TransportError

T = TypeVar("T")
# Statuses a proxy or an overloaded server answers before the request did anything.
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait; ``sleep`` and ``random`` are injectable for tests."""

    attempts: int = 4
    base_seconds: float = 2.0
    cap_seconds: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    random: Callable[[], float] = field(default=random.random, compare=False)

    def delay(self, attempt: int) -> float:
        """Full jitter: anywhere between 0 and the exponential bound for this attempt."""
        bound: float = min(self.cap_seconds, self.base_seconds * 2.0 ** attempt)
        return self.random() * bound


NO_RETRY = RetryPolicy(attempts=1)


def is_retryable(exc: BaseException) -> bool:
    """No response at all, one that says "not now" without having done anything, or a
    batch still being applied (its answer is worth waiting for)."""
    if isinstance(exc, (TransportError, BatchInProgress)):
        return True
    return isinstance(exc, ServerError) and exc.status in RETRYABLE_STATUSES


def retrying(step: Callable[[], T], policy: RetryPolicy) -> T:
    """Run ``step``; on a retryable failure wait and run it again, up to ``attempts``."""
    for attempt in range(policy.attempts - 1):
        try:
            return step()
        except (TransportError, ServerError) as exc:
            if not is_retryable(exc):
                raise
        policy.sleep(policy.delay(attempt))
    return step()
