"""CloudFormation's rollback triggers, as the local deployer emulates them.

moto saves no rollback configuration and watches no alarm during a stack operation. The local
deployer (:class:`local.pipeline_aws.PipelineAws`) does what CloudFormation does with the
triggers saved on a stack (:func:`local.stack_operations.rollback_configuration`): an update
whose trigger is in ALARM when it starts, or goes to ALARM before the monitoring period after it
ends, is rolled back. A composite alarm is evaluated here from the alarms its rule names
(``ALARM("arn…")``, joined by OR as ``infra/monitoring.py`` writes it): moto keeps a composite's
state but never evaluates it.

The monitoring period lasts ``MonitoringTimeInMinutes`` times ``seconds_per_minute`` (60 on AWS; the
rehearsal shortens it and its report says so).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from typing import Any

_ALARM_REFERENCE = re.compile(r'ALARM\(\s*"?([^")]+?)"?\s*\)')
POLL_SECONDS = 0.5


def alarm_name(arn_or_name: str) -> str:
    return arn_or_name.rsplit(":alarm:", 1)[-1]


def in_alarm(cloudwatch: Any, name: str) -> list[str]:
    """``name`` and, for a composite, the alarms of its rule that are in ALARM now."""
    kinds = ["MetricAlarm", "CompositeAlarm"]
    found = cloudwatch.describe_alarms(AlarmNames=[name], AlarmTypes=kinds)
    metric, composite = found.get("MetricAlarms", []), found.get("CompositeAlarms", [])
    if metric:
        return [name] if metric[0]["StateValue"] == "ALARM" else []
    if not composite:
        return [f"{name} (missing: a missing trigger fails the operation)"]
    children = [alarm_name(ref) for ref in _ALARM_REFERENCE.findall(composite[0]["AlarmRule"])]
    firing = [child for child in children if in_alarm(cloudwatch, child)]
    if composite[0]["StateValue"] == "ALARM" or firing:
        return [name, *firing]
    return []


def fired(cloudwatch: Any, configuration: Mapping[str, Any]) -> list[str]:
    """The triggers of ``configuration`` in ALARM now (each with the alarms that made it)."""
    return [
        name
        for trigger in configuration.get("RollbackTriggers", [])
        for name in in_alarm(cloudwatch, alarm_name(trigger["Arn"]))
    ]


def watch(
    cloudwatch: Any,
    configuration: Mapping[str, Any],
    seconds_per_minute: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> list[str]:
    """Poll the triggers through the monitoring period; the first that fire (empty: none)."""
    deadline = clock() + float(configuration.get("MonitoringTimeInMinutes", 0)) * seconds_per_minute
    while True:
        firing = fired(cloudwatch, configuration)
        if firing or clock() >= deadline:
            return firing
        sleep(POLL_SECONDS)
