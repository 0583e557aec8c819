"""docs/pipelines.md shows the approver's view of a change set: the summary ``ci.change_set``
renders, for the change set ``local.change_sets`` computes from two templates. The example in
the document must be what the code renders today (quoted)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ci.change_set import changes_of, markdown, refusal
from local.change_sets import resource_changes

DOC = Path(__file__).resolve().parents[2] / "docs" / "pipelines.md"
RELEASE = "v1.5.0"


def example() -> str:
    old: dict[str, Any] = {
        "SessionsTable": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {"TableName": "session-management-sessions-prod"},
        },
        "AuthorizerFunction": {"Type": "AWS::Lambda::Function", "Properties": {"MemorySize": 256}},
        "AuthorizerPolicy": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyName": "a"}},
    }
    new = {
        "SessionsTable": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {"TableName": "session-management-sessions-v2-prod"},
        },
        "AuthorizerFunction": {"Type": "AWS::Lambda::Function", "Properties": {"MemorySize": 512}},
        "AuthorizerPolicy": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyName": "b"}},
    }
    changes = changes_of({"Changes": resource_changes(old, new)})
    record = {
        "env": "prod",
        "release": RELEASE,
        "stackName": "SessionManagement-prod",
        "stackStatus": "UPDATE_COMPLETE",
        "changeSetName": "release-8123456789-1",
        "refused": refusal("prod", RELEASE, changes, allowed=set()),
        "rollbackTriggers": {
            "alarms": ["session-management-prod-deployment-health"],
            "minutes": 10,
        },
    }
    return markdown(record, changes)


def test_the_approvers_view_in_the_pipelines_doc_is_what_the_code_renders() -> None:
    text = DOC.read_text(encoding="utf-8")
    found = re.search(r"<!-- change-set-example -->\n(.*?)<!-- /change-set-example -->", text, re.S)
    assert found, "docs/pipelines.md lacks the change-set example markers"
    # Quoted in the document, so that its headings stay out of the document's outline.
    quoted = "".join(f"> {line}".rstrip() + "\n" for line in example().splitlines())
    assert found.group(1) == quoted
