"""Latency summaries."""

from __future__ import annotations

from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) with linear interpolation between the closest ranks."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def latency_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50, p95, mean and max of durations given in seconds, in milliseconds."""
    return {"p50_ms": round(percentile(seconds, 0.5) * 1000, 2),
            "p95_ms": round(percentile(seconds, 0.95) * 1000, 2),
            "mean_ms": round(sum(seconds) / len(seconds) * 1000, 2),
            "max_ms": round(max(seconds) * 1000, 2), "n": len(seconds)}
