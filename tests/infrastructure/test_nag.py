"""cdk-nag AwsSolutions checks run in every synth: a finding fails it, acknowledgements say why."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import aws_sns as sns

from infra.app import build_app
from infra.config import ConfigWarning

from .conftest import Synthesized

pytestmark = pytest.mark.infra


def acknowledgements(raw: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
    return [
        (logical_id, rule)
        for logical_id, resource in raw["Resources"].items()
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    ]


def test_every_acknowledged_rule_carries_its_reason(synth: Synthesized) -> None:
    found = acknowledgements(synth.raw)
    assert found, "the template records its acknowledgements"
    for logical_id, rule in found:
        assert rule["id"].startswith("AwsSolutions-"), logical_id
        assert len(rule["reason"]) > 40, f"{logical_id}: {rule['id']} needs a real reason"


def test_only_expected_rules_are_acknowledged(synth: Synthesized) -> None:
    rules = {rule["id"].split("[", 1)[0] for _, rule in acknowledgements(synth.raw)}
    expected = {"AwsSolutions-APIG4", "AwsSolutions-IAM4", "AwsSolutions-IAM5", "AwsSolutions-SNS2"}
    if not synth.config.production.point_in_time_recovery:
        expected.add("AwsSolutions-DDB3")
    assert rules == expected


def test_an_unacknowledged_finding_fails_the_synth(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConfigWarning)
        app, stack = build_app("dev", outdir=str(tmp_path))
    sns.Topic(stack, "TopicWithoutTls")  # SNS2 and SNS3 findings, not acknowledged
    with pytest.raises(RuntimeError, match=r"(?s)ValidationFailed: .*AwsSolutions-SNS3"):
        app.synth()
