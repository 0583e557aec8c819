"""EventBridge's scheduled rules, run locally: :class:`Scheduler`.

moto stores an ``AWS::Events::Rule`` but never fires it. The scheduler reads the deployed stack's
enabled rules with a ``rate(...)`` expression (and their Lambda targets) from moto's events API
and invokes each target through the same local function runtime the gateway uses, once per
period, with the event EventBridge sends (``"detail-type": "Scheduled Event"``). The context's
``get_remaining_time_in_millis`` counts down from the function's timeout, as in Lambda.

A run never overlaps itself: a tick that finds the previous run still going is skipped (and
logged), as the janitor's rule would be harmless but wasteful if it overlapped. The first run
comes one period after the start, as a new rule's does. ``period`` (tests, ``--schedule-period``)
replaces every rule's rate.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from local.runtime import InvokeResult

logger = logging.getLogger("local.scheduler")

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> float | None:
    """The period of a ``rate(N unit)`` expression in seconds; None for anything else (cron)."""
    match = _RATE.match(expression.strip())
    if match is None:
        return None
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]


@dataclass(frozen=True)
class ScheduledRule:
    """One enabled rate rule and the function it invokes."""

    name: str
    arn: str
    expression: str
    period: float  # seconds, from the expression
    function_name: str


def stack_rules(clients: Callable[[str], Any], stack_name: str) -> list[ScheduledRule]:
    """The enabled ``rate(...)`` rules of the stack, each with its Lambda target."""
    cloudformation = clients("cloudformation")
    events = clients("events")
    names = [
        resource["PhysicalResourceId"]
        for page in cloudformation.get_paginator("list_stack_resources").paginate(
            StackName=stack_name
        )
        for resource in page["StackResourceSummaries"]
        if resource["ResourceType"] == "AWS::Events::Rule"
    ]
    rules = []
    for name in names:
        rule = events.describe_rule(Name=name)
        period = rate_seconds(rule.get("ScheduleExpression", ""))
        if rule.get("State") != "ENABLED" or period is None:
            logger.info("rule %s not scheduled locally (%s)", name, rule.get("State"))
            continue
        for target in events.list_targets_by_rule(Rule=name)["Targets"]:
            arn = target["Arn"]
            if ":lambda:" not in arn or ":function:" not in arn:
                logger.warning("rule %s: target %s is not a function, not run", name, arn)
                continue
            function = arn.split(":function:", 1)[1].split(":", 1)[0]
            rules.append(
                ScheduledRule(name, rule["Arn"], rule["ScheduleExpression"], period, function)
            )
    return rules


def scheduled_event(rule: ScheduledRule) -> dict[str, Any]:
    """The event EventBridge sends a rule's target, for a run starting now."""
    _, _, _, region, account, _ = rule.arn.split(":", 5)
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": now.isoformat().replace("+00:00", "Z"),
        "region": region,
        "resources": [rule.arn],
        "detail": {},
    }


Invoke = Callable[[dict[str, Any]], InvokeResult]


class _RuleRunner:
    """One rule: a ticker thread, and the thread of the run in progress (at most one)."""

    def __init__(self, rule: ScheduledRule, invoke: Invoke, period: float) -> None:
        self.rule = rule
        self.period = period
        self._invoke = invoke
        self._stop = threading.Event()
        self._run: threading.Thread | None = None
        self._runs = 0
        self.completed = 0  # runs that returned, successfully or not
        self._ticker = threading.Thread(
            target=self._tick, name=f"schedule-{rule.name}", daemon=True
        )

    def start(self) -> None:
        self._ticker.start()

    def _tick(self) -> None:
        while not self._stop.wait(self.period):
            if self._run is not None and self._run.is_alive():
                logger.warning(
                    "schedule %s: previous run of %s still going, this one skipped",
                    self.rule.name,
                    self.rule.function_name,
                )
                continue
            self._runs += 1
            self._run = threading.Thread(
                target=self._run_once,
                args=(self._runs,),
                name=f"schedule-run-{self.rule.name}",
                daemon=True,
            )
            self._run.start()

    def _run_once(self, number: int) -> None:
        started = time.monotonic()
        result = self._invoke(scheduled_event(self.rule))
        took = (time.monotonic() - started) * 1000
        self.completed += 1
        if result.ok:
            logger.info(
                "schedule %s: run %d of %s in %.0f ms: %s",
                self.rule.name,
                number,
                self.rule.function_name,
                took,
                json.dumps(result.payload, sort_keys=True, default=str),
            )
        else:
            logger.error(
                "schedule %s: run %d of %s failed in %.0f ms: %s: %s",
                self.rule.name,
                number,
                self.rule.function_name,
                took,
                result.error_type,
                result.error_message,
            )

    def stop(self, timeout: float) -> None:
        self._stop.set()
        self._ticker.join()
        run = self._run
        if run is not None:
            run.join(timeout)
            if run.is_alive():
                logger.warning(
                    "schedule %s: a run still going after %.0f s", self.rule.name, timeout
                )


class Scheduler:
    """Runs the rules' targets at their rate (or every ``period`` seconds) until stopped.

    ``invokers`` maps a function name to the blocking invoke of its local runtime; ``timeouts``
    the function names to their timeouts (how long ``stop`` waits for a run in progress).
    """

    def __init__(
        self,
        rules: list[ScheduledRule],
        invokers: Mapping[str, Invoke],
        *,
        period: float | None = None,
        timeouts: Mapping[str, float] | None = None,
    ) -> None:
        self.rules = list(rules)
        self._timeouts = dict(timeouts or {})
        self._runners = []
        for rule in self.rules:
            if rule.function_name not in invokers:
                raise RuntimeError(f"rule {rule.name}: no local function {rule.function_name}")
            every = period if period is not None else rule.period
            self._runners.append(_RuleRunner(rule, invokers[rule.function_name], every))

    def start(self) -> Scheduler:
        for runner in self._runners:
            runner.start()
            logger.info(
                "schedule %s: %s every %g s (%s)",
                runner.rule.name,
                runner.rule.function_name,
                runner.period,
                runner.rule.expression,
            )
        return self

    @property
    def runs(self) -> int:
        """How many runs have returned, over every rule (for tests)."""
        return sum(runner.completed for runner in self._runners)

    def stop(self) -> None:
        """Stop ticking and wait for the runs in progress (each within its function's timeout)."""
        for runner in self._runners:
            runner.stop(self._timeouts.get(runner.rule.function_name, 60.0) + 5.0)
        self._runners.clear()
