"""Latency and error statistics per operation.

Latencies are kept whole (a load level has at most a few thousand samples per operation), so the
percentiles are exact order statistics, not estimates from a histogram.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from bench.protocol import HEARTBEAT_ACTION, SESSION_ENDED

# Operations named after the protocol word they time: the heartbeat, and the fan-out
# ``sessionEnded`` (speaker close -> each listener's receipt).
HEARTBEAT = HEARTBEAT_ACTION
FAN_OUT = SESSION_ENDED
# The deliberate over-the-limit burst of a deployed-stage run (not plotted).
RATE_LIMIT_PROBE = "rateLimitProbe"
# Operations in report order.
OPERATIONS = (
    "create",
    "join",
    HEARTBEAT,
    "refresh",
    "disconnect",
    FAN_OUT,
    RATE_LIMIT_PROBE,
)


def percentile(sorted_values: list[float], q: float) -> float | None:
    """The ``q``-th percentile (0..100) of ascending ``sorted_values``, nearest-rank method.

    Nearest rank returns a value that was observed (no interpolation), so "p95 under 1 s" means
    95 % of the samples were at most that value.
    """
    if not sorted_values:
        return None
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class OpStats:
    """Samples and errors of one operation."""

    name: str
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    def ok(self, latency_s: float) -> None:
        self.latencies_ms.append(latency_s * 1000.0)

    def error(self, code: str) -> None:
        self.errors[code] += 1

    @property
    def count(self) -> int:
        """Attempts: successes and errors."""
        return len(self.latencies_ms) + sum(self.errors.values())

    def summary(self) -> dict[str, object]:
        values = sorted(self.latencies_ms)
        return {
            "count": self.count,
            "ok": len(values),
            "errors": dict(sorted(self.errors.items())),
            "p50_ms": _round(percentile(values, 50)),
            "p95_ms": _round(percentile(values, 95)),
            "p99_ms": _round(percentile(values, 99)),
            "max_ms": _round(values[-1] if values else None),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


@dataclass
class Recorder:
    """What one load level observed: per-operation statistics and connection throughput."""

    ops: dict[str, OpStats] = field(default_factory=lambda: {n: OpStats(n) for n in OPERATIONS})
    connections_opened: int = 0
    connect_window: tuple[float, float] | None = None  # first handshake start, last handshake end

    def op(self, name: str) -> OpStats:
        if name not in self.ops:
            self.ops[name] = OpStats(name)
        return self.ops[name]

    def connection_opened(self, started: float, finished: float) -> None:
        self.connections_opened += 1
        if self.connect_window is None:
            self.connect_window = (started, finished)
        else:
            first, last = self.connect_window
            self.connect_window = (min(first, started), max(last, finished))

    def connections_per_second(self) -> float | None:
        """Handshakes completed per second over the span from the first start to the last end."""
        if self.connect_window is None:
            return None
        first, last = self.connect_window
        span = last - first
        return round(self.connections_opened / span, 2) if span > 0 else None

    def summary(self) -> dict[str, dict[str, object]]:
        return {name: stats.summary() for name, stats in self.ops.items() if stats.count}


def merge(recorders: list[Recorder]) -> Recorder:
    """One recorder holding every sample and error of ``recorders`` (e.g. the rounds of a run).

    Connections per second of the merge is not meaningful across pauses, so it is left unset.
    """
    merged = Recorder()
    for recorder in recorders:
        for name, stats in recorder.ops.items():
            target = merged.op(name)
            target.latencies_ms.extend(stats.latencies_ms)
            target.errors.update(stats.errors)
        merged.connections_opened += recorder.connections_opened
    return merged
