"""The approver's summary and the refusals of ``ci.change_set``, on change sets in
CloudFormation's ``DescribeChangeSet`` shape as the local AWS computes them from two templates
(``local.change_sets``, the same shape AWS answers)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ci.change_set import (
    Change,
    Refused,
    allowed_replacements,
    changes_of,
    digest,
    markdown,
    refusal,
)
from local.change_sets import resource_changes

TABLE = {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "sessions-prod"}}
ROLE = {"Type": "AWS::IAM::Role", "Properties": {"Description": "old"}}
TOPIC = {"Type": "AWS::SNS::Topic", "Properties": {}}


def changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    return changes_of({"Changes": resource_changes(old, new)})


def record(env: str = "prod", refused: str | None = None) -> dict[str, Any]:
    return {
        "env": env, "release": "v2.0.0", "stackName": f"SessionManagement-{env}",
        "stackStatus": "UPDATE_COMPLETE", "changeSetName": "release-7-1", "refused": refused,
    }  # fmt: skip


def test_a_renamed_table_is_a_replacement_that_loses_data() -> None:
    renamed = {"Type": TABLE["Type"], "Properties": {"TableName": "sessions-v2"}}
    [change] = changes({"Sessions": TABLE}, {"Sessions": renamed})
    assert change.kind == "replaced"
    assert change.loses_data


def test_a_replaced_prod_table_is_refused_without_the_releases_mark() -> None:
    renamed = {"Type": TABLE["Type"], "Properties": {"TableName": "sessions-v2"}}
    found = changes({"Sessions": TABLE}, {"Sessions": renamed})
    reason = refusal("prod", "v2.0.0", found, allowed=set())
    assert reason is not None
    assert "AWS::DynamoDB::Table Sessions (replaced)" in reason
    assert "infra/allowed-stateful-changes.json" in reason
    assert refusal("prod", "v2.0.0", found, allowed={"Sessions"}) is None
    assert refusal("staging", "v2.0.0", found, allowed=set()) is None  # staging's data is not kept


def test_a_removed_table_is_refused_and_an_added_one_is_not() -> None:
    assert refusal("prod", "v2", changes({"Sessions": TABLE}, {}), set()) is not None
    assert refusal("prod", "v2", changes({}, {"Sessions": TABLE}), set()) is None


def test_the_allow_mark_must_name_the_release_the_environment_and_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "allowed-stateful-changes.json"
    entries = [
        {"release": "v2.0.0", "environment": "prod", "logicalIds": ["Sessions"], "reason": "key"},
        {"release": "v2.0.1", "environment": "prod", "logicalIds": ["Other"], "reason": "later"},
        {"release": "v2.0.0", "environment": "prod", "logicalIds": ["NoReason"]},
    ]  # fmt: skip
    path.write_text(json.dumps({"allowed": entries}))
    assert allowed_replacements(path, "v2.0.0", "prod") == {"Sessions"}
    assert allowed_replacements(path, "v2.0.0", "staging") == set()
    assert allowed_replacements(tmp_path / "absent.json", "v2.0.0", "prod") == set()
    path.write_text("[]")
    with pytest.raises(Refused, match=r"allowed-stateful-changes\.json: expected"):
        allowed_replacements(path, "v2.0.0", "prod")


def test_the_summary_puts_data_loss_and_iam_first_in_bold() -> None:
    renamed = {"Type": TABLE["Type"], "Properties": {"TableName": "sessions-v2"}}
    new_role = {"Type": ROLE["Type"], "Properties": {"Description": "new"}}
    found = changes(
        {"Sessions": TABLE, "Role": ROLE, "Old": TOPIC},
        {"Sessions": renamed, "Role": new_role, "New": TOPIC},
    )
    text = markdown(record(), found)
    attention = text.split("### Needs attention")[1].split("| change |")[0]
    assert "**AWS::DynamoDB::Table `Sessions` replaced: data is lost**" in attention
    assert "**AWS::IAM::Role `Role` modified: permissions change**" in attention
    assert "| 1 | 1 | 1 | 0 | 1 |" in text  # added, modified, replaced, may be replaced, removed
    rows = [line for line in text.splitlines() if line.startswith("| ") and "`" in line]
    assert [r.split(" | ")[0] for r in rows] == ["| added", "| modified", "| replaced", "| removed"]


def test_the_digest_changes_with_any_change_and_not_with_order() -> None:
    a = changes({}, {"A": TOPIC, "B": TOPIC})
    assert digest(a) == digest(list(reversed(a)))
    assert digest(a) != digest(changes({}, {"A": TOPIC}))
