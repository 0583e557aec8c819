"""The local environment creates composite alarms (local/moto_cloudwatch.py), via moto's server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from local import moto_cloudwatch
from local.moto_server import MotoServer


@pytest.fixture(scope="module")
def cloudwatch() -> Iterator[Any]:
    server = MotoServer()
    server.start()
    yield boto3.client(
        "cloudwatch",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    server.shutdown()


def test_moto_does_not_answer_put_composite_alarm_itself() -> None:
    assert (
        not moto_cloudwatch.moto_answers_it()
    ), "moto now answers PutCompositeAlarm: drop local/moto_cloudwatch.py"


def test_put_composite_alarm_stores_a_composite_with_its_rule(cloudwatch: Any) -> None:
    cloudwatch.put_metric_alarm(
        AlarmName="errors",
        MetricName="Errors",
        Namespace="Test",
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )
    rule = 'ALARM("arn:aws:cloudwatch:us-east-1:123456789012:alarm:errors")'
    cloudwatch.put_composite_alarm(
        AlarmName="health", AlarmRule=rule, AlarmDescription="any", ActionsEnabled=False
    )
    found = cloudwatch.describe_alarms(AlarmNames=["health"], AlarmTypes=["CompositeAlarm"])
    [composite] = found["CompositeAlarms"]
    assert (composite["AlarmName"], composite["AlarmRule"]) == ("health", rule)
    assert composite["ActionsEnabled"] is False
    assert found["MetricAlarms"] == []
