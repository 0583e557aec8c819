"""CloudFormation stack operations moto lacks, and stack states forced for rehearsals.

moto 5.2.5's server has no ``ContinueUpdateRollback`` and no ``CancelUpdateStack`` (its
``CloudFormationResponse`` has no such actions, so the ``aws`` CLI gets an error back), and a
moto stack never sits in ``UPDATE_ROLLBACK_FAILED``. The pipelines' recovery step
(``.github/scripts/recover_stack.sh``) needs both, so :func:`install` adds the two actions to
moto's CloudFormation, in this process (where ``ThreadedMotoServer`` runs), answering as AWS
does:

- ``ContinueUpdateRollback`` on ``UPDATE_ROLLBACK_FAILED`` → ``UPDATE_ROLLBACK_COMPLETE``
  (``ResourcesToSkip`` accepted); any other status → ``ValidationError`` "ContinueUpdateRollback
  cannot be called from current stack status";
- ``CancelUpdateStack`` on ``UPDATE_IN_PROGRESS`` → ``UPDATE_ROLLBACK_COMPLETE``; any other status
  → ``ValidationError`` "CancelUpdateStack cannot be called from current stack status";
- an absent stack → ``ValidationError`` "Stack [NAME] does not exist".

Both settle at once (AWS goes through ``UPDATE_ROLLBACK_IN_PROGRESS``; the events record it), so
a waiting script sees the settled state on its first look. :func:`set_stack_status` forces a
stack into any CloudFormation status, :func:`keep_template` sets what ``GetTemplate`` answers.
``UpdateStack`` that changes only the rollback configuration (``UsePreviousTemplate``, every
parameter ``UsePreviousValue``) saves it and answers it in ``DescribeStacks``, as AWS does (moto
keeps no rollback configuration). ``DeleteChangeSet`` of an absent change set answers
``ChangeSetNotFound`` as AWS does (moto fails with a 500, which the CDK CLI's ``cdk diff``
retries for most of a minute).
"""

from __future__ import annotations

import functools
from typing import Any

import botocore.session
from moto.cloudformation.exceptions import CloudFormationError, ValidationError
from moto.cloudformation.models import Stack, cloudformation_backends
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow

_MOTO_DELETE_CHANGE_SET = CloudFormationResponse.delete_change_set
_MOTO_UPDATE_STACK = CloudFormationResponse.update_stack
_UPDATABLE = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"})


class ChangeSetNotFound(CloudFormationError):
    code = "ChangeSetNotFound"


class StackOperationError(RuntimeError):
    """A stack cannot be found or put in the asked state (the message says which and why)."""


@functools.cache
def stack_statuses() -> frozenset[str]:
    """Every ``StackStatus`` CloudFormation defines (from botocore's service model)."""
    model = botocore.session.get_session().get_service_model("cloudformation")
    return frozenset(model.shape_for("StackStatus").enum)


def _named(backend: Any, name: str) -> Stack:
    try:
        stack: Stack = backend.get_stack(name)
    except ValidationError:
        raise ValidationError(message=f"Stack [{name}] does not exist") from None
    if stack.status == "DELETE_COMPLETE":
        raise ValidationError(message=f"Stack [{name}] does not exist")
    return stack


def settle(stack: Stack, status: str, reason: str) -> None:
    """End a stack operation rolled back for ``reason`` in ``status``, with its events."""
    stack._add_stack_event("UPDATE_ROLLBACK_IN_PROGRESS", resource_status_reason=reason)
    stack._add_stack_event(status)
    stack.status = status


def _continue_update_rollback(self: CloudFormationResponse) -> EmptyResult:
    stack = _named(self.cloudformation_backend, self._get_param("StackName"))
    if stack.status != "UPDATE_ROLLBACK_FAILED":
        raise ValidationError(
            message="ContinueUpdateRollback cannot be called from current stack status"
        )
    settle(stack, "UPDATE_ROLLBACK_COMPLETE", "User Initiated (continue update rollback)")
    return EmptyResult()


def _cancel_update_stack(self: CloudFormationResponse) -> EmptyResult:
    stack = _named(self.cloudformation_backend, self._get_param("StackName"))
    if stack.status != "UPDATE_IN_PROGRESS":
        raise ValidationError(
            message="CancelUpdateStack cannot be called from current stack status"
        )
    settle(stack, "UPDATE_ROLLBACK_COMPLETE", "User Initiated (cancel update)")
    return EmptyResult()


def _delete_change_set(self: CloudFormationResponse) -> Any:
    """moto fails with a 500 (``UnboundLocalError``) on an absent change set; AWS answers this."""
    name = self._get_param("ChangeSetName")
    backend = self.cloudformation_backend
    known = name in backend.change_sets or any(
        c.change_set_name == name for c in backend.change_sets.values()
    )
    if not known:
        raise ChangeSetNotFound(f"ChangeSet [{name}] does not exist")
    return _MOTO_DELETE_CHANGE_SET(self)


def rollback_configuration(stack: Stack) -> dict[str, Any]:
    """The rollback configuration saved on the stack (moto keeps none of its own)."""
    return dict(getattr(stack, "rollback_configuration", None) or {})


def save_rollback_configuration(stack: Stack, configuration: dict[str, Any]) -> None:
    """What ``DescribeStacks`` answers as the stack's ``RollbackConfiguration`` from now on."""
    stack.rollback_configuration = configuration or None  # type: ignore[attr-defined]


def _parsed_rollback_configuration(raw: Any) -> dict[str, Any]:
    triggers = raw.get("RollbackTriggers") or []
    if isinstance(triggers, dict):  # the query protocol's member.N, as some moto versions parse it
        triggers = list(triggers.values())
    return {
        "RollbackTriggers": [{"Arn": t["Arn"], "Type": t["Type"]} for t in triggers],
        "MonitoringTimeInMinutes": int(raw.get("MonitoringTimeInMinutes") or 0),
    }


def _update_stack(self: CloudFormationResponse) -> Any:
    """An update that keeps template and parameters and changes only the rollback configuration
    (AWS accepts it; moto answers "No updates are to be performed"): saved, UPDATE_COMPLETE."""
    raw = self._get_param("RollbackConfiguration")
    parameters = self._get_param("Parameters", [])
    if not (
        self._get_bool_param("UsePreviousTemplate", False)
        and raw is not None
        and all(p.get("UsePreviousValue") for p in parameters)
    ):
        return _MOTO_UPDATE_STACK(self)
    stack = _named(self.cloudformation_backend, self._get_param("StackName"))
    if stack.status not in _UPDATABLE:
        raise ValidationError(
            message=f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated."
        )
    configuration = _parsed_rollback_configuration(raw)
    if configuration == (rollback_configuration(stack) or _parsed_rollback_configuration({})):
        raise ValidationError(message="No updates are to be performed.")
    stack._add_stack_event("UPDATE_IN_PROGRESS", resource_status_reason="User Initiated")
    save_rollback_configuration(stack, configuration)
    stack._add_stack_event("UPDATE_COMPLETE")
    stack.status = "UPDATE_COMPLETE"
    stack.last_updated_time = utcnow()  # type: ignore[attr-defined]
    return ActionResult({"StackId": stack.stack_id})


def install() -> None:
    """Add the two actions to moto's CloudFormation (idempotent; affects this process only)."""
    CloudFormationResponse.delete_change_set = _delete_change_set  # type: ignore[method-assign]
    CloudFormationResponse.update_stack = _update_stack  # type: ignore[method-assign]
    CloudFormationResponse.continue_update_rollback = _continue_update_rollback  # type: ignore[attr-defined]
    CloudFormationResponse.cancel_update_stack = _cancel_update_stack  # type: ignore[attr-defined]


def find_stack(stack_name: str, account: str | None = None) -> Stack:
    """The live stack named ``stack_name`` in moto (in ``account`` if given, else the only one)."""
    found = []
    for account_id, regions in list(cloudformation_backends.items()):
        if account is not None and account_id != account:
            continue
        for region, backend in list(regions.items()):
            if region == "global":
                continue
            found += [
                s
                for s in list(backend.stacks.values())
                if s.name == stack_name and s.status != "DELETE_COMPLETE"
            ]
    where = f" in account {account}" if account else ""
    if not found:
        raise StackOperationError(f"stack {stack_name} does not exist{where}")
    if len(found) > 1:
        accounts = sorted({s.account_id for s in found})
        raise StackOperationError(f"stack {stack_name} exists in accounts {accounts}: name one")
    return found[0]


def set_stack_status(stack_name: str, status: str, account: str | None = None) -> str:
    """Force the stack into ``status`` (e.g. ``UPDATE_ROLLBACK_FAILED``); the previous status."""
    if status not in stack_statuses():
        raise StackOperationError(
            f"{status!r} is not a CloudFormation stack status "
            f"(e.g. UPDATE_ROLLBACK_FAILED, UPDATE_IN_PROGRESS, UPDATE_COMPLETE)"
        )
    stack = find_stack(stack_name, account)
    previous = str(stack.status)
    stack._add_stack_event(status, resource_status_reason="forced by the local rehearsal")
    stack.status = status
    return previous


def stack_status(stack_name: str, account: str | None = None) -> str:
    return str(find_stack(stack_name, account).status)


def keep_template(stack_name: str, account: str, template_body: str) -> None:
    """What ``GetTemplate`` answers for the stack from now on (moto keeps the last one sent)."""
    find_stack(stack_name, account).template = template_body
