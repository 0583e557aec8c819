"""``python -m bench``: the command line.

Three ways to point it:

- no endpoint (``make bench``): starts the local environment, runs the load levels of
  ``--levels`` against it, counts the requests each handler makes per operation, measures the
  handlers' cold-start import time, and writes ``bench/results/local/``;
- ``--endpoint-from-stack --env ENV`` (``make loadtest``): reads the endpoint and the pool from
  the ``SessionManagement-{env}`` outputs, runs a load sized to stay within the per-IP limits of
  ``infra/config/{env}.json`` for ``--rounds`` rounds plus a deliberate burst past the join limit,
  checks the targets, writes ``bench/results/{env}/`` and a Markdown summary (to
  ``$GITHUB_STEP_SUMMARY`` when set), and exits 1 when a target is missed;
- ``--endpoint URL`` (with ``BENCH_SPEAKER_TOKEN``): the levels of ``--levels`` against any
  endpoint, checked against ``--env``'s targets with ``--check``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import sys
import warnings
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import machine, report
from bench.generator import LevelResult, LoadGenerator, LoadPlan, PhaseObserver, TokenProvider
from bench.soak import PhaseFile
from bench.stats import merge
from bench.targets import evaluate, load_targets

RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_LEVELS = "1x10,10x20,50x40,100x40"
DEFAULT_OP_TIMEOUT = 30.0


def parse_levels(text: str) -> list[tuple[int, int]]:
    """``"1x5,50x40"`` -> ``[(1, 5), (50, 40)]`` (sessions x listeners per session)."""
    levels = []
    for part in text.split(","):
        sessions, sep, listeners = part.strip().lower().partition("x")
        if not sep or not sessions.isdigit() or not listeners.isdigit() or int(sessions) < 1:
            raise argparse.ArgumentTypeError(
                f"level {part!r}: expected SESSIONSxLISTENERS, e.g. 10x20"
            )
        levels.append((int(sessions), int(listeners)))
    return levels


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Load-test the session-management WebSocket API and report latency per "
        "operation (JSON, Markdown, PNG).",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--endpoint-from-stack",
        action="store_true",
        help="read WebSocketUrl/UserPoolId/AppClientId from the SessionManagement-{env} outputs",
    )
    where.add_argument("--endpoint", help="a WebSocket URL (token from BENCH_SPEAKER_TOKEN)")
    parser.add_argument("--env", default="local", help="environment: targets, config, stack")
    parser.add_argument("--region", default=None, help="AWS region (default: the env's config)")
    parser.add_argument("--levels", type=parse_levels, default=None, help="e.g. 1x5,10x20,50x40")
    parser.add_argument("--heartbeats", type=int, default=1, help="heartbeats after the first")
    parser.add_argument(
        "--heartbeat-interval",
        type=float,
        default=None,
        help="seconds (default: just above the minimum the env's heartbeatLimitPerMinute allows)",
    )
    parser.add_argument(
        "--heartbeat-spread",
        type=float,
        default=None,
        help="seconds over which connections' heartbeats are spread (default: the interval)",
    )
    parser.add_argument("--refresh-share", type=float, default=0.2)
    parser.add_argument("--early-leave-share", type=float, default=0.25)
    parser.add_argument("--concurrency", type=int, default=16, help="handshakes in flight")
    parser.add_argument(
        "--op-timeout",
        type=float,
        default=None,
        help="seconds per wait (default 30; 90 for the local bench, which saturates this machine)",
    )
    parser.add_argument("--level-deadline", type=float, default=600.0, help="seconds per level")
    parser.add_argument("--rounds", type=int, default=3, help="deployed stage: rounds")
    parser.add_argument("--round-gap", type=float, default=61.0, help="seconds between rounds")
    parser.add_argument("--cold-start-reps", type=int, default=5)
    parser.add_argument("--no-cold-start", action="store_true")
    parser.add_argument("--no-request-count", action="store_true")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--out", type=Path, default=None, help="results directory")
    parser.add_argument("--summary", type=Path, default=None, help="Markdown summary file")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument(
        "--soak",
        type=minutes,
        default=None,
        metavar="MINUTES",
        help="local: hold one level (the last of --levels, default 50x40) in steady state for "
        "MINUTES, heartbeating every 30 s, and report each process's memory at start and end",
    )
    # a level's child process tells its parent where its phases begin and end (bench.soak)
    parser.add_argument("--phase-file", type=Path, default=None, help=argparse.SUPPRESS)
    return parser


def minutes(text: str) -> float:
    """``--soak``'s argument: a positive number of minutes."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):  # nan compares false
        raise argparse.ArgumentTypeError(f"{text!r}: expected a positive number of minutes")
    return value


def heartbeat_interval(args: argparse.Namespace) -> float:
    """``--heartbeat-interval``, or half a second above the server's minimum interval."""
    if args.heartbeat_interval is not None:
        return float(args.heartbeat_interval)
    try:
        per_minute = _config(args.env).limits.heartbeat_limit_per_minute
    except Exception:  # an environment without a config file: the protocol's 30 s
        return 30.0
    return 60.0 / per_minute + 0.5


def plan_from_args(args: argparse.Namespace, sessions: int, listeners: int) -> LoadPlan:
    return LoadPlan(
        sessions=sessions,
        listeners_per_session=listeners,
        heartbeats=args.heartbeats,
        heartbeat_interval_s=heartbeat_interval(args),
        heartbeat_spread_s=args.heartbeat_spread,
        refresh_share=args.refresh_share,
        early_leave_share=args.early_leave_share,
        concurrency=args.concurrency,
        op_timeout_s=args.op_timeout or DEFAULT_OP_TIMEOUT,
        deadline_s=args.level_deadline,
    )


class Progress:
    """A rich progress bar, one task per level (or nothing with ``--no-progress``)."""

    def __init__(self, enabled: bool) -> None:
        self._bar: Any = None
        if enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
            )
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                transient=False,
            )

    def __enter__(self) -> Progress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def level(self, plan: LoadPlan, label: str | None = None) -> tuple[Any, Any]:
        """(advance callback, finish callback) for one level."""
        if self._bar is None:
            return (lambda _n: None), (lambda: None)
        bar = self._bar
        task = bar.add_task(label or f"level {plan.label}", total=plan.expected_operations())

        def advance(n: int) -> None:
            bar.advance(task, n)

        def finish() -> None:
            bar.update(task, completed=plan.expected_operations())

        return advance, finish


async def run_plan(
    endpoint: str,
    plan: LoadPlan,
    tokens: TokenProvider,
    progress: Progress,
    *,
    observer: PhaseObserver | None = None,
    label: str | None = None,
) -> LevelResult:
    advance, finish = progress.level(plan, label)
    generator = LoadGenerator(endpoint, plan, tokens, observer=observer, on_progress=advance)
    result = await generator.run()
    finish()
    return result


def command_line(argv: list[str] | None) -> str:
    return shlex.join(["python", "-m", "bench", *(sys.argv[1:] if argv is None else argv)])


def base_results(title: str, argv: list[str] | None, target: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": title,
        "command": command_line(argv),
        "createdAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine.describe(),
        "loadAverageAtStart": machine.load_average(),
        "target": target,
        "notes": [],
        "levels": [],
    }


def write_all(results: dict[str, Any], out: Path, summary: Path | None) -> None:
    results["loadAverageAtEnd"] = machine.load_average()
    report.write_json(results, out / "results.json")
    report.write_markdown(results, out / "results.md")
    report.write_plot(results, out / "latency.png")
    if summary is not None:
        with summary.open("a", encoding="utf-8") as handle:
            handle.write(report.render_summary(results) + "\n")
    print(f"results written to {out}/ (results.json, results.md, latency.png)")


def summary_path(args: argparse.Namespace) -> Path | None:
    if args.summary is not None:
        return args.summary
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    return Path(step_summary) if step_summary else None


def _config(env: str) -> Any:
    from infra.config import load_config

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_config(env)


def deployed_plan(env: str, args: argparse.Namespace) -> LoadPlan:
    """A round sized to stay within the per-IP limits of ``infra/config/{env}.json``.

    Every request comes from one IP, so a round makes fewer listener joins than
    ``listenerJoinLimitPerMinute`` and fewer connection attempts than
    ``connectionAttemptLimitPerMinute`` (two of each to spare), and heartbeats no faster than
    ``heartbeatLimitPerMinute`` allows. Rounds are ``--round-gap`` apart, so each falls in fresh
    per-minute windows.
    """
    limits = _config(env).limits
    sessions = 2
    joins = max(1, limits.listener_join_limit_per_minute - 2)
    attempts = max(sessions + 1, limits.connection_attempt_limit_per_minute - 2)
    refreshing = 1
    listeners = max(1, min(joins, attempts - sessions - refreshing) // sessions)
    interval = max(heartbeat_interval(args), 60.0 / limits.heartbeat_limit_per_minute + 1.0)
    languages = tuple(lang for lang in _config(env).supported_languages if lang != "en")
    return LoadPlan(
        sessions=sessions,
        listeners_per_session=listeners,
        languages=languages[:4] or ("es",),
        heartbeats=max(1, args.heartbeats),
        heartbeat_interval_s=interval,
        refresh_share=refreshing / sessions,
        early_leave_share=args.early_leave_share,
        concurrency=args.concurrency,
        op_timeout_s=args.op_timeout or DEFAULT_OP_TIMEOUT,
        deadline_s=args.level_deadline,
    )


def probe_attempts(env: str) -> int:
    """Joins of the deliberate burst: enough to pass the per-IP join limit in any window."""
    limits = _config(env).limits
    return limits.listener_join_limit_per_minute + 2


async def _stack_rounds(
    endpoint: str, plan: LoadPlan, tokens: TokenProvider, args: argparse.Namespace
) -> list[LevelResult]:
    rounds = []
    with Progress(not args.no_progress) as progress:
        for n in range(args.rounds):
            last = n == args.rounds - 1
            this = replace(plan, rate_limit_probe=probe_attempts(args.env) if last else 0)
            label = f"round {n + 1}/{args.rounds} ({plan.label})"
            rounds.append(await run_plan(endpoint, this, tokens, progress, label=label))
            if not last:
                await asyncio.sleep(args.round_gap)
    return rounds


def run_stack(args: argparse.Namespace, argv: list[str] | None) -> int:
    from bench.stack import CognitoTokens, StackError, from_stack

    region = args.region or _config(args.env).region
    try:
        target = from_stack(args.env, region)
    except StackError as err:
        print(f"load test: {err}", file=sys.stderr)
        return 2
    plan = deployed_plan(args.env, args)
    tokens = CognitoTokens(target)
    try:
        rounds = asyncio.run(_stack_rounds(target.endpoint, plan, tokens, args))
    finally:
        tokens.close()
    results = base_results(
        f"{args.env} ({target.endpoint})",
        argv,
        {"kind": "stack", "env": args.env, "region": region, "endpoint": target.endpoint},
    )
    results["notes"].append(
        f"{args.rounds} rounds of {plan.label} (sessions x listeners), {args.round_gap:.0f} s "
        "apart, sized below the per-IP limits of the config; the last round ends with "
        f"{probe_attempts(args.env)} joins in a row that must be refused with 429 once the "
        "per-IP join limit is reached."
    )
    results["levels"] = [r.to_dict() for r in rounds]
    merged = merge([r.recorder for r in rounds]).summary()
    results["evaluation"] = evaluate(load_targets(args.env), merged)
    results["merged"] = merged
    write_all(results, args.out or RESULTS_DIR / args.env, summary_path(args))
    return 0 if results["evaluation"]["passed"] else 1


def endpoint_tokens() -> TokenProvider | None:
    """Speaker tokens for ``--endpoint``: ``BENCH_SPEAKER_TOKENS`` (comma-separated, speaker i
    uses token i // ``BENCH_SPEAKERS_PER_TOKEN``, default 10) or one ``BENCH_SPEAKER_TOKEN``."""
    tokens = [t for t in os.environ.get("BENCH_SPEAKER_TOKENS", "").split(",") if t]
    if not tokens and os.environ.get("BENCH_SPEAKER_TOKEN"):
        tokens = [os.environ["BENCH_SPEAKER_TOKEN"]]
    if not tokens:
        return None
    per_token = int(os.environ.get("BENCH_SPEAKERS_PER_TOKEN", "10"))

    def provider(speaker: int) -> str:
        return tokens[(speaker // per_token) % len(tokens)]

    return provider


def run_endpoint(args: argparse.Namespace, argv: list[str] | None) -> int:
    tokens = endpoint_tokens()
    if tokens is None:
        print(
            "load test: --endpoint needs BENCH_SPEAKER_TOKEN or BENCH_SPEAKER_TOKENS",
            file=sys.stderr,
        )
        return 2
    levels = args.levels or [(1, 5)]

    async def levels_run() -> list[LevelResult]:
        observer = PhaseFile(args.phase_file) if args.phase_file else None
        with Progress(not args.no_progress) as progress:
            return [
                await run_plan(
                    args.endpoint, plan_from_args(args, s, n), tokens, progress, observer=observer
                )
                for s, n in levels
            ]

    results = base_results(args.endpoint, argv, {"kind": "endpoint", "env": args.env})
    runs = asyncio.run(levels_run())
    results["levels"] = [r.to_dict() for r in runs]
    merged = merge([r.recorder for r in runs]).summary()
    evaluation = evaluate(load_targets(args.env), merged)
    results["evaluation"] = evaluation
    write_all(results, args.out or RESULTS_DIR / "endpoint", summary_path(args))
    return 1 if args.check and not evaluation["passed"] else 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.endpoint_from_stack:
        return run_stack(args, argv)
    if args.endpoint:
        return run_endpoint(args, argv)
    from bench.local_bench import run_local

    return run_local(args, argv)
