"""Prepared change sets of the served stacks, answered by moto's ``DescribeChangeSet``.

moto's CloudFormation cannot make a change set of this stack (it fails on the stack's API
Gateway v2 resources, as its ``CreateStack`` skips them), and the local deployer creates the
stack outside CloudFormation. So the rehearsal's ``cdk deploy --method=prepare-change-set``
(``local.cdk`` → :class:`local.pipeline_aws.PipelineAws`) registers the change set here: the
assembly as prepared (a copy: what runs is what was prepared, whatever the job's ``cdk.out``
holds later), its resource changes computed from the deployed template, and the stack as it was.
:func:`install` makes moto's server answer ``DescribeChangeSet`` for those change sets in the
shape CloudFormation answers (``Changes`` with ``ResourceChange`` entries, ``ExecutionStatus``),
so ``ci.change_set`` reads them with boto3 exactly as it reads AWS's.

As CloudFormation does: a change set whose stack changed since it was prepared (another id,
another last change or status) is ``OBSOLETE``; executing one deletes the stack's others.

Replacement is the emulator's approximation: a changed resource type, or a change of a property
the CloudFormation resource reference lists as "Update requires: Replacement" for the types whose
loss matters (:data:`REPLACING_PROPERTIES`); every other change is an in-place ``Modify``.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from moto.cloudformation.responses import CloudFormationResponse
from moto.core.responses import ActionResult

from local import stack_operations
from session_service import constants

# Properties whose change replaces the resource (CloudFormation resource reference).
REPLACING_PROPERTIES: dict[str, frozenset[str]] = {
    "AWS::DynamoDB::Table": frozenset({"TableName", "KeySchema"}),
    "AWS::Cognito::UserPool": frozenset({"UsernameAttributes", "AliasAttributes"}),
    "AWS::Logs::LogGroup": frozenset({"LogGroupName"}),
    "AWS::Lambda::Function": frozenset({"FunctionName"}),
    "AWS::IAM::Role": frozenset({"RoleName", "Path"}),
    "AWS::SNS::Topic": frozenset({"TopicName"}),
}
_MOTO_DESCRIBE_CHANGE_SET = CloudFormationResponse.describe_change_set


def resource_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``Changes`` of a change set from the old template's resources to the new one's."""
    changes = []
    for logical_id in sorted(set(old) | set(new)):
        before, after = old.get(logical_id), new.get(logical_id)
        if before == after:
            continue
        change: dict[str, Any] = {"LogicalResourceId": logical_id}
        if before is None:
            change.update(Action="Add", ResourceType=new[logical_id]["Type"], Scope=[])
        elif after is None:
            change.update(Action="Remove", ResourceType=before["Type"], Scope=[])
        else:
            props_before, props_after = before.get("Properties", {}), after.get("Properties", {})
            changed = sorted(
                k
                for k in set(props_before) | set(props_after)
                if props_before.get(k) != props_after.get(k)
            )
            replacing = REPLACING_PROPERTIES.get(after["Type"], frozenset())
            replaced = before["Type"] != after["Type"] or any(k in replacing for k in changed)
            change.update(
                Action="Modify",
                ResourceType=after["Type"],
                Replacement="True" if replaced else "False",
                Scope=["Properties"] if changed else ["Metadata"],
                Details=[
                    {
                        "Target": {
                            "Attribute": "Properties",
                            "Name": name,
                            "RequiresRecreation": "Always" if name in replacing else "Never",
                        }
                    }
                    for name in changed
                ],
            )
        changes.append({"Type": "Resource", "ResourceChange": change})
    return changes


def stack_identity(stack_name: str, account: str) -> tuple[str, str, str] | None:
    """What an update of the stack changes: its id, creation or last update, and status."""
    try:
        stack = stack_operations.find_stack(stack_name, account)
    except stack_operations.StackOperationError:
        return None
    changed = getattr(stack, "last_updated_time", None) or stack.creation_time
    return str(stack.stack_id), str(changed), str(stack.status)


@dataclass
class PreparedChangeSet:
    name: str
    stack_name: str
    account: str
    region: str
    assembly: Path
    changes: list[dict[str, Any]]
    stack: tuple[str, str, str] | None
    change_set_id: str = ""
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    executed: bool = False

    def __post_init__(self) -> None:
        self.change_set_id = self.change_set_id or (
            f"arn:aws:cloudformation:{self.region}:{self.account}:changeSet/{self.name}/"
            f"{uuid.uuid4()}"
        )

    @property
    def execution_status(self) -> str:
        if self.executed:
            return "EXECUTE_COMPLETE"
        if stack_identity(self.stack_name, self.account) != self.stack:
            return "OBSOLETE"
        return "AVAILABLE"

    def describe(self) -> dict[str, Any]:
        """``DescribeChangeSet``'s answer (one page holds every change)."""
        return {
            "ChangeSetName": self.name,
            "ChangeSetId": self.change_set_id,
            "StackName": self.stack_name,
            "StackId": self.stack[0] if self.stack else "",
            "CreationTime": self.created,
            "Status": "CREATE_COMPLETE",
            "ExecutionStatus": self.execution_status,
            "Parameters": {},
            # moto's serializer wraps each as {"Type": "Resource", "ResourceChange": change}.
            "Changes": [change["ResourceChange"] for change in self.changes],
        }


class Registry:
    """Change sets by (account, stack, name); one lock, shared with moto's request threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[tuple[str, str, str], PreparedChangeSet] = {}

    def add(self, change_set: PreparedChangeSet) -> None:
        key = (change_set.account, change_set.stack_name, change_set.name)
        with self._lock:
            if key in self._by_key:
                raise ValueError(
                    f"ChangeSet {change_set.name} already exists for stack {change_set.stack_name}"
                )
            self._by_key[key] = change_set

    def find(self, account: str, stack_name: str, name: str) -> PreparedChangeSet | None:
        with self._lock:
            found = self._by_key.get((account, stack_name, name))
            if found is None:  # by ARN, as CloudFormation accepts it
                found = next((c for c in self._by_key.values() if c.change_set_id == name), None)
            return found

    def executed(self, change_set: PreparedChangeSet) -> None:
        """Mark it executed; CloudFormation deletes the stack's other change sets."""
        with self._lock:
            change_set.executed = True
            for key in [
                k
                for k, c in self._by_key.items()
                if c.account == change_set.account
                and c.stack_name == change_set.stack_name
                and c is not change_set
            ]:
                del self._by_key[key]

    def of_stack(self, account: str, stack_name: str) -> list[PreparedChangeSet]:
        with self._lock:
            return [
                c
                for c in self._by_key.values()
                if (c.account, c.stack_name) == (account, stack_name)
            ]


REGISTRY = Registry()


def _describe_change_set(self: CloudFormationResponse) -> Any:
    name = str(self._get_param("ChangeSetName"))
    stack_name = str(self._get_param("StackName") or "")
    found = REGISTRY.find(self.current_account, stack_name, name)
    if found is not None:
        return ActionResult(found.describe())
    if stack_name.startswith(constants.STACK_NAME_TEMPLATE.format(env="")):
        # The stack the local deployer serves: its change sets are all in the registry.
        raise stack_operations.ChangeSetNotFound(f"ChangeSet [{name}] does not exist")
    return _MOTO_DESCRIBE_CHANGE_SET(self)


def install() -> None:
    """Answer ``DescribeChangeSet`` from the registry (idempotent; this process only)."""
    CloudFormationResponse.describe_change_set = _describe_change_set  # type: ignore[method-assign]
