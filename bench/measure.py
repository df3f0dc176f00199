"""Small measuring helpers: timers, percentiles, result rows."""

import statistics
import time
from collections.abc import Callable
from typing import Any


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def throughput_row(
    name: str, count: int, ours_s: float, baseline_s: float | None, scale: str
) -> dict[str, Any]:
    value = count / ours_s
    baseline = None if baseline_s is None else count / baseline_s
    return {
        "name": name,
        "value": round(value, 1),
        "unit": "events/s",
        "baseline": None if baseline is None else round(baseline, 1),
        "ratio": None if baseline is None else round(value / baseline, 3),
        "scale": scale,
    }


def latency_row(
    name: str, ours: float, baseline: float | None, scale: str, unit: str = "ms"
) -> dict[str, Any]:
    return {
        "name": name,
        "value": round(ours * 1000, 2),
        "unit": unit,
        "baseline": None if baseline is None else round(baseline * 1000, 2),
        "ratio": None if baseline is None else round(baseline / ours, 3),
        "scale": scale,
    }


def median(samples: list[float]) -> float:
    return statistics.median(samples)
