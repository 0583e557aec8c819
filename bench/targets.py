"""Performance targets and their evaluation (the staging sign-off's "Performance targets met").

Targets come from ``infra/config/{env}.json`` where its schema holds them (the p95 of session
creation, ``alarms.sessionCreationLatencyP95Ms``, the figure the latency alarm watches), and from
``bench/targets.json`` (keyed by environment, ``default`` otherwise) for the rest.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.protocol import RATE_LIMITED
from bench.stats import FAN_OUT, RATE_LIMIT_PROBE

TARGETS_FILE = Path(__file__).resolve().parent / "targets.json"


@dataclass(frozen=True)
class Targets:
    env: str
    p95_ms: dict[str, float]
    allowed_errors: dict[str, tuple[str, ...]] = field(default_factory=dict)
    probe_must_be_refused: bool = True
    session_ended_everywhere: bool = True
    sources: dict[str, str] = field(default_factory=dict)  # target -> where it was read from


def _config_create_target(env: str) -> float | None:
    """``alarms.sessionCreationLatencyP95Ms`` of ``infra/config/{env}.json``, if readable."""
    try:
        from infra.config import load_config

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return float(load_config(env).alarms.session_creation_latency_p95_ms)
    except Exception:  # no such environment, or a schema without the field: targets.json decides
        return None


# Another targets file (the rehearsal's: the emulator's latencies are not AWS's).
TARGETS_FILE_VARIABLE = "BENCH_TARGETS_FILE"


def load_targets(env: str, path: Path | None = None) -> Targets:
    path = path or Path(os.environ.get(TARGETS_FILE_VARIABLE) or TARGETS_FILE)
    raw = json.loads(path.read_text(encoding="utf-8"))
    entry: dict[str, Any] = raw.get(env) or raw["default"]
    name = "bench/targets.json" if path == TARGETS_FILE else str(path)
    shown = f"{name} ({env if env in raw else 'default'})"
    p95 = {op: float(v) for op, v in entry["p95Ms"].items()}
    sources = {f"{op} p95": shown for op in p95}
    from_config = _config_create_target(env)
    if from_config is not None:
        p95["create"] = from_config
        sources["create p95"] = f"infra/config/{env}.json alarms.sessionCreationLatencyP95Ms"
    return Targets(
        env=env,
        p95_ms=p95,
        allowed_errors={op: tuple(codes) for op, codes in entry.get("allowedErrors", {}).items()},
        probe_must_be_refused=bool(entry.get("rateLimitProbeMustBeRefused", True)),
        session_ended_everywhere=bool(entry.get("sessionEndedMustReachEveryListener", True)),
        sources=sources,
    )


def _check(name: str, target: str, measured: str, passed: bool) -> dict[str, Any]:
    return {"name": name, "target": target, "measured": measured, "passed": passed}


def evaluate(targets: Targets, operations: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Checks ``operations`` (a level's or a merged run's summary) against ``targets``."""
    checks = []
    for op, limit in targets.p95_ms.items():
        stats = operations.get(op)
        p95 = stats.get("p95_ms") if stats else None
        measured = (
            "no sample" if p95 is None or not stats else f"{p95:.0f} ms ({stats['ok']} samples)"
        )
        checks.append(
            _check(f"{op} p95", f"< {limit:.0f} ms", measured, p95 is not None and p95 < limit)
        )
    unexpected: dict[str, int] = {}
    for op, stats in operations.items():
        allowed = targets.allowed_errors.get(op, ())
        for code, n in stats["errors"].items():
            if code not in allowed:
                unexpected[f"{op}:{code}"] = n
    checks.append(
        _check(
            "no errors but the provoked rate limits",
            "0",
            ", ".join(f"{k} {n}" for k, n in sorted(unexpected.items())) or "0",
            not unexpected,
        )
    )
    probe = operations.get(RATE_LIMIT_PROBE)
    if targets.probe_must_be_refused and probe is not None:
        refused = probe["errors"].get(RATE_LIMITED, 0)
        checks.append(
            _check(
                "joins beyond the per-IP limit are refused with 429",
                ">= 1 refusal",
                f"{refused} of {probe['count']} attempts refused",
                refused >= 1,
            )
        )
    ended = operations.get(FAN_OUT)
    if targets.session_ended_everywhere and ended is not None:
        checks.append(
            _check(
                f"{FAN_OUT} reaches every remaining listener",
                f"{ended['count']}",
                f"{ended['ok']}",
                ended["ok"] == ended["count"],
            )
        )
    return {
        "env": targets.env,
        "passed": all(c["passed"] for c in checks),
        "checks": checks,
        "sources": targets.sources,
    }
