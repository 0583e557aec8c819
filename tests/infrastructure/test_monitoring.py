"""Checklist "Monitoring & Alarms", on every environment's template.

"Email subscription confirmed" is a step of the recipient after deploying (it cannot hold in a
template); ci/ verifies it on the deployment.
"""

from __future__ import annotations

from typing import Any

import pytest

from session_service import constants, specs

from .conftest import Synthesized

pytestmark = pytest.mark.infra


def alarm(synth: Synthesized, key: str) -> dict[str, Any]:
    name = specs.alarm_names(synth.env)[key]
    found = [
        resource["Properties"]
        for resource in synth.resources("AWS::CloudWatch::Alarm").values()
        if resource["Properties"]["AlarmName"] == name
    ]
    assert len(found) == 1, f"expected one alarm named {name}"
    return found[0]


def service_dimensions(env: str) -> list[dict[str, str]]:
    """The dimensions handlers emit, as CloudFormation lists them (sorted by name)."""
    return sorted(
        ({"Name": k, "Value": v} for k, v in constants.metric_dimensions(env).items()),
        key=lambda d: d["Name"],
    )


def assert_notifies_topic(properties: dict[str, Any]) -> None:
    assert properties["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_cloudwatch_alarms_created(synth: Synthesized) -> None:
    names = {
        resource["Properties"]["AlarmName"]
        for resource in synth.resources("AWS::CloudWatch::Alarm").values()
    }
    assert names == set(specs.alarm_names(synth.env).values())
    assert len(names) == 3 + len(specs.FUNCTIONS)
    assert all("session" in name for name in names)  # the checklist greps for it
    for resource in synth.resources("AWS::CloudWatch::Alarm").values():
        assert_notifies_topic(resource["Properties"])


def test_session_creation_latency_alarm_configured(synth: Synthesized) -> None:
    properties = alarm(synth, constants.ALARM_SESSION_CREATION_LATENCY)
    assert properties["Namespace"] == "SessionManagement"
    assert properties["MetricName"] == "SessionCreationLatency"
    assert properties["Dimensions"] == service_dimensions(synth.env)
    assert properties["ExtendedStatistic"] == "p95"
    assert "Unit" not in properties  # a unit filter would hide data points of another unit
    assert properties["Threshold"] == synth.config.alarms.session_creation_latency_p95_ms
    assert properties["ComparisonOperator"] == "GreaterThanThreshold"
    assert_notifies_topic(properties)


def test_connection_errors_alarm_configured(synth: Synthesized) -> None:
    properties = alarm(synth, constants.ALARM_CONNECTION_ERRORS)
    assert properties["Namespace"] == "SessionManagement"
    assert properties["MetricName"] == "ConnectionErrors"
    assert properties["Dimensions"] == service_dimensions(synth.env)
    assert properties["Statistic"] == "Sum"
    assert properties["Period"] == 300
    assert properties["Threshold"] == synth.config.alarms.connection_errors_per_5min
    assert_notifies_topic(properties)


def test_active_sessions_alarm_configured(synth: Synthesized) -> None:
    properties = alarm(synth, constants.ALARM_ACTIVE_SESSIONS)
    assert properties["Namespace"] == "SessionManagement"
    assert properties["MetricName"] == "ActiveSessions"
    assert properties["Dimensions"] == service_dimensions(synth.env)
    assert properties["Statistic"] == "Maximum"
    assert properties["Threshold"] == synth.config.alarms.active_sessions_max
    assert properties["Threshold"] <= synth.config.limits.max_active_sessions
    assert_notifies_topic(properties)


def test_lambda_error_alarms_configured_for_all_functions(synth: Synthesized) -> None:
    """One Errors alarm per function, the authorizer included."""
    watched = set()
    for handler, spec in specs.FUNCTIONS.items():
        name_template = spec.name_template
        properties = alarm(synth, constants.ALARM_FUNCTION_ERRORS_TEMPLATE.format(handler=handler))
        assert properties["Namespace"] == "AWS/Lambda"
        assert properties["MetricName"] == "Errors"
        assert properties["Statistic"] == "Sum"
        (dimension,) = properties["Dimensions"]
        assert dimension["Name"] == "FunctionName"
        function_id = dimension["Value"]["Ref"]
        assert synth.properties(function_id)["FunctionName"] == name_template.format(env=synth.env)
        assert properties["Threshold"] == synth.config.alarms.lambda_errors_per_5min
        assert_notifies_topic(properties)
        watched.add(function_id)
    assert watched == set(synth.resources("AWS::Lambda::Function"))


def test_sns_topic_created(synth: Synthesized) -> None:
    topics = synth.resources("AWS::SNS::Topic")
    assert list(topics) == ["AlarmTopic"]
    assert topics["AlarmTopic"]["Properties"]["TopicName"] == (
        f"session-management-alarms-{synth.env}"
    )
    # TLS only (cdk-nag SNS3): publishing without TLS is denied
    policy = synth.properties("AlarmTopicPolicy")
    assert policy["Topics"] == [{"Ref": "AlarmTopic"}]
    assert {
        "Action": "sns:Publish",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        "Effect": "Deny",
        "Principal": "*",
        "Resource": {"Ref": "AlarmTopic"},
        "Sid": "AllowPublishThroughSSLOnly",
    } in policy["PolicyDocument"]["Statement"]


def test_email_subscription_created(synth: Synthesized) -> None:
    subscriptions = synth.resources("AWS::SNS::Subscription")
    assert [s["Properties"] for s in subscriptions.values()] == [
        {
            "Protocol": "email",
            "TopicArn": {"Ref": "AlarmTopic"},
            "Endpoint": synth.config.alarm_email,
        }
    ]


def test_deployment_health_combines_every_alarm(synth: Synthesized) -> None:
    """The rollback trigger of stack updates: in ALARM when any alarm of the service is."""
    [composite] = synth.resources("AWS::CloudWatch::CompositeAlarm").values()
    properties = composite["Properties"]
    assert properties["AlarmName"] == specs.deployment_health_alarm_name(synth.env)
    assert properties["ActionsEnabled"] is False  # each alarm it combines notifies the topic
    parts = properties["AlarmRule"]["Fn::Join"][1]
    logical_ids = {
        logical_id
        for logical_id, resource in synth.resources("AWS::CloudWatch::Alarm").items()
        if resource["Properties"]["AlarmName"] in specs.alarm_names(synth.env).values()
    }
    assert len(logical_ids) == len(specs.alarm_names(synth.env))
    assert {p["Fn::GetAtt"][0] for p in parts if isinstance(p, dict)} == logical_ids
    text = "".join(p for p in parts if isinstance(p, str))
    assert text.count('ALARM("') == len(logical_ids)
    assert text.count(" OR ") == len(logical_ids) - 1
