"""``python -m local.cdk``: the CDK CLI for the pipelines' rehearsal against the local AWS.

The Makefile runs ``$(CDK)``; the rehearsal sets ``CDK="python -m local.cdk"`` (with the
repository's interpreter) and ``LOCAL_AWS_CONTROL_URL`` to :class:`local.pipeline_aws.PipelineAws`'s
control API. Arguments are the CDK CLI's, as the Makefile passes them:

- ``deploy --app DIR … [--outputs-file FILE] STACK``: the control API deploys the assembly
  (moto's CloudFormation cannot create this stack, so the local deployer does; the stack is then
  served by a local gateway); FILE is written in the CDK CLI's format
  (``{"STACK": {"OutputKey": "value", …}}``); each substitution is printed as
  ``substituted: …``; exit 0, or 1 with the reason, like ``cdk deploy``.
- ``deploy --method=prepare-change-set --change-set-name NAME --app DIR STACK``: the control API
  registers the change set of the assembly (nothing runs; ``DescribeChangeSet`` answers it);
  ``--method=execute-change-set --change-set-name NAME``: the control API deploys what that
  change set was prepared from, or refuses (exit 1) as CloudFormation refuses an ``OBSOLETE`` or
  unknown change set. ``--method=direct|change-set`` deploy as above.
- ``destroy --app DIR --force STACK``: the control API deletes the stack.
- ``diff --app DIR STACK``: the real CDK CLI, which works against moto (``AWS_ENDPOINT_URL`` and
  the job's credentials; moto's change sets fail, so it diffs the templates); if it cannot run
  (not installed), the assembly's template is compared with ``GetTemplate`` of the deployed
  stack here, by logical id and type, and the output says it is substituted and why.
- anything else: the real CDK CLI (``node_modules/.bin/cdk``, or ``$LOCAL_CDK_REAL_CLI``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

REPO_ROOT = Path(__file__).resolve().parent.parent
CONTROL_URL_VARIABLE = "LOCAL_AWS_CONTROL_URL"
# The real CDK CLI: the repository's own unless the rehearsal shares one (``make`` NODE_PREFIX).
REAL_CDK_VARIABLE = "LOCAL_CDK_REAL_CLI"
REAL_CDK = Path(os.environ.get(REAL_CDK_VARIABLE) or REPO_ROOT / "node_modules" / ".bin" / "cdk")
CDK_ENVIRONMENT = {
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
    "CDK_DISABLE_VERSION_CHECK": "1",
    "CDK_CLI_NOTICES": "false",
}
_TIMEOUT_S = 600.0
METHODS = ("direct", "change-set", "prepare-change-set", "execute-change-set")


class UsageError(Exception):
    """Bad arguments or environment: one line, exit 1 (as the CDK CLI exits on errors)."""


# --- the control API ------------------------------------------------------------------------------
def control(method: str, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
    base = os.environ.get(CONTROL_URL_VARIABLE)
    if not base:
        raise UsageError(
            f"{CONTROL_URL_VARIABLE} is not set: the URL of the local AWS's control API "
            "(local.pipeline_aws) is needed"
        )
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 (a local http URL from the rehearsal)
        base.rstrip("/") + path,
        data=data,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:  # noqa: S310
            answer: dict[str, Any] = json.loads(response.read() or b"{}")
            return answer
    except urllib.error.HTTPError as err:
        try:
            message = json.loads(err.read()).get("error") or err.reason
        except ValueError:
            message = err.reason
        raise UsageError(str(message)) from err
    except OSError as err:
        raise UsageError(f"the local AWS's control API at {base} does not answer: {err}") from err


# --- arguments -----------------------------------------------------------------------------------
def _parser(command: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"python -m local.cdk {command}", add_help=False)
    p.add_argument("--app", "-a", required=True)
    p.add_argument("--outputs-file", "-O")
    p.add_argument("--force", "-f", action="store_true")
    p.add_argument("--method", "-m", choices=METHODS, default="change-set")
    p.add_argument("--change-set-name")
    # Accepted as the CDK CLI accepts them; they change nothing locally.
    p.add_argument("--ci", action="store_true")
    p.add_argument("--require-approval")
    p.add_argument("--progress")
    p.add_argument("stacks", nargs="*")
    return p


def _parse(command: str, argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    args, unknown = _parser(command).parse_known_args(argv)
    if len(args.stacks) != 1:
        raise UsageError(f"cdk {command}: exactly one stack name is expected, got {args.stacks}")
    return args, unknown


def _env_of(stack: str) -> str:
    prefix = "SessionManagement-"
    if not stack.startswith(prefix) or stack == prefix:
        raise UsageError(f"stack {stack!r}: expected SessionManagement-<env>")
    return stack.removeprefix(prefix)


def _assembly(app: str) -> Path:
    path = Path(app)
    if not path.is_dir():
        raise UsageError(
            f"--app {app}: not a cloud assembly directory; the local AWS deploys assemblies "
            "(`make synth` builds cdk.out/<env>), not CDK apps"
        )
    return path.resolve()


# --- commands ------------------------------------------------------------------------------------
def deploy(argv: Sequence[str]) -> int:
    args, unknown = _parse("deploy", argv)
    [stack] = args.stacks
    assembly = _assembly(args.app)
    if unknown:
        print(f"note: ignored locally: {' '.join(unknown)}", file=sys.stderr)
    env = _env_of(stack)
    if args.method in ("prepare-change-set", "execute-change-set") and not args.change_set_name:
        raise UsageError(f"cdk deploy --method={args.method}: --change-set-name is required")
    if args.method == "prepare-change-set":
        print(
            f"{stack}: preparing change set {args.change_set_name} of {assembly} …", file=sys.stderr
        )
        body = {"env": env, "assembly": str(assembly), "name": args.change_set_name}
        prepared = control("POST", "/change-sets", body)
        for note in prepared.get("notes", []):
            print(f"substituted: {note}", file=sys.stderr)
        print(
            f"\n ✅  {stack} (change set {prepared['changeSetName']} created, not executed: "
            f"{prepared['changes']} resource changes)\n\nChange set: {prepared['changeSetId']}"
        )
        return 0
    if args.method == "execute-change-set":
        print(f"{stack}: executing change set {args.change_set_name} …", file=sys.stderr)
        result = control("POST", "/change-sets/execute", {"env": env, "name": args.change_set_name})
    else:
        print(f"{stack}: deploying {assembly} into the local AWS …", file=sys.stderr)
        result = control("POST", "/deploy", {"env": env, "assembly": str(assembly)})
    for note in result.get("notes", []):
        print(f"substituted: {note}", file=sys.stderr)
    outputs = result.get("outputs", {})
    if args.outputs_file:
        path = Path(args.outputs_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({stack: outputs}, indent=2) + "\n", encoding="utf-8")
    print(f"\n ✅  {stack}\n\nOutputs:")
    for key, value in sorted(outputs.items()):
        print(f"{stack}.{key} = {value}")
    url = result.get("websocketUrl")
    print(f"\nLocal WebSocket URL: {url}")
    github_env = os.environ.get("GITHUB_ENV")
    if github_env and url:
        # Inside a workflow job: the deployed API's execute-api URL does not resolve here, so
        # the job's later steps (the smoke test) reach the local gateway instead.
        with open(github_env, "a", encoding="utf-8") as out:
            out.write(f"SESSION_WEBSOCKET_URL={url}\n")
    return 0


def destroy(argv: Sequence[str]) -> int:
    args, _ = _parse("destroy", argv)
    [stack] = args.stacks
    _assembly(args.app)
    if not args.force:
        raise UsageError("cdk destroy: --force is required here (no prompt in a pipeline)")
    result = control("POST", "/destroy", {"env": _env_of(stack)})
    for note in result.get("notes", []):
        print(note, file=sys.stderr)
    print(f"\n ✅  {stack}: destroyed" if result.get("destroyed") else f"{stack}: not deployed")
    return 0


def diff(argv: Sequence[str]) -> int:
    args, _ = _parse("diff", argv)
    [stack] = args.stacks
    if not Path(args.app).is_dir():
        _exec_real_cdk(["diff", *argv])  # a CDK app (``make diff``): the real CLI synthesizes
    assembly = _assembly(args.app)
    if not REAL_CDK.exists():
        why = f"{REAL_CDK} is not installed"
    elif not os.environ.get("AWS_ENDPOINT_URL"):
        why = "AWS_ENDPOINT_URL is not set, so the real CLI would go to AWS"
    else:
        # The real CLI runs against moto: it reads the stack's template (GetTemplate); moto's
        # change sets fail on this stack's resource types, so it diffs the templates. Without
        # --fail it exits non-zero only when it could not diff.
        code = subprocess.call(  # noqa: S603 (the repository's own CLI)
            [str(REAL_CDK), "diff", *argv], env={**os.environ, **CDK_ENVIRONMENT}
        )
        if code == 0:
            return 0
        why = f"the real CDK CLI could not diff against the local AWS (exit {code})"
    print(f"substituted: cdk diff by a template comparison, because {why}", file=sys.stderr)
    return template_diff(assembly, stack)


def template_diff(assembly: Path, stack: str) -> int:
    """Compare the assembly's template with the deployed one by logical id and type."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    path = assembly / f"{stack}.template.json"
    if not path.is_file():
        raise UsageError(f"{assembly} has no {path.name}")
    new = json.loads(path.read_text(encoding="utf-8"))
    try:
        body = boto3.client("cloudformation").get_template(StackName=stack)["TemplateBody"]
    except ClientError as err:
        if "does not exist" not in str(err):
            raise UsageError(f"get-template {stack}: {err}") from err
        body = None
    except BotoCoreError as err:
        raise UsageError(f"get-template {stack}: {err}") from err
    print(f"Stack {stack}")
    if body is None:
        print("stack does not exist: every resource is new")
        for logical_id, resource in sorted(new.get("Resources", {}).items()):
            print(f"[+] {resource.get('Type')} {logical_id}")
        return 0
    old = body if isinstance(body, dict) else json.loads(body)
    lines = resource_changes(old.get("Resources", {}), new.get("Resources", {}))
    print("\n".join(lines) if lines else "There were no differences")
    print(f"\nNumber of stacks with differences: {1 if lines else 0}")
    return 0


def resource_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """``cdk diff``'s lines for the change set the templates make (local.change_sets)."""
    from local.change_sets import resource_changes as changes

    lines = []
    for entry in changes(old, new):
        change = entry["ResourceChange"]
        action, kind, logical_id = (
            change["Action"],
            change["ResourceType"],
            change["LogicalResourceId"],
        )
        if action == "Add":
            lines.append(f"[+] {kind} {logical_id}")
        elif action == "Remove":
            lines.append(f"[-] {kind} {logical_id}")
        else:
            names = [d["Target"]["Name"] for d in change.get("Details", [])]
            detail = f" ({', '.join(names)})" if names else " (attributes)"
            if old[logical_id]["Type"] != kind:
                detail = " (replace)"
                kind = f"{old[logical_id]['Type']} -> {kind}"
            elif change.get("Replacement") == "True":
                detail = f"{detail[:-1]}; replace)"
            lines.append(f"[~] {kind} {logical_id}{detail}")
    return lines


def _exec_real_cdk(argv: Sequence[str]) -> NoReturn:
    if not REAL_CDK.exists():
        raise UsageError(f"{REAL_CDK} not found: run `make install` first")
    environment = {**os.environ, **CDK_ENVIRONMENT}
    os.execve(REAL_CDK, [str(REAL_CDK), *argv], environment)  # noqa: S606 (the repo's CLI)


COMMANDS = {"deploy": deploy, "destroy": destroy, "diff": diff}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if not argv or argv[0] not in COMMANDS:
            _exec_real_cdk(argv)
        return COMMANDS[argv[0]](argv[1:])
    except UsageError as err:
        print(f"❌ {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
