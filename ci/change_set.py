"""The change set an approver reads is the change set that runs.

``cdk deploy`` makes a new change set each time it runs, so a diff read before the approval
describes another operation than the one the deploy job performs, and a stack that changed in
between goes unnoticed. The pipeline therefore splits the deploy in two (``make
prepare-change-set`` / ``make execute-change-set``):

- ``review``, in the job before the approval, right after ``cdk deploy
  --method=prepare-change-set``: reads the change set (``DescribeChangeSet``, every page),
  writes the approver's summary (``reports/change-set-ENV.md``, and the job summary) with the
  replacements and deletions of stateful resources and the IAM changes first, in bold, and a
  record (``reports/change-set-ENV.json``: the change set's id, a digest of its changes, the
  stack as it was). A stateful resource replaced or removed in an environment that protects
  its data refuses the deploy unless ``infra/allowed-stateful-changes.json`` names the release,
  the environment and each such resource.
- ``check``, in the deploy job after the approval, right before ``cdk deploy
  --method=execute-change-set``: refuses unless the change set is still the recorded one
  (same id, same changes, ``AVAILABLE``) and the stack is as it was when the change set was
  prepared. CloudFormation marks a change set ``OBSOLETE`` once its stack is updated and
  deletes the others when one is executed, which closes the remaining seconds.

Exit codes: 0 done, 1 refused (the reason in one ``❌`` line), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ci import rollback_triggers, workflow
from ci.access import AccessProblem, failure
from ci.deployment import REPO_ROOT, Deployment, Options

# Resources that hold data: replacing or removing one loses it (its items, users, logs).
STATEFUL_TYPES = frozenset(
    {
        "AWS::DynamoDB::Table",
        "AWS::DynamoDB::GlobalTable",
        "AWS::Cognito::UserPool",
        "AWS::Logs::LogGroup",
    }
)
# What `make stack-recover` (.github/scripts/recover_stack.sh) acts on: no change set can be
# made of a stack in these states until it is recovered, which takes the deploy role.
STUCK_STATUSES = frozenset({"UPDATE_IN_PROGRESS", "UPDATE_ROLLBACK_FAILED"})
# Environments whose data a deploy may not drop without the release saying so.
PROTECTED_ENVIRONMENTS = frozenset({"prod"})
ALLOWED_STATEFUL_CHANGES = REPO_ROOT / "infra" / "allowed-stateful-changes.json"


class Refused(Exception):
    """The deploy must not go on: one line saying why and what to do."""


@dataclass(frozen=True)
class Change:
    """One resource change of a change set, as the approver needs it."""

    action: str  # Add | Modify | Remove | Import | Dynamic
    logical_id: str
    resource_type: str
    replacement: str  # True | False | Conditional ("" for Add and Remove)
    scope: tuple[str, ...]

    @classmethod
    def of(cls, change: Mapping[str, Any]) -> Change:
        resource = change.get("ResourceChange", {})
        return cls(
            action=str(resource.get("Action", "")),
            logical_id=str(resource.get("LogicalResourceId", "")),
            resource_type=str(resource.get("ResourceType", "")),
            replacement=str(resource.get("Replacement") or ""),
            scope=tuple(str(s) for s in resource.get("Scope", [])),
        )

    @property
    def kind(self) -> str:
        """added, modified, replaced (or may be replaced), removed."""
        if self.action == "Add":
            return "added"
        if self.action == "Remove":
            return "removed"
        if self.replacement == "True":
            return "replaced"
        if self.replacement == "Conditional":
            return "may be replaced"
        return "modified" if self.action == "Modify" else self.action.lower()

    @property
    def loses_data(self) -> bool:
        """A stateful resource replaced (or possibly replaced) or removed."""
        return self.resource_type in STATEFUL_TYPES and self.kind in {
            "replaced",
            "may be replaced",
            "removed",
        }

    @property
    def is_iam(self) -> bool:
        return self.resource_type.startswith("AWS::IAM::")


def changes_of(description: Mapping[str, Any]) -> list[Change]:
    return [Change.of(c) for c in description.get("Changes", []) if c.get("Type") == "Resource"]


def digest(changes: Iterable[Change]) -> str:
    """What the approver read, as one value: equal digests, equal changes."""
    rows = sorted(
        [c.action, c.logical_id, c.resource_type, c.replacement, *c.scope] for c in changes
    )
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


def allowed_replacements(path: Path, release: str, env: str) -> set[str]:
    """Logical ids the release is marked to replace or remove in ``env`` (``path``'s entries)."""
    if not path.is_file():
        return set()
    try:
        entries = json.loads(path.read_text(encoding="utf-8")).get("allowed", [])
    except (ValueError, AttributeError) as err:
        raise Refused(
            f'{path.name}: expected {{"allowed": [{{"release", "environment", '
            f'"logicalIds", "reason"}}]}} ({err})'
        ) from err
    return {
        logical_id
        for entry in entries
        if isinstance(entry, dict)
        and entry.get("release") == release
        and entry.get("environment") == env
        and entry.get("reason")
        for logical_id in entry.get("logicalIds", [])
    }


def refusal(env: str, release: str, changes: Sequence[Change], allowed: set[str]) -> str | None:
    """Why the deploy must not run (None: it may), for an environment that protects its data."""
    if env not in PROTECTED_ENVIRONMENTS:
        return None
    unmarked = [c for c in changes if c.loses_data and c.logical_id not in allowed]
    if not unmarked:
        return None
    listed = ", ".join(f"{c.resource_type} {c.logical_id} ({c.kind})" for c in unmarked)
    return (
        f"the change set of {release} for {env} loses data: {listed}; to deploy it anyway, "
        f'add {{"release": "{release}", "environment": "{env}", "logicalIds": [...], '
        f'"reason": "..."}} to infra/{ALLOWED_STATEFUL_CHANGES.name}'
    )


# --- the approver's summary -------------------------------------------------------------------
KINDS = ("added", "modified", "replaced", "may be replaced", "removed")


def markdown(record: Mapping[str, Any], changes: Sequence[Change]) -> str:
    """The change set as the approver reads it: what needs attention first, then every change."""
    counts = {kind: sum(1 for c in changes if c.kind == kind) for kind in KINDS}
    lines = [
        f"## Change set `{record['changeSetName']}`: {record['release']} → {record['env']}",
        "",
        f"Stack `{record['stackName']}` ({record['stackStatus'] or 'new'}); this change set, "
        "and only it, runs after the approval.",
        "",
        *_triggers_line(record.get("rollbackTriggers")),
        "| added | modified | replaced | may be replaced | removed |",
        "| --- | --- | --- | --- | --- |",
        "| " + " | ".join(str(counts[k]) for k in KINDS) + " |",
        "",
    ]
    attention = [c for c in changes if c.loses_data] + [c for c in changes if c.is_iam]
    if attention:
        lines.append("### Needs attention")
        lines.append("")
        for c in attention:
            why = "data is lost" if c.loses_data else "permissions change"
            lines.append(f"- **{c.resource_type} `{c.logical_id}` {c.kind}: {why}**")
        lines.append("")
    if record.get("refused"):
        lines += [f"**Refused: {record['refused']}**", ""]
    if changes:
        lines += ["| change | type | resource | scope |", "| --- | --- | --- | --- |"]
        for c in sorted(changes, key=_order):
            lines.append(
                f"| {c.kind} | {c.resource_type} | `{c.logical_id}` | {', '.join(c.scope)} |"
            )
    else:
        lines.append("No resource changes.")
    return "\n".join(lines) + "\n"


def _triggers_line(triggers: Mapping[str, Any] | None) -> list[str]:
    if triggers is None:  # a record of before the rollback triggers
        return []
    if not triggers["alarms"]:
        return ["No rollback trigger watches it: an alarm does not roll it back.", ""]
    alarms = " or ".join(f"`{name}`" for name in triggers["alarms"])
    return [
        f"While it runs and for {triggers['minutes']} minutes after, CloudFormation rolls it back "
        f"if {alarms} goes to ALARM (the stack's rollback triggers).",
        "",
    ]


def _order(change: Change) -> tuple[int, str, str]:
    rank = KINDS.index(change.kind) if change.kind in KINDS else len(KINDS)
    return rank, change.resource_type, change.logical_id


# --- AWS --------------------------------------------------------------------------------------
def describe(dep: Deployment, name: str) -> dict[str, Any]:
    """``DescribeChangeSet`` with every page of changes."""
    cloudformation = dep.clients("cloudformation")
    description: dict[str, Any] = {}
    token: str | None = None
    changes: list[Any] = []
    while True:
        kwargs = {"StackName": dep.stack_name, "ChangeSetName": name}
        page = cloudformation.describe_change_set(
            **kwargs, **({"NextToken": token} if token else {})
        )
        description = description or page
        changes += page.get("Changes", [])
        token = page.get("NextToken")
        if not token:
            break
    return {**description, "Changes": changes}


def stack_state(dep: Deployment) -> dict[str, str]:
    """The stack as a change set was prepared against: id, last change, status (empty: none)."""
    stack = dep.stack or {}
    if not stack or stack.get("StackStatus") == "REVIEW_IN_PROGRESS":  # new: its first change set
        return {}
    changed = stack.get("LastUpdatedTime") or stack.get("CreationTime")
    return {
        "stackId": str(stack.get("StackId", "")),
        "lastChanged": changed.isoformat() if isinstance(changed, datetime) else str(changed),
        "status": str(stack.get("StackStatus", "")),
    }


def _triggers_of(stack: Mapping[str, Any]) -> dict[str, Any]:
    saved = rollback_triggers.saved(stack)
    return {
        "alarms": rollback_triggers.alarm_names(saved),
        "minutes": saved["MonitoringTimeInMinutes"],
    }


def review(
    dep: Deployment, name: str, release: str, allowed_file: Path = ALLOWED_STATEFUL_CHANGES
) -> dict[str, Any]:
    """Summarize the prepared change set, write the record; the refusal, if any, in it."""
    description = describe(dep, name)
    if description.get("Status") == "FAILED":
        reason = str(description.get("StatusReason", ""))
        if "didn't contain changes" not in reason and "No updates" not in reason:
            raise Refused(f"change set {name} of {dep.stack_name} failed: {reason}")
    changes = changes_of(description)
    state = stack_state(dep)
    allowed = allowed_replacements(allowed_file, release, dep.env)
    record: dict[str, Any] = {
        "env": dep.env,
        "release": release,
        "stackName": dep.stack_name,
        "stackStatus": state.get("status", ""),
        "changeSetName": name,
        "changeSetId": str(description.get("ChangeSetId", "")),
        "changesDigest": digest(changes),
        "changes": len(changes),
        "stack": state,
        "losesData": [c.logical_id for c in changes if c.loses_data],
        "iam": [c.logical_id for c in changes if c.is_iam],
        "refused": refusal(dep.env, release, changes, allowed),
        # Saved on the stack, they watch this change set's execution (ci/rollback_triggers.py).
        "rollbackTriggers": _triggers_of(dep.stack or {}),
    }
    report_dir = dep.options.report_dir
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / f"change-set-{dep.env}.json").write_text(
        json.dumps(record, indent=2) + "\n", encoding="utf-8"
    )
    text = markdown(record, changes)
    (report_dir / f"change-set-{dep.env}.md").write_text(text, encoding="utf-8")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as out:
            out.write(text)
    return record


def check(dep: Deployment, record: Mapping[str, Any], name: str) -> None:
    """Refuse unless the change set and the stack are as the approver saw them."""
    if record.get("env") != dep.env or record.get("changeSetName") != name:
        raise Refused(
            f"the change-set record is of {record.get('changeSetName')!r} for "
            f"{record.get('env')!r}, not of {name!r} for {dep.env!r}: the deploy job executes "
            "only the change set its run prepared and recorded"
        )
    if record.get("refused"):
        raise Refused(str(record["refused"]))
    try:
        description = describe(dep, name)
    except ClientError as err:
        if "ChangeSetNotFound" in str(err) or "does not exist" in str(err):
            raise Refused(
                f"change set {name} of {dep.stack_name} no longer exists: the stack changed "
                "since it was prepared (executing another change set deletes it); run the "
                "deployment again to review a new one"
            ) from err
        raise
    status = str(description.get("ExecutionStatus", ""))
    problems = []
    if str(description.get("ChangeSetId", "")) != record.get("changeSetId"):
        problems.append("it is not the change set that was prepared (another id)")
    if digest(changes_of(description)) != record.get("changesDigest"):
        problems.append("its changes differ from the ones reviewed")
    if status != "AVAILABLE":
        problems.append(f"it is {status or 'not executable'}")
    state = stack_state(dep)
    if state != record.get("stack", {}):
        problems.append(
            f"the stack changed since it was prepared (then {_shown(record.get('stack', {}))}, "
            f"now {_shown(state)})"
        )
    if problems:
        raise Refused(
            f"change set {name} of {dep.stack_name} is not executed: {'; '.join(problems)}; "
            "run the deployment again to review a new change set"
        )


def _shown(state: Mapping[str, str]) -> str:
    if not state:
        return "no stack"
    return f"{state.get('status')} at {state.get('lastChanged')}"


# --- the command line ---------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ci.change_set", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--report-dir", type=Path, default=REPO_ROOT / "reports", help="default: reports/"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("review", help="summarize a prepared change set for the approver")
    r.add_argument("--env", required=True)
    r.add_argument("--change-set", required=True)
    r.add_argument("--release", required=True)
    st = sub.add_parser("stuck", help="print stuck=true|false: must the stack be recovered first")
    st.add_argument("--env", required=True)
    c = sub.add_parser("check", help="refuse unless the reviewed change set may run")
    c.add_argument("--env", required=True)
    c.add_argument("--change-set", required=True)
    c.add_argument("--record", type=Path, help="default: reports/change-set-ENV.json")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    dep = Deployment(Options(env=args.env, report_dir=args.report_dir))
    if dep.config_error:
        print(f"❌ {dep.config_error}", file=sys.stderr)
        return 2
    doing = f"read change sets of {dep.stack_name}"
    try:
        if args.command == "stuck":
            status = (dep.stack or {}).get("StackStatus")
            print(f"stuck={'true' if status in STUCK_STATUSES else 'false'}")
        elif args.command == "review":
            record = review(dep, args.change_set, args.release)
            if record["refused"]:
                raise Refused(record["refused"])
            print(
                f"✅ change set {args.change_set} of {dep.stack_name}: {record['changes']} "
                f"resource changes, summarized in reports/change-set-{dep.env}.md"
            )
        else:
            path = args.record or dep.options.report_dir / f"change-set-{dep.env}.json"
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as err:
                raise Refused(
                    f"{path}: no readable change-set record ({err}); the deploy job executes "
                    "only the change set its run prepared and recorded"
                ) from err
            check(dep, record, args.change_set)
            print(f"✅ change set {args.change_set} is the one reviewed; the stack is unchanged")
    except Refused as err:
        return _refuse(str(err))
    except (BotoCoreError, ClientError) as err:
        problem: AccessProblem = failure(dep, err, doing)
        return _refuse(problem.line())
    return 0


def _refuse(line: str) -> int:
    """One line; in a workflow also an error annotation, so the run's summary shows why."""
    print(f"❌ {line}", file=sys.stderr)
    workflow.annotate_error(line)
    return 1


if __name__ == "__main__":
    sys.exit(main())
