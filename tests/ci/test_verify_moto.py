"""The checks against moto: a correct deployment passes every automatic line; each broken
deployment fails exactly the line it breaks and nothing else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from ci_fakes import AUTOMATIC_SECTIONS, FakeDeployment

from ci import runner
from ci.deployment import Deployment
from ci.model import Status
from session_service import constants as C


def _failing(dep: Deployment) -> dict[str, str]:
    results = runner.run(dep, AUTOMATIC_SECTIONS)
    return {r.id: r.evidence for r in results if r.status is Status.FAIL}


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_correct_deployment_passes_every_automatic_check(aws, deployment_of, env: str) -> None:
    aws(env)
    results = runner.run(deployment_of(env), AUTOMATIC_SECTIONS)
    assert results, "no check ran"
    bad = {
        r.id: (r.status.value, r.evidence, r.note) for r in results if r.status is not Status.PASS
    }
    allowed_skips = {"production.custom-domain", "production.dns"}
    if env != "prod":
        allowed_skips |= {"production.pitr", "production.log-retention"}
    assert set(bad) <= allowed_skips, bad
    assert all(v[0] == "skipped" for v in bad.values())


def _table(fake: FakeDeployment, key: str) -> str:
    return str(C.TABLES[key]["name"]).format(env=fake.env)


def ttl_off(fake: FakeDeployment) -> None:
    fake.client("dynamodb").update_time_to_live(
        TableName=_table(fake, "sessions"),
        TimeToLiveSpecification={"Enabled": False, "AttributeName": "expiresAt"},
    )


def gsi_missing(fake: FakeDeployment) -> None:
    fake.client("dynamodb").update_table(
        TableName=_table(fake, "connections"),
        GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": C.CONNECTIONS_GSI_NAME}}],
    )


def wrong_memory(fake: FakeDeployment) -> None:
    fake.client("lambda").update_function_configuration(
        FunctionName=fake.functions["connection"]["FunctionName"], MemorySize=512
    )


def route_missing(fake: FakeDeployment) -> None:
    fake.client("apigatewayv2").delete_route(ApiId=fake.api_id, RouteId=fake.routes["heartbeat"])


def authorizer_missing(fake: FakeDeployment) -> None:
    fake.client("apigatewayv2").delete_authorizer(
        ApiId=fake.api_id, AuthorizerId=fake.authorizer_id
    )


def alarm_without_action(fake: FakeDeployment) -> None:
    cw = fake.client("cloudwatch")
    name = fake.alarm_names[C.ALARM_SESSION_CREATION_LATENCY]
    alarm = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    keep = ("Namespace", "MetricName", "Dimensions", "Period", "EvaluationPeriods", "Threshold",
            "ComparisonOperator", "ExtendedStatistic")  # fmt: skip
    cw.put_metric_alarm(AlarmName=name, AlarmActions=[], **{k: alarm[k] for k in keep})


def topic_without_subscription(fake: FakeDeployment) -> None:
    sns = fake.client("sns")
    for sub in sns.list_subscriptions_by_topic(TopicArn=fake.topic_arn)["Subscriptions"]:
        sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])


def pitr_off(fake: FakeDeployment) -> None:
    fake.client("dynamodb").update_continuous_backups(
        TableName=_table(fake, "sessions"),
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False},
    )


def retention_too_short(fake: FakeDeployment) -> None:
    name = f"/aws/lambda/{fake.functions['connection']['FunctionName']}"
    fake.client("logs").put_retention_policy(logGroupName=name, retentionInDays=7)


BROKEN: list[tuple[str, Callable[[FakeDeployment], Any], str]] = [
    ("dev", ttl_off, "tables.sessions.ttl"),
    ("dev", gsi_missing, "tables.connections.gsi"),
    ("dev", wrong_memory, "functions.connection.deployed"),
    ("dev", route_missing, "api.route.heartbeat"),
    ("dev", authorizer_missing, "api.authorizer"),
    ("dev", alarm_without_action, "monitoring.alarm.session-latency"),
    ("dev", topic_without_subscription, "monitoring.subscription"),
    ("prod", pitr_off, "production.pitr"),
    ("prod", retention_too_short, "functions.log-retention"),
]


@pytest.mark.parametrize(
    ("env", "breakage", "check_id"), BROKEN, ids=[b[1].__name__ for b in BROKEN]
)
def test_broken_deployment_fails_exactly_the_line_it_breaks(
    aws, deployment_of, env: str, breakage: Callable[[FakeDeployment], Any], check_id: str
) -> None:
    fake = aws(env)
    breakage(fake)
    failing = _failing(deployment_of(env))
    assert set(failing) == {check_id}, failing


def test_missing_stack_fails_each_line_with_the_reason(aws, deployment_of) -> None:
    fake = aws("dev")
    fake.client("cloudformation").delete_stack(StackName="SessionManagement-dev")
    results = runner.run(deployment_of("dev"), ["tables"])
    assert {r.status for r in results} == {Status.FAIL}
    assert all("SessionManagement-dev not found" in r.evidence for r in results)


def test_pending_subscription_is_manual_with_what_to_do(aws, deployment_of) -> None:
    aws("dev")
    dep = deployment_of("dev")
    dep.scratch["subscriptions"] = [
        {
            "Protocol": "email",
            "Endpoint": dep.config.alarm_email,
            "SubscriptionArn": "PendingConfirmation",
        }
    ]
    results = {r.id: r for r in runner.run(dep, ["monitoring"])}
    confirmed = results["monitoring.subscription-confirmed"]
    assert confirmed.status is Status.MANUAL
    assert "Confirm subscription" in confirmed.note
    assert dep.config.alarm_email not in confirmed.note + confirmed.evidence


def test_refresh_authorizer_line_says_why_it_is_satisfied_through_connect(
    aws, deployment_of
) -> None:
    aws("dev")
    results = {r.id: r for r in runner.run(deployment_of("dev"), ["api"])}
    line = results["api.authorizer.refresh"]
    assert line.status is Status.PASS
    assert "$connect only" in line.note


def test_twelve_hour_retention_is_reported_as_rounded_up(aws, deployment_of) -> None:
    aws("dev")
    results = {r.id: r for r in runner.run(deployment_of("dev"), ["functions"])}
    line = results["functions.log-retention"]
    assert line.status is Status.PASS
    assert "12 h" in line.note
    assert "1 day" in line.note


def test_failure_carries_expected_value_and_the_aws_command(aws, deployment_of) -> None:
    fake = aws("dev")
    ttl_off(fake)
    results = {r.id: r for r in runner.run(deployment_of("dev"), ["tables"])}
    line = results["tables.sessions.ttl"]
    assert line.expected == "TTL ENABLED on expiresAt"
    assert (
        line.command
        == "aws dynamodb describe-time-to-live --table-name Sessions-dev --region us-east-1"
    )
