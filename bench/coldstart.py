"""Cold-start import time of each handler module, against ``import boto3``, in the same run.

Each measurement is a fresh interpreter (``python -c``) that times ``import <module>`` with
``time.perf_counter``; interpreter start-up is outside the timed span. The handlers and boto3
are measured in turns (boto3, handler 1, ..., handler 5, boto3, ...), so a machine that slows
down during the run slows both sides of the ratio alike. Each handler is imported under the
environment its function gets (its settings are validated at import), built from
``infra/config/{env}.json`` and ``session_service.constants``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

from session_service import constants, specs

REPO_ROOT = Path(__file__).resolve().parent.parent
_TIMER = (
    "import importlib, sys, time\n"
    "t = time.perf_counter()\n"
    "importlib.import_module(sys.argv[1])\n"
    "print(time.perf_counter() - t)\n"
)


def handler_modules() -> dict[str, str]:
    """handler name -> module of its entry point (``specs.FUNCTIONS``)."""
    return {name: spec.module for name, spec in specs.FUNCTIONS.items()}


def _config_values(env: str) -> dict[str, str]:
    from infra.config import load_config
    from infra.handler_environment import environment_values

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        config = load_config(env)
    return environment_values(
        config,
        sessions_table=constants.SESSIONS_TABLE_TEMPLATE.format(env=env),
        connections_table=constants.CONNECTIONS_TABLE_TEMPLATE.format(env=env),
        rate_limits_table=constants.RATE_LIMITS_TABLE_TEMPLATE.format(env=env),
        callback_url=f"https://example.execute-api.{config.region}.amazonaws.com/prod",
    )


def handler_environment(handler: str, env: str = "dev") -> dict[str, str]:
    """The process environment a handler is imported under: its own variables, nothing else."""
    values = _config_values(env)
    base = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "VIRTUAL_ENV") if k in os.environ}
    base.update(
        {
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_LAMBDA_FUNCTION_NAME": specs.FUNCTIONS[handler].function_name(env),
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "src"), str(REPO_ROOT)]),
        }
    )
    base.update({name: values[name] for name in specs.FUNCTIONS[handler].environment})
    return base


def time_import(module: str, env: dict[str, str], timeout: float = 60.0) -> float:
    """Seconds a fresh interpreter takes to import ``module``."""
    done = subprocess.run(  # noqa: S603 (our own interpreter, a fixed program)
        [sys.executable, "-c", _TIMER, module],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"import {module} failed: {last}")
    return float(done.stdout.strip().splitlines()[-1])


def _stats(samples: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(samples) * 1000, 1),
        "min_ms": round(min(samples) * 1000, 1),
        "max_ms": round(max(samples) * 1000, 1),
    }


def measure(repetitions: int = 7, env: str = "dev") -> dict[str, Any]:
    """Median import time of each handler module and of boto3, and their ratio."""
    modules = handler_modules()
    envs = {name: handler_environment(name, env) for name in modules}
    boto_env = envs[next(iter(envs))]
    boto: list[float] = []
    samples: dict[str, list[float]] = {name: [] for name in modules}
    failures: dict[str, str] = {}
    for _ in range(repetitions):
        boto.append(time_import("boto3", boto_env))
        for name, module in modules.items():
            if name in failures:
                continue
            try:
                samples[name].append(time_import(module, envs[name]))
            except (RuntimeError, subprocess.TimeoutExpired) as err:
                failures[name] = str(err)
    boto_stats = _stats(boto)
    handlers: dict[str, Any] = {}
    for name, module in modules.items():
        if name in failures:
            handlers[name] = {"module": module, "error": failures[name]}
            continue
        stats = _stats(samples[name])
        entry: dict[str, Any] = {"module": module, **stats}
        entry["ratio_to_boto3"] = round(stats["median_ms"] / boto_stats["median_ms"], 2)
        handlers[name] = entry
    return {
        "method": "fresh interpreter per import, time.perf_counter around importlib.import_module",
        "repetitions": repetitions,
        "configEnv": env,
        "boto3": boto_stats,
        "handlers": handlers,
    }


if __name__ == "__main__":
    print(json.dumps(measure(repetitions=3), indent=2))
