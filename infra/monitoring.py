"""Alarms, their SNS topic (TLS only, email subscription) and the CloudWatch dashboard.

Every service alarm watches a metric exactly as the handlers emit it: namespace
``constants.METRICS_NAMESPACE``, dimensions ``constants.metric_dimensions(env)``. Function error
alarms watch ``AWS/Lambda`` ``Errors`` by ``FunctionName``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.nag import acknowledge
from session_service import constants, specs

if TYPE_CHECKING:
    from collections.abc import Mapping

    from aws_cdk import aws_lambda as lambda_

    from infra.config import EnvironmentConfig

PERIOD = Duration.minutes(5)


class SessionMonitoring(Construct):
    """SNS topic + email, the service alarms, one error alarm per function, their composite,
    the dashboard."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        functions: Mapping[str, lambda_.IFunction],
    ) -> None:
        super().__init__(scope, construct_id)
        env = config.env
        thresholds = config.alarms
        names = specs.alarm_names(env)

        self.topic = sns.Topic(
            self,
            "AlarmTopic",
            topic_name=constants.ALARM_TOPIC_TEMPLATE.format(env=env),
            display_name=f"Session management alarms ({env})",
            enforce_ssl=True,
        )
        self.topic.node.default_child.override_logical_id("AlarmTopic")  # type: ignore[union-attr]
        self.topic.node.find_child("Policy").node.default_child.override_logical_id(  # type: ignore[union-attr]
            "AlarmTopicPolicy"
        )
        acknowledge(
            self.topic,
            "AwsSolutions-SNS2",
            (
                "Alarm notifications carry alarm names and states only, no customer data; "
                "CloudWatch cannot publish to a topic encrypted with the AWS managed SNS key, and "
                "publishing is TLS-only (topic policy, SNS3)."
            ),
        )
        self.subscription = sns.Subscription(
            self,
            "AlarmEmail",
            topic=self.topic,
            protocol=sns.SubscriptionProtocol.EMAIL,
            endpoint=config.alarm_email,
        )
        self.subscription.node.default_child.override_logical_id(  # type: ignore[union-attr]
            "AlarmEmailSubscription"
        )
        action = cloudwatch_actions.SnsAction(self.topic)

        # No unit filter: an alarm with a unit ignores data points emitted with another one.
        def service_metric(name: str, statistic: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=constants.METRICS_NAMESPACE,
                metric_name=name,
                dimensions_map=constants.metric_dimensions(env),
                statistic=statistic,
                period=PERIOD,
            )

        self.metrics = {
            "latency": service_metric(constants.METRIC_SESSION_CREATION_LATENCY, "p95"),
            "errors": service_metric(constants.METRIC_CONNECTION_ERRORS, "Sum"),
            "active": service_metric(constants.METRIC_ACTIVE_SESSIONS, "Maximum"),
        }
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        self._alarm(
            constants.ALARM_SESSION_CREATION_LATENCY,
            "SessionCreationLatencyAlarm",
            names,
            self.metrics["latency"],
            thresholds.session_creation_latency_p95_ms,
            f"p95 session creation latency above {thresholds.session_creation_latency_p95_ms} ms "
            "over 5 minutes",
            action,
        )
        self._alarm(
            constants.ALARM_CONNECTION_ERRORS,
            "ConnectionErrorsAlarm",
            names,
            self.metrics["errors"],
            thresholds.connection_errors_per_5min,
            f"more than {thresholds.connection_errors_per_5min} refused connection requests "
            "in 5 minutes",
            action,
        )
        self._alarm(
            constants.ALARM_ACTIVE_SESSIONS,
            "ActiveSessionsAlarm",
            names,
            self.metrics["active"],
            thresholds.active_sessions_max,
            f"more than {thresholds.active_sessions_max} active sessions "
            f"(limit {config.limits.max_active_sessions})",
            action,
        )
        self.function_error_metrics: dict[str, cloudwatch.Metric] = {}
        for handler, function in functions.items():
            metric = function.metric_errors(period=PERIOD, statistic="Sum")
            self.function_error_metrics[handler] = metric
            spec = specs.FUNCTIONS[handler]
            self._alarm(
                spec.error_alarm,
                f"{spec.construct_id}ErrorsAlarm",
                names,
                metric,
                thresholds.lambda_errors_per_5min,
                f"more than {thresholds.lambda_errors_per_5min} errors of the {handler} function "
                "in 5 minutes",
                action,
            )

        # No actions: each alarm it combines notifies the topic itself. CloudFormation watches it
        # during stack updates (rollback triggers, ci.rollback_triggers).
        self.deployment_health = cloudwatch.CompositeAlarm(
            self,
            "DeploymentHealthAlarm",
            composite_alarm_name=specs.deployment_health_alarm_name(env),
            alarm_description="any alarm of the service in ALARM: a stack update rolls back",
            alarm_rule=cloudwatch.AlarmRule.any_of(
                *(
                    cloudwatch.AlarmRule.from_alarm(alarm, cloudwatch.AlarmState.ALARM)
                    for alarm in self.alarms.values()
                )
            ),
            actions_enabled=False,
        )
        self.deployment_health.node.default_child.override_logical_id(  # type: ignore[union-attr]
            "DeploymentHealthAlarm"
        )

        self.dashboard: cloudwatch.Dashboard | None = None
        if config.production.dashboard:
            self.dashboard = self._dashboard(env, functions)

    def _alarm(
        self,
        key: str,
        logical_id: str,
        names: dict[str, str],
        metric: cloudwatch.Metric,
        threshold: int,
        description: str,
        action: cloudwatch_actions.SnsAction,
    ) -> None:
        alarm = cloudwatch.Alarm(
            self,
            logical_id,
            alarm_name=names[key],
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)
        alarm.node.default_child.override_logical_id(logical_id)  # type: ignore[union-attr]
        self.alarms[key] = alarm

    def _dashboard(
        self, env: str, functions: Mapping[str, lambda_.IFunction]
    ) -> cloudwatch.Dashboard:
        dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=constants.DASHBOARD_NAME_TEMPLATE.format(env=env),
            default_interval=Duration.hours(3),
        )
        dashboard.node.default_child.override_logical_id("Dashboard")  # type: ignore[union-attr]

        def service(name: str, statistic: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=constants.METRICS_NAMESPACE,
                metric_name=name,
                dimensions_map=constants.metric_dimensions(env),
                statistic=statistic,
                period=Duration.minutes(1),
            )

        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Session creation / listener join latency (p95, ms)",
                left=[
                    service(constants.METRIC_SESSION_CREATION_LATENCY, "p95"),
                    service(constants.METRIC_LISTENER_JOIN_LATENCY, "p95"),
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Active sessions and listeners",
                left=[service(constants.METRIC_ACTIVE_SESSIONS, "Maximum")],
                right=[service(constants.METRIC_TOTAL_LISTENERS, "Maximum")],
                width=12,
            ),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Refused requests",
                left=[
                    service(constants.METRIC_CONNECTION_ERRORS, "Sum"),
                    service(constants.METRIC_RATE_LIMIT_EXCEEDED, "Sum"),
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Function errors",
                left=[
                    function.metric_errors(period=Duration.minutes(1), statistic="Sum")
                    for function in functions.values()
                ],
                width=12,
            ),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Function duration (p95, ms)",
                left=[
                    function.metric_duration(period=Duration.minutes(1), statistic="p95")
                    for function in functions.values()
                ],
                width=12,
            ),
            cloudwatch.AlarmStatusWidget(
                title="Alarms", alarms=list(self.alarms.values()), width=12
            ),
        )
        # What the janitor set right: nonzero means an event was lost (a $disconnect that never
        # came or failed midway), and the janitor repaired it.
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Janitor: sessions and connections reaped, counts corrected (per minute)",
                left=[
                    service(constants.METRIC_SESSIONS_REAPED, "Sum"),
                    service(constants.METRIC_CONNECTIONS_REAPED, "Sum"),
                    service(constants.METRIC_COUNTS_CORRECTED, "Sum"),
                ],
                width=24,
            ),
        )
        return dashboard
