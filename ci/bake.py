"""``python -m ci.bake``: after a verified deployment, watch the alarms before trusting it.

A deployment that passes its verification can still fail under real traffic minutes later: a
slow leak of errors, latency that creeps up. The bake waits ``deploySafety.bakeMinutes`` of
``infra/config/{env}.json`` watching every alarm of ``session_service.specs.alarm_names(env)``.

* An alarm in ALARM during the bake fails the run (exit 1), naming the alarm; the workflow then
  redeploys the environment's last clean release.
* A bake that ends with every alarm clean records the release as the environment's last clean
  release: the SSM parameter ``constants.RELEASE_PARAMETER_TEMPLATE`` holds
  ``{"release", "commit", "bakedAt", "runUrl"}`` (JSON). ``last-clean`` prints its release,
  which is what an undo redeploys.

Both write ``reports/bake-{env}.json`` and, in a workflow, a line to ``$GITHUB_STEP_SUMMARY``,
an ``::error::`` annotation per failure (the run's summary names the alarm) and the outputs the
undo decides on to ``$GITHUB_OUTPUT``: ``result`` (clean, alarm or error), ``alarms`` (the names
in ALARM, comma-separated) and ``last-clean`` (the release recorded before this bake; empty when
none).

Exit statuses: 0 clean (or, for ``last-clean``, a release printed); 1 an alarm was in ALARM;
2 bad arguments or environment; 3 (``last-clean``) no release has baked clean in ENV yet;
4 the bake could not judge the release (AWS could not be asked, an alarm is missing, the
record is unreadable). Every expected failure is one line starting with ``❌``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from botocore.exceptions import BotoCoreError, ClientError

from ci import access, workflow
from ci.deployment import REPO_ROOT, Deployment, Options
from infra.config import DEPLOY_SAFETY_MAX_MINUTES, available_environments
from session_service import constants, specs

EXIT_CLEAN = 0
EXIT_ALARM = 1
EXIT_USAGE = 2
EXIT_NO_RECORD = 3  # last-clean: no release has baked clean in the environment yet
EXIT_NOT_BAKED = 4  # AWS could not be asked, an alarm is missing, the record is unreadable

DEFAULT_POLL_SECONDS = 30
ALARM_NAMES_PER_CALL = 100  # DescribeAlarms accepts at most 100 AlarmNames
ALARM_STATE = "ALARM"

Clock = Callable[[], float]  # seconds since the epoch (time.time)
Sleep = Callable[[float], None]


class BakeError(Exception):
    """The bake could not judge the release; the message is one line (what, and what to do)."""

    def __init__(self, line: str, status: int = EXIT_NOT_BAKED) -> None:
        super().__init__(line)
        self.status = status


@dataclass(frozen=True)
class Firing:
    """An alarm found in ALARM: its name, since when and why (CloudWatch's StateReason)."""

    name: str
    since: str
    reason: str


@dataclass
class Watch:
    """What the watch saw: the alarms watched, the polls made, those found in ALARM."""

    alarms: list[str]
    polls: int = 0
    watched_seconds: float = 0.0
    firing: list[Firing] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.firing


# --- the command line ----------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    """argparse whose refusals are one ``❌`` line on stderr, not usage and a paragraph."""

    def error(self, message: str) -> NoReturn:
        print(f"❌ {self.prog}: {message} (see --help)", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _minutes(text: str) -> int:
    if not text.isdigit() or int(text) > DEPLOY_SAFETY_MAX_MINUTES:
        raise argparse.ArgumentTypeError(
            f"expected a whole number of minutes, 0 to {DEPLOY_SAFETY_MAX_MINUTES}, got {text!r}"
        )
    return int(text)


def _poll_seconds(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of seconds >= 1, got {text!r}")
    return int(text)


def _release(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("expected the release deployed (e.g. v1.2.3), got ''")
    return text.strip()


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m ci.bake",
        description="After a verified deployment, watch the alarms for the bake time; record "
        "the release as the last clean one when they stay clean.",
    )
    commands = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    watch = commands.add_parser(
        "watch", help="watch the alarms for the bake time; record the release when clean"
    )
    watch.add_argument("--env", required=True, help="environment: dev, staging, prod or local")
    watch.add_argument("--release", required=True, type=_release, help="the release deployed")
    watch.add_argument("--commit", help="the commit deployed (default: $GITHUB_SHA)")
    watch.add_argument("--run-url", help="the pipeline run that deployed it")
    watch.add_argument(
        "--minutes", type=_minutes, help="how long to watch (default: deploySafety.bakeMinutes)"
    )
    watch.add_argument(
        "--poll-seconds",
        type=_poll_seconds,
        default=DEFAULT_POLL_SECONDS,
        help=f"seconds between two reads of the alarms (default {DEFAULT_POLL_SECONDS})",
    )
    watch.add_argument(
        "--report", type=Path, help="the JSON report (default reports/bake-ENV.json)"
    )
    last = commands.add_parser("last-clean", help="print the last release that baked clean")
    last.add_argument("--env", required=True, help="environment: dev, staging, prod or local")
    return p


# --- AWS -----------------------------------------------------------------------------------
def parameter_name(env: str) -> str:
    return constants.RELEASE_PARAMETER_TEMPLATE.format(env=env)


def _chunks(names: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(names), ALARM_NAMES_PER_CALL):
        yield list(names[start : start + ALARM_NAMES_PER_CALL])


def describe_alarms(cloudwatch: Any, names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Alarm name -> its description, for those of ``names`` CloudWatch knows."""
    found: dict[str, dict[str, Any]] = {}
    pages = cloudwatch.get_paginator("describe_alarms")
    for chunk in _chunks(names):
        for page in pages.paginate(AlarmNames=chunk):
            for alarm in [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]:
                found[alarm["AlarmName"]] = alarm
    return found


def read_record(ssm: Any, env: str) -> dict[str, Any] | None:
    """The last clean release's record, or ``None`` when no release has baked clean yet."""
    name = parameter_name(env)
    try:
        value = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") == "ParameterNotFound":
            return None
        raise
    try:
        record = json.loads(value)
    except json.JSONDecodeError:
        record = None
    if not isinstance(record, dict) or not isinstance(record.get("release"), str):
        raise BakeError(
            f"SSM parameter {name} holds {value[:80]!r}: expected the JSON a clean bake "
            '(ci.bake watch) writes, {"release": ..., ...}; delete it or bake a release again'
        )
    return record


def write_record(ssm: Any, env: str, record: dict[str, Any]) -> None:
    ssm.put_parameter(
        Name=parameter_name(env),
        Description="The last release that baked clean (ci.bake watch)",
        Value=json.dumps(record, sort_keys=True),
        Type="String",
        Overwrite=True,
    )


# --- the watch -----------------------------------------------------------------------------
def _firing(alarm: dict[str, Any]) -> Firing:
    since = alarm.get("StateUpdatedTimestamp")
    return Firing(
        name=alarm["AlarmName"],
        since=since.isoformat() if isinstance(since, datetime) else str(since),
        reason=str(alarm.get("StateReason", "")),
    )


def poll(cloudwatch: Any, names: Sequence[str]) -> list[Firing]:
    """The alarms of ``names`` in ALARM now; a missing alarm is a :class:`BakeError`."""
    found = describe_alarms(cloudwatch, names)
    missing = [name for name in names if name not in found]
    if missing:
        raise BakeError(
            f"alarm{'s' if len(missing) > 1 else ''} not found: {', '.join(missing)}; expected "
            "every alarm of the deployed stack (session_service.specs.alarm_names), a bake that "
            "watches nothing proves nothing"
        )
    return [_firing(found[name]) for name in names if found[name]["StateValue"] == ALARM_STATE]


def watch_alarms(
    cloudwatch: Any,
    names: Sequence[str],
    minutes: int,
    poll_seconds: int,
    clock: Clock = time.time,
    sleep: Sleep = time.sleep,
) -> Watch:
    """Poll every ``poll_seconds`` until ``minutes`` have passed (at least once) or an alarm
    is in ALARM, whichever comes first."""
    seen = Watch(alarms=list(names))
    start = clock()
    deadline = start + minutes * 60
    while True:
        seen.firing = poll(cloudwatch, names)
        seen.polls += 1
        seen.watched_seconds = clock() - start
        remaining = deadline - clock()
        if seen.firing or remaining <= 0:
            return seen
        sleep(min(poll_seconds, remaining))


# --- the report ----------------------------------------------------------------------------
def report_path(env: str, given: Path | None) -> Path:
    return given or REPO_ROOT / "reports" / f"bake-{env}.json"


def write_report(path: Path, report: dict[str, Any]) -> None:
    """The JSON report, and in a workflow the step outputs read from it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    write_outputs(report)


def write_summary(lines: Sequence[str]) -> None:
    """Append the bake's lines to the workflow job's summary, when there is one."""
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        with open(summary_file, "a", encoding="utf-8") as handle:
            handle.write("### Bake\n\n" + "".join(f"- {line}\n" for line in lines) + "\n")


def write_outputs(report: dict[str, Any]) -> None:
    """The bake's verdict as step outputs, for the workflow's undo (nothing outside a workflow)."""
    last = report.get("lastClean")
    workflow.set_outputs(
        {
            "result": report["result"],
            "alarms": ",".join(report["alarms"]),
            "last-clean": last.get("release", "") if isinstance(last, dict) else "",
        }
    )


def annotate(lines: Sequence[str]) -> None:
    """In a workflow, each failure line also as an error annotation (the run's summary shows it)."""
    for line in lines:
        workflow.annotate_error(line.removeprefix("❌ "))


def _report(env: str, release: str, result: str, seen: Watch | None, last: Any) -> dict[str, Any]:
    return {
        "env": env,
        "release": release,
        "result": result,
        "alarms": [f.name for f in seen.firing] if seen else [],
        "lastClean": last,
        "watchedMinutes": round(seen.watched_seconds / 60, 2) if seen else 0,
        "polls": seen.polls if seen else 0,
    }


# --- the commands --------------------------------------------------------------------------
def deployment(env: str) -> Deployment:
    """The environment's config, region and clients (refusals are :class:`BakeError`)."""
    known = available_environments()
    if env not in known:
        raise BakeError(
            f"no environment {env!r}: expected one of {', '.join(known)} "
            "(one infra/config/<env>.json each)",
            EXIT_USAGE,
        )
    dep = Deployment(Options(env=env))
    if dep.config_error:
        raise BakeError(dep.config_error, EXIT_USAGE)
    return dep


def _aws(dep: Deployment, doing: str, call: Callable[[], Any]) -> Any:
    """``call()``; an AWS failure becomes a :class:`BakeError` worded by ci.access (the same
    lines ci.verify prints: no credentials, refused ones, access denied, throttled)."""
    try:
        return call()
    except (BotoCoreError, ClientError) as err:
        raise BakeError(access.failure(dep, err, doing).line()) from None


def bake(
    args: argparse.Namespace, clock: Clock = time.time, sleep: Sleep = time.sleep
) -> tuple[int, list[str]]:
    """Run ``watch``; (exit status, the result's lines)."""
    dep = deployment(args.env)
    assert dep.config is not None  # deployment() refused a config that did not load
    minutes = dep.config.deploy_safety.bake_minutes if args.minutes is None else args.minutes
    names = list(specs.alarm_names(dep.env).values())
    path = report_path(dep.env, args.report)

    def ssm() -> Any:  # made inside _aws: a missing AWS profile raises on the first client
        return dep.clients("ssm")

    last: dict[str, Any] | None = None
    try:  # the record first: refused credentials show before the wait, not after it
        last = _aws(dep, f"read {parameter_name(dep.env)}", lambda: read_record(ssm(), dep.env))
        print(
            f"watching {len(names)} alarms of {dep.env} for {minutes} minutes after "
            f"{args.release} (a poll every {args.poll_seconds} s; last clean release: "
            f"{last['release'] if last else 'none yet'})",
            flush=True,
        )
        seen = _aws(
            dep,
            "describe the alarms",
            lambda: watch_alarms(
                dep.clients("cloudwatch"), names, minutes, args.poll_seconds, clock, sleep
            ),
        )
        if seen.clean:
            record = {
                "release": args.release,
                "commit": args.commit or os.environ.get("GITHUB_SHA"),
                "bakedAt": datetime.fromtimestamp(clock(), UTC).isoformat(timespec="seconds"),
                "runUrl": args.run_url,
            }
            writing = f"write {parameter_name(dep.env)}"
            _aws(dep, writing, lambda: write_record(ssm(), dep.env, record))
    except BakeError as err:
        failed = _report(dep.env, args.release, "error", None, last)
        write_report(path, {**failed, "error": str(err)})
        raise
    where = f"bake of {args.release} in {dep.env}"
    if not seen.clean:
        write_report(path, _report(dep.env, args.release, "alarm", seen, last))
        return EXIT_ALARM, [
            f"❌ {where}: alarm {f.name} is in ALARM since {f.since} ({f.reason})"
            for f in seen.firing
        ]
    write_report(path, _report(dep.env, args.release, "clean", seen, last))
    return EXIT_CLEAN, [
        f"✅ {where}: {len(names)} alarms clean for {minutes} minutes ({seen.polls} polls); "
        "recorded as the last clean release"
    ]


def last_clean(args: argparse.Namespace) -> int:
    """Run ``last-clean``: the release on stdout, or exit 3 when none has baked clean yet."""
    dep = deployment(args.env)
    reading = f"read {parameter_name(dep.env)}"
    record = _aws(dep, reading, lambda: read_record(dep.clients("ssm"), dep.env))
    if record is None:
        print(
            f"no release has baked clean in {dep.env} yet ({parameter_name(dep.env)} is not set)",
            file=sys.stderr,
        )
        return EXIT_NO_RECORD
    print(record["release"])
    return EXIT_CLEAN


def main(
    argv: Sequence[str] | None = None, *, clock: Clock = time.time, sleep: Sleep = time.sleep
) -> int:
    try:
        args = parser().parse_args(argv)
    except SystemExit as exit_:  # --help, or a refusal already printed
        return int(exit_.code or 0)
    try:
        if args.command == "last-clean":
            return last_clean(args)
        status, lines = bake(args, clock, sleep)
    except BakeError as err:
        line = f"❌ {err}"
        print(line, file=sys.stderr)
        annotate([line])
        if args.command == "watch":
            write_summary([line])
        return err.status
    for line in lines:
        print(line)
    if status != EXIT_CLEAN:
        annotate(lines)
    write_summary(lines)
    return status


if __name__ == "__main__":
    sys.exit(main())
