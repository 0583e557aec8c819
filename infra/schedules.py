"""The EventBridge rules of the scheduled functions (a spec with ``schedule_rate_setting``).

Each rule invokes its function at the rate the environment's ``limits`` set (e.g. the janitor
every ``limits.janitorRateMinutes`` minutes). Neither EventBridge nor Lambda retries a failed
run: the next scheduled run does the same work (the janitor is idempotent and resumes where a
run stopped), while a retry would overlap that run and double its cost for nothing.

Logical ids are fixed: ``<Name>Schedule`` for the rule, ``<Name>ScheduleInvoke`` for the
permission EventBridge needs, ``<Name>EventInvokeConfig`` (Name the spec's ``construct_id``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from session_service import specs

if TYPE_CHECKING:
    from collections.abc import Mapping

    from infra.config import EnvironmentConfig


def rate_minutes(spec: specs.FunctionSpec, config: EnvironmentConfig) -> int:
    """The rate of ``spec``'s schedule in ``config``, in minutes."""
    assert spec.schedule_rate_setting is not None
    return int(getattr(config.limits, spec.schedule_rate_setting))


class SessionSchedules(Construct):
    """One rule per scheduled function, invoking it once per period without retries."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        functions: Mapping[str, lambda_.Function],
    ) -> None:
        super().__init__(scope, construct_id)
        self.rules: dict[str, events.Rule] = {}
        for key, spec in specs.FUNCTIONS.items():
            name = spec.schedule_name(config.env)
            if name is None:
                continue
            function = functions[key]
            minutes = rate_minutes(spec, config)
            rule = events.Rule(
                self,
                f"{spec.construct_id}Schedule",
                rule_name=name,
                description=f"runs {spec.function_name(config.env)} every {minutes} min",
                schedule=events.Schedule.rate(Duration.minutes(minutes)),
            )
            rule.add_target(
                targets.LambdaFunction(
                    function,  # type: ignore[arg-type]
                    retry_attempts=0,
                    max_event_age=Duration.minutes(minutes),
                )
            )
            rule.node.default_child.override_logical_id(  # type: ignore[union-attr]
                f"{spec.construct_id}Schedule"
            )
            for child in rule.node.children:
                if isinstance(child, lambda_.CfnPermission):
                    child.override_logical_id(f"{spec.construct_id}ScheduleInvoke")
            self.rules[key] = rule
