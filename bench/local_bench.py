"""``make bench``: the load levels against the local environment, request counts, cold starts.

What is changed for the bench, and why (everything else runs as configured in
``infra/config/local.json``):

- every request comes from 127.0.0.1, so the per-IP limits (``listenerJoinLimitPerMinute``,
  ``connectionAttemptLimitPerMinute``) would refuse all but the first few joins: the bench starts
  the local environment with those two raised (handler environment overrides). The per-IP limit
  itself is exercised by the e2e tests and, deliberately, by the deployed-stage run;
- ``sessionCreateLimitPerHour`` stays as configured: the bench signs in one Cognito user per
  ``SPEAKERS_PER_USER`` speakers of a level (fresh users per level), as many real speakers would;
- heartbeats keep the configured per-connection minimum interval (the generator waits it out);
- each function gets ``AWS_SDK_UA_APP_ID=<handler>`` so the requests it sends to moto carry its
  name in the User-Agent (:mod:`bench.counting`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import psutil

from bench import coldstart, soak
from bench.cli import (
    DEFAULT_LEVELS,
    RESULTS_DIR,
    Progress,
    base_results,
    parse_levels,
    plan_from_args,
    run_plan,
    summary_path,
    write_all,
)
from bench.generator import LevelResult, LoadPlan
from bench.targets import evaluate, load_targets
from session_service import constants, specs

REPO_ROOT = Path(__file__).resolve().parent.parent
SPEAKERS_PER_USER = 10
RAISED_PER_IP_LIMIT = "100000"
COUNT_LEVEL = (5, 10)
PROTOCOL_HEARTBEAT_S = float(constants.HEARTBEAT_INTERVAL_SECONDS)
LOCAL_OP_TIMEOUT = 90.0  # SPEC.md: a client heartbeats every 30 s


def env_overrides() -> dict[str, str]:
    """Variables set on every function on top of its deployed environment (the per-IP limits)."""
    return {
        constants.ENV_CONNECTION_ATTEMPT_LIMIT_PER_MINUTE: RAISED_PER_IP_LIMIT,
        constants.ENV_LISTENER_JOIN_LIMIT_PER_MINUTE: RAISED_PER_IP_LIMIT,
    }


class LocalTokens:
    """Speaker tokens from the local pool: one user per ``SPEAKERS_PER_USER`` speakers."""

    def __init__(self, environment: Any, level: str) -> None:
        self.environment = environment
        self.level = level
        self._tokens: dict[int, str] = {}
        self._lock = threading.Lock()

    def __call__(self, speaker_index: int) -> str:
        user = speaker_index // SPEAKERS_PER_USER
        with self._lock:
            if user not in self._tokens:
                username = f"bench-{self.level}-{user}-{time.time_ns()}@example.com"
                self._tokens[user] = speaker_token(self.environment, username)
            return self._tokens[user]


def speaker_token(environment: Any, username: str) -> str:
    """A new user's ID token from the local pool (``LocalEnvironment.speaker_token``)."""
    return str(environment.speaker_token(username))


@contextlib.contextmanager
def local_environment() -> Iterator[Any]:
    """The local environment with the bench's overrides, each function named in its User-Agent.

    ``LocalEnvironment.function_environment`` is where the local environment builds a
    function's variables; the bench extends it with ``AWS_SDK_UA_APP_ID=<handler>``.
    """
    from local.environment import LocalEnvironment

    class BenchEnvironment(LocalEnvironment):
        def function_environment(self, configuration: Any) -> dict[str, str]:
            variables = super().function_environment(configuration)
            names = {self.outputs.get(s.output_id): h for h, s in specs.FUNCTIONS.items()}
            handler = names.get(configuration.get("FunctionName"))
            if handler:
                variables["AWS_SDK_UA_APP_ID"] = handler
            return variables

    with BenchEnvironment(handler_env_overrides=env_overrides()) as environment:
        yield environment


async def _warm_up(environment: Any, args: argparse.Namespace, progress: Progress) -> LevelResult:
    """Grows each function's worker pool before anything is measured.

    A local worker's cold start (a new interpreter importing the handler) takes a second or
    more on this machine; without a warm-up the first measured level would time mostly those.
    Its figures are kept in the JSON (``warmUp``), out of the tables.
    """
    plan = replace(
        plan_from_args(args, 2, 24),
        heartbeats=0,
        refresh_share=0.5,
        early_leave_share=0.5,
    )
    tokens = LocalTokens(environment, "warm-up")
    return await run_plan(environment.endpoint, plan, tokens, progress, label="warm-up 2x24")


def _child_command(
    environment: Any, args: argparse.Namespace, level: str, out: Path, phases: Path | None
) -> list:
    plan = plan_from_args(args, 1, 1)
    return [
        sys.executable,
        "-m",
        "bench",
        "--endpoint",
        environment.endpoint,
        "--env",
        "local",
        "--levels",
        level,
        "--heartbeats",
        str(plan.heartbeats),
        "--heartbeat-interval",
        str(plan.heartbeat_interval_s),
        "--heartbeat-spread",
        str(plan.heartbeat_spread_s),
        "--refresh-share",
        str(plan.refresh_share),
        "--early-leave-share",
        str(plan.early_leave_share),
        "--concurrency",
        str(plan.concurrency),
        "--op-timeout",
        str(plan.op_timeout_s),
        "--level-deadline",
        str(plan.deadline_s),
        "--out",
        str(out),
        *(["--no-progress"] if args.no_progress else []),
        *(["--phase-file", str(phases)] if phases is not None else []),
    ]


async def _levels(environment: Any, args: argparse.Namespace, drain: Any) -> list[dict]:
    """Each level in a child process (``python -m bench --endpoint``), so the generator's own
    work does not share this process, which hosts the gateway (moto's server has its own)."""
    results = []
    for sessions, listeners in args.levels or parse_levels(DEFAULT_LEVELS):
        label = f"{sessions}x{listeners}"
        await drain.begin(label)
        users = LocalTokens(environment, label)
        tokens = [users(i * SPEAKERS_PER_USER) for i in range(-(-sessions // SPEAKERS_PER_USER))]
        with tempfile.TemporaryDirectory(prefix="bench-level-") as tmp:
            env = dict(os.environ)
            env.update(
                {
                    "BENCH_SPEAKER_TOKENS": ",".join(tokens),
                    "BENCH_SPEAKERS_PER_TOKEN": str(SPEAKERS_PER_USER),
                    "PYTHONPATH": str(REPO_ROOT),
                }
            )
            env.pop("GITHUB_STEP_SUMMARY", None)
            phases = Path(tmp) / "phases.jsonl" if args.soak else None
            command = _child_command(environment, args, label, Path(tmp), phases)
            with contextlib.ExitStack() as stack:
                watch = None
                if phases is not None:
                    root = psutil.Process()  # the gateway's process: moto, workers, the child
                    watch = stack.enter_context(soak.MemoryWatch(phases, root))
                child = await asyncio.create_subprocess_exec(*command, env=env, cwd=REPO_ROOT)
                await child.wait()
            level = json.loads((Path(tmp) / "results.json").read_text())["levels"][0]
            if watch is not None:
                level["soak"] = watch.result()
        level["drainedSecondsBefore"] = drain.waited.get(label)
        results.append(level)
    return results


async def _counted(
    environment: Any, plan: LoadPlan, progress: Progress, management: Any, drain: Any
) -> dict[str, Any]:
    from bench.counting import MotoRecorder, RequestCounter

    recorder = MotoRecorder(environment.moto_endpoint)
    counter = RequestCounter(recorder, management)
    await drain.begin("request count")
    await asyncio.to_thread(recorder.start)
    try:
        tokens = LocalTokens(environment, f"count-{plan.label}")
        # tokens first: signing users in is a request to moto too, and not part of any phase
        await asyncio.gather(*(asyncio.to_thread(tokens, i) for i in range(plan.sessions)))
        label = f"request count {plan.label}"
        result = await run_plan(
            environment.endpoint, plan, tokens, progress, observer=counter, label=label
        )
    finally:
        await asyncio.to_thread(recorder.stop)
    return {"level": plan.label, "run": result.to_dict(), "phases": counter.phases}


def soak_settings(args: argparse.Namespace) -> None:
    """``--soak MINUTES``: one level (the last of ``--levels``, default 50x40), its connections
    heartbeating every 30 s for MINUTES; no cold starts, no request count (bench.soak)."""
    args.levels = [(args.levels or [(50, 40)])[-1]]
    args.heartbeats = soak.heartbeats(args.soak)
    args.heartbeat_interval = args.heartbeat_spread = PROTOCOL_HEARTBEAT_S
    args.level_deadline += args.soak * 60
    args.no_cold_start = args.no_request_count = True


def run_local(args: argparse.Namespace, argv: list[str] | None) -> int:
    if args.soak:
        soak_settings(args)
    out: Path = args.out or RESULTS_DIR / ("soak" if args.soak else "local")
    # moto's recorder writes where this variable says (read when moto is imported, in moto's
    # server process, which inherits this environment).
    recording = Path(tempfile.gettempdir()) / f"bench-moto-recording-{os.getpid()}.jsonl"
    os.environ.setdefault("MOTO_RECORDER_FILEPATH", str(recording))
    if args.heartbeat_spread is None:
        args.heartbeat_spread = PROTOCOL_HEARTBEAT_S
    if args.op_timeout is None:
        # the largest level saturates this machine; a longer wait measures how late the answers
        # come instead of recording them as timeouts
        args.op_timeout = LOCAL_OP_TIMEOUT
    results = base_results("local environment", argv, {"kind": "local", "env": "local"})
    if not args.no_cold_start:
        print(f"cold-start import time: {args.cold_start_reps} fresh interpreters per module")
        results["coldStart"] = coldstart.measure(repetitions=args.cold_start_reps, env="local")

    from bench.counting import Drain, ManagementLogCounter, MotoLogCounter

    moto_log, management = MotoLogCounter(), ManagementLogCounter()
    drain = Drain(moto_log, management)

    async def everything(environment: Any) -> tuple[list[dict], dict[str, Any] | None]:
        with Progress(not args.no_progress) as progress:
            warm_up = await _warm_up(environment, args, progress)
        results["warmUp"] = warm_up.to_dict()
        levels = await _levels(environment, args, drain)
        counted = None
        if not args.no_request_count:
            count_plan = plan_from_args(args, *COUNT_LEVEL)
            with Progress(not args.no_progress) as progress:
                counted = await _counted(environment, count_plan, progress, management, drain)
        return levels, counted

    moto_log.install()
    management.install()
    try:
        with local_environment() as environment:
            levels, counted = asyncio.run(everything(environment))
    finally:
        management.uninstall()
        moto_log.uninstall()
    results["emulator"] = {"motoInternalErrors": moto_log.errors}
    results["notes"].append(
        f"moto's server answered {moto_log.errors} requests with an internal error (an emulator "
        "fault, logged as `Error on request`); the handlers' SDK retries those (standard mode), "
        "so they would show as extra requests, and as an error only when every attempt failed."
    )
    results["levels"] = levels
    if args.soak:
        results["soak"] = {"minutes": args.soak, "level": levels[-1]["level"]}
        results["soak"].update(levels[-1].pop("soak"))
        results["notes"].append(
            f"Soak: level {levels[-1]['level']} held {args.soak:g} min, every connection "
            f"heartbeating every {PROTOCOL_HEARTBEAT_S:g} s ({args.heartbeats} heartbeats "
            "each); memory is each process's resident set when the heartbeat phase began and "
            "when it ended."
        )
    if counted is not None:
        results["requests"] = {"level": counted["level"], "phases": counted["phases"]}
        results["requestCountRun"] = counted["run"]
    results["notes"] += notes(args)
    results["evaluation"] = evaluate(load_targets("local"), results["levels"][-1]["operations"])
    write_all(results, out, summary_path(args))
    with contextlib.suppress(OSError):
        recording.unlink()
    return 1 if args.check and not results["evaluation"]["passed"] else 0


def notes(args: argparse.Namespace) -> list[str]:
    return [
        "System under test and load generator share this machine: moto's server (a process of "
        "its own), the local gateway, one worker process per concurrent invocation of each "
        "function, and the generator. Latencies are of this machine, not of AWS; request "
        "counts per operation are exact and carry over to AWS.",
        "Per-IP limits raised for the bench (every request comes from 127.0.0.1); one Cognito "
        f"user per {SPEAKERS_PER_USER} speakers; heartbeats spaced by the configured minimum "
        "interval.",
        f"Heartbeats after the first are spread over {args.heartbeat_spread:g} s, the "
        "protocol's interval, so the offered heartbeat rate is connections / 30 per second. "
        "A warm-up (2 sessions x 24 listeners) grows the worker pools first; it is not in the "
        "tables.",
        "Each level runs in its own process (`python -m bench --endpoint`), so the generator "
        "does not share the process that hosts the gateway (nor moto's server's); a level starts "
        "once the management API has been idle for 2 s (`drainedSecondsBefore`).",
        "Targets are checked against the largest level (informative locally; `--check` makes "
        "a miss fail the command).",
    ]
