"""Rollback triggers: CloudFormation rolls a stack update back when the service's alarms fire.

How a CDK deployment gets them, and keeps them. The CDK CLI has no rollback-trigger option and
``ExecuteChangeSet`` takes no rollback configuration, but a stack keeps the one it was last
given. The CloudFormation API reference (``RollbackConfiguration``, ``RollbackTriggers``):
"By default, CloudFormation saves the rollback triggers specified for a stack and applies them
to any subsequent update operations for the stack, unless you specify otherwise. ... To use the
rollback triggers previously specified for this stack, if any, don't specify this parameter."
The CDK's ``CreateChangeSet`` never specifies it, so the triggers saved on the stack watch every
change set the pipeline prepares and executes. This module saves them with an ``UpdateStack``
that keeps the template and the parameters (``UsePreviousTemplate``, ``UsePreviousValue``) and
changes only the rollback configuration, as the console's "Use existing template" update does.

The trigger is one composite alarm, ``deployment-health`` (``infra/monitoring.py``), in ALARM
when any alarm of the service is: a stack takes at most five triggers and the service has more
alarms. The monitoring period is ``deploySafety.rollbackMonitoringMinutes``; an environment
where it is 0 (dev) gets no triggers.

- ``apply`` (``make execute-change-set``, right after the change set ran): saves the wanted
  configuration when the stack's differs, so the next update is watched. Not while an alarm of
  the service is in ALARM: CloudFormation would roll that very update back; the stack is left as
  it is (a warning says so) and the next deployment applies them.
- ``suspend`` (a rollback, before its change set is prepared): removes the triggers. A rollback
  answers an alarm that may still be in ALARM, and with the triggers on, CloudFormation would
  roll the rollback back. The deployment after it applies them again.

Exit codes: 0 done (or nothing to do), 1 refused or failed (the reason in one line), 2 bad
arguments.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ci import workflow
from ci.access import failure
from ci.bake import describe_alarms
from ci.deployment import Deployment, Options
from session_service import specs

TRIGGER_TYPE = "AWS::CloudWatch::CompositeAlarm"
# What UpdateStack may start from, and what it ends in when it went through.
UPDATABLE = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"})
UPDATED = frozenset({"UPDATE_COMPLETE"})
POLL_SECONDS = 5
# The update changes no resource; it lasts the monitoring period, then cleans up.
SETTLE_MINUTES = 15
NO_CHANGE = "No updates are to be performed"

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class TriggerError(Exception):
    """The triggers could not be set: one line saying why and what to do."""


def trigger_arn(dep: Deployment) -> str:
    account = dep.config.account if dep.config else dep.account
    name = specs.deployment_health_alarm_name(dep.env)
    return f"arn:aws:cloudwatch:{dep.region}:{account}:alarm:{name}"


def wanted(dep: Deployment) -> dict[str, Any]:
    """The rollback configuration ``dep``'s config asks for (no triggers where it asks for 0)."""
    assert dep.config is not None
    minutes = dep.config.deploy_safety.rollback_monitoring_minutes
    if minutes == 0:
        return {"RollbackTriggers": [], "MonitoringTimeInMinutes": 0}
    return {
        "RollbackTriggers": [{"Arn": trigger_arn(dep), "Type": TRIGGER_TYPE}],
        "MonitoringTimeInMinutes": minutes,
    }


def saved(stack: Mapping[str, Any]) -> dict[str, Any]:
    """The stack's rollback configuration, in :func:`wanted`'s shape (absent: none)."""
    configuration = stack.get("RollbackConfiguration") or {}
    return {
        "RollbackTriggers": [
            {"Arn": t["Arn"], "Type": t["Type"]}
            for t in configuration.get("RollbackTriggers") or []
        ],
        "MonitoringTimeInMinutes": int(configuration.get("MonitoringTimeInMinutes") or 0),
    }


def alarm_names(configuration: Mapping[str, Any]) -> list[str]:
    """The names of the alarms a configuration (:func:`saved`'s shape) triggers on."""
    return [t["Arn"].rsplit(":alarm:", 1)[-1] for t in configuration["RollbackTriggers"]]


def shown(configuration: Mapping[str, Any]) -> str:
    if not configuration["RollbackTriggers"]:
        return "no rollback triggers"
    names = ", ".join(alarm_names(configuration))
    minutes = configuration["MonitoringTimeInMinutes"]
    return f"rollback trigger {names}, {minutes} minutes' monitoring"


def describe(dep: Deployment) -> dict[str, Any] | None:
    try:
        [stack] = dep.clients("cloudformation").describe_stacks(StackName=dep.stack_name)["Stacks"]
    except ClientError as err:
        if "does not exist" in str(err):
            return None
        raise
    return None if stack["StackStatus"] == "REVIEW_IN_PROGRESS" else dict(stack)


def firing(dep: Deployment) -> list[str]:
    """The service's alarms (and their composite) in ALARM now."""
    names = [*specs.alarm_names(dep.env).values(), specs.deployment_health_alarm_name(dep.env)]
    found = describe_alarms(dep.clients("cloudwatch"), names)
    return [name for name in names if found.get(name, {}).get("StateValue") == "ALARM"]


def update(
    dep: Deployment,
    stack: Mapping[str, Any],
    configuration: Mapping[str, Any],
    clock: Clock = time.time,
    sleep: Sleep = time.sleep,
) -> None:
    """Save ``configuration`` on the stack, template and parameters unchanged; wait for it."""
    cloudformation = dep.clients("cloudformation")
    try:
        cloudformation.update_stack(
            StackName=dep.stack_name,
            UsePreviousTemplate=True,
            Parameters=[
                {"ParameterKey": p["ParameterKey"], "UsePreviousValue": True}
                for p in stack.get("Parameters", [])
            ],
            Capabilities=list(stack.get("Capabilities", [])),
            RollbackConfiguration=dict(configuration),
        )
    except ClientError as err:
        if NO_CHANGE in str(err):
            return
        raise
    deadline = clock() + 60 * (SETTLE_MINUTES + int(configuration["MonitoringTimeInMinutes"]))
    while True:
        current = describe(dep) or {}
        status = str(current.get("StackStatus", ""))
        if not status.endswith("_IN_PROGRESS"):
            break
        if clock() > deadline:
            raise TriggerError(
                f"{dep.stack_name} is still {status} after the monitoring period: see its events "
                "(aws cloudformation describe-stack-events)"
            )
        sleep(POLL_SECONDS)
    if status not in UPDATED:
        events = cloudformation.describe_stack_events(StackName=dep.stack_name)["StackEvents"]
        reasons = [e["ResourceStatusReason"] for e in events if e.get("ResourceStatusReason")]
        raise TriggerError(
            f"the update of {dep.stack_name}'s rollback configuration ended {status}"
            + (f": {reasons[0]}" if reasons else "")
        )


def apply(dep: Deployment, clock: Clock = time.time, sleep: Sleep = time.sleep) -> list[str]:
    """Save the wanted triggers on the stack unless they are saved or an alarm fires."""
    stack = describe(dep)
    want = wanted(dep)
    if stack is None:
        return [f"{dep.stack_name} does not exist yet: the first deployment creates it"]
    have = saved(stack)
    if have == want and not want["RollbackTriggers"]:
        why = "deploySafety.rollbackMonitoringMinutes is 0"
        return [f"{dep.stack_name}: no rollback triggers ({why})"]
    if have == want:
        return [f"✅ {dep.stack_name} keeps its {shown(want)} for later updates"]
    if stack["StackStatus"] not in UPDATABLE:
        raise TriggerError(
            f"{dep.stack_name} is {stack['StackStatus']}: its rollback triggers cannot be set "
            f"until it is recovered (make stack-recover ENV={dep.env})"
        )
    alarms = firing(dep)
    if alarms and want["RollbackTriggers"]:
        line = (
            f"{dep.stack_name} keeps {shown(have)}: {', '.join(alarms)} in ALARM would roll the "
            "update that sets them back; the next deployment sets them"
        )
        if workflow.in_workflow():
            print(f"::warning::{line}")
        return [f"⚠️ {line}"]
    update(dep, stack, want, clock, sleep)
    return [f"✅ {dep.stack_name}: {shown(want)} watch every later update (were: {shown(have)})"]


def suspend(dep: Deployment, clock: Clock = time.time, sleep: Sleep = time.sleep) -> list[str]:
    """Remove the stack's triggers, so a rollback is not rolled back by the alarm it answers."""
    stack = describe(dep)
    if stack is None or not saved(stack)["RollbackTriggers"]:
        return [f"{dep.stack_name} has no rollback triggers to suspend"]
    if stack["StackStatus"] not in UPDATABLE:
        # Not a refusal: the rollback's deploy job recovers the stack, then suspends them.
        line = (
            f"{dep.stack_name} is {stack['StackStatus']}: its rollback triggers are suspended "
            "once the deploy job has recovered it"
        )
        if workflow.in_workflow():
            print(f"::warning::{line}")
        return [f"⚠️ {line}"]
    update(dep, stack, {"RollbackTriggers": [], "MonitoringTimeInMinutes": 0}, clock, sleep)
    return [
        f"✅ {dep.stack_name}: rollback triggers suspended for this rollback (were: "
        f"{shown(saved(stack))}); the next deployment sets them again"
    ]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ci.rollback_triggers", description=__doc__.split("\n")[0]
    )
    parser.add_argument("command", choices=("apply", "suspend"))
    parser.add_argument("--env", required=True)
    return parser


def main(
    argv: Sequence[str] | None = None, *, clock: Clock = time.time, sleep: Sleep = time.sleep
) -> int:
    args = _parser().parse_args(argv)
    dep = Deployment(Options(env=args.env))
    if dep.config_error:
        print(f"❌ {dep.config_error}", file=sys.stderr)
        return 2
    command = apply if args.command == "apply" else suspend
    try:
        lines = command(dep, clock, sleep)
    except TriggerError as err:
        line = str(err)
    except (BotoCoreError, ClientError) as err:
        line = failure(dep, err, f"{args.command} the rollback triggers of {dep.stack_name}").line()
    else:
        print("\n".join(lines))
        return 0
    print(f"❌ {line}", file=sys.stderr)
    workflow.annotate_error(line)
    return 1


if __name__ == "__main__":
    sys.exit(main())
