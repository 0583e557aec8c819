"""The janitor beyond its function (test_functions.py): its schedule, its invocation settings,
its alarm and its dashboard widget, on every environment's template."""

from __future__ import annotations

import json

import pytest

from session_service import specs

from .conftest import Synthesized

pytestmark = pytest.mark.infra


def test_the_janitor_runs_on_an_eventbridge_rule_at_the_configured_rate(
    synth: Synthesized,
) -> None:
    rules = synth.resources("AWS::Events::Rule")
    assert list(rules) == ["JanitorSchedule"]
    rule = rules["JanitorSchedule"]["Properties"]
    minutes = synth.config.limits.janitor_rate_minutes
    unit = "minute" if minutes == 1 else "minutes"
    assert rule["Name"] == f"session-janitor-{synth.env}-schedule"
    assert rule["ScheduleExpression"] == f"rate({minutes} {unit})"
    assert rule["State"] == "ENABLED"
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["JanitorFunction", "Arn"]}
    # a failed run is not retried: the next run does its work, a retry would overlap it
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 0


def test_only_the_janitors_rule_may_invoke_it_and_lambda_does_not_retry_it(
    synth: Synthesized,
) -> None:
    permission = synth.properties("JanitorScheduleInvoke")
    assert permission == {
        "Action": "lambda:InvokeFunction",
        "FunctionName": {"Fn::GetAtt": ["JanitorFunction", "Arn"]},
        "Principal": "events.amazonaws.com",
        "SourceArn": {"Fn::GetAtt": ["JanitorSchedule", "Arn"]},
    }
    config = synth.properties("JanitorEventInvokeConfig")
    assert config["FunctionName"] == {"Ref": "JanitorFunction"}
    assert config["MaximumRetryAttempts"] == 0
    others = [
        p["Properties"]["FunctionName"]
        for p in synth.resources("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "events.amazonaws.com"
    ]
    assert others == [{"Fn::GetAtt": ["JanitorFunction", "Arn"]}]


def test_the_janitor_has_an_error_alarm_with_the_alarm_action(synth: Synthesized) -> None:
    alarm = synth.properties("JanitorErrorsAlarm")
    assert alarm["AlarmName"] == specs.alarm_names(synth.env)[specs.JANITOR.error_alarm]
    assert alarm["AlarmName"] == f"session-management-{synth.env}-janitor-function-errors"
    assert alarm["Namespace"] == "AWS/Lambda"
    assert alarm["MetricName"] == "Errors"
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "JanitorFunction"}}]
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_the_dashboard_shows_what_the_janitor_set_right(synth: Synthesized) -> None:
    properties = synth.properties("Dashboard")
    body = "".join(
        part if isinstance(part, str) else json.dumps(part)
        for part in properties["DashboardBody"]["Fn::Join"][1]
    )
    for metric in ("SessionsReaped", "ConnectionsReaped", "CountsCorrected"):
        assert f'"SessionManagement","{metric}"' in body
    assert "Janitor" in body
