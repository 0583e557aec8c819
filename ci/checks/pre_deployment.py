"""Pre-Deployment: tools, configuration, the pipeline's quality gates, and the CDK bootstrap.

Every pass rests on something read now: a tool's version, the config file as the CDK app
loads it, the pipeline's JUnit file, a formatter run, the bootstrap stack. Where no evidence is
at hand (no JUnit file passed) the line is manual with the command to run, never passed.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from ci import gates
from ci.checklist import BY_ID
from ci.checks import check
from ci.model import Outcome, failed, manual, mask_email, passed, skipped
from ci.model import check as verdict

if TYPE_CHECKING:
    from ci.deployment import Deployment

LOCAL_SKIP = "local environment: boto3 talks to moto directly ({what})"
_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


def _run(args: list[str], dep: Deployment, timeout: float = 120) -> tuple[int, str]:
    """Run a tool from the repository root; (exit code, combined output) — never raises."""
    try:
        done = subprocess.run(  # noqa: S603 - fixed argument lists, no shell
            args,
            cwd=dep.options.repo_root,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        return 127, f"{args[0]}: not found"
    except subprocess.TimeoutExpired:
        return 124, f"{' '.join(args)}: no answer within {timeout:g} s"
    return done.returncode, (done.stdout + done.stderr).strip()


def _installs(dep: Deployment) -> tuple[Path, Path]:
    """The venv and the node_modules the Makefile installs (``VENV``, ``NODE_PREFIX``)."""
    root = dep.options.repo_root
    venv = Path(os.environ.get("VENV") or root / ".venv")
    node = Path(os.environ.get("NODE_PREFIX") or root) / "node_modules"
    return (venv if venv.is_absolute() else root / venv), (
        node if node.is_absolute() else root / node
    )


def _tool(dep: Deployment, name: str) -> str | None:
    """A tool from the repository's own installs first (.venv, node_modules), then PATH."""
    venv, node_modules = _installs(dep)
    for candidate in (venv / "bin" / name, node_modules / ".bin" / name):
        if candidate.exists():
            return str(candidate)
    return shutil.which(name)


@check("pre.aws-cli")
def _aws_cli(dep: Deployment) -> Outcome:
    if dep.endpoint_url:
        return skipped(LOCAL_SKIP.format(what="the AWS CLI is not needed"))
    aws = shutil.which("aws")
    if aws is None:
        return failed("aws: not found on PATH", "the AWS CLI installed")
    code, version = _run([aws, "--version"], dep)
    try:
        identity = dep.clients("sts").get_caller_identity()
    except (BotoCoreError, ClientError) as err:
        return failed(f"{version}; credentials: {err}", "credentials that resolve (sts)")
    return verdict(
        code == 0, f"{version}; caller in account {identity['Account']}", "aws --version"
    )


@check("pre.python")
def _python(dep: Deployment) -> Outcome:
    version = ".".join(map(str, sys.version_info[:3]))
    return verdict(sys.version_info >= (3, 11), f"Python {version}", "Python 3.11 or later")


@check("pre.nodejs")
def _node(dep: Deployment) -> Outcome:
    node = shutil.which("node")
    if node is None:
        return failed("node: not found on PATH", "Node.js 18 or later")
    code, out = _run([node, "--version"], dep)
    match = _VERSION.search(out)
    major = int(match.group(1)) if match else 0
    return verdict(code == 0 and major >= 18, f"Node.js {out}", "Node.js 18 or later")


@check("pre.cdk-cli")
def _cdk_cli(dep: Deployment) -> Outcome:
    cdk = _tool(dep, "cdk")
    if cdk is None:
        return failed("cdk: not in node_modules/.bin or on PATH", "the CDK CLI (`make install`)")
    code, out = _run([cdk, "--version"], dep)
    return verdict(
        code == 0,
        f"{cdk}: {out.splitlines()[-1] if out else ''}",
        "cdk --version answers",
        BY_ID["pre.cdk-cli"].differs,
    )


@check("pre.venv")
def _venv(dep: Deployment) -> Outcome:
    active = sys.prefix != sys.base_prefix
    return verdict(
        active, f"interpreter prefix {sys.prefix}", "running inside a virtual environment"
    )


def _locked(dep: Deployment) -> dict[str, str]:
    lock = dep.options.repo_root / "requirements.lock"
    pins = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        name, sep, version = line.strip().partition("==")
        if sep and not name.startswith("#"):
            pins[name] = version
    return pins


@check("pre.dependencies")
def _dependencies(dep: Deployment) -> Outcome:
    pins = _locked(dep)
    wrong = []
    for name, version in pins.items():
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            wrong.append(f"{name} missing")
            continue
        if installed != version:
            wrong.append(f"{name} {installed} (locked {version})")
    node_ok = (_installs(dep)[1] / ".bin" / "cdk").exists()
    if not node_ok:
        wrong.append("node_modules (npm ci) missing")
    if wrong:
        return failed(
            "; ".join(wrong[:10]), "every pin of requirements.lock installed, node_modules"
        )
    return passed(
        f"{len(pins)} locked Python packages at their pinned versions; node_modules present"
    )


@check("pre.account-id")
def _account(dep: Deployment) -> Outcome:
    if dep.config is None:
        return failed(f"configuration unreadable: {dep.config_error}", "a valid configuration")
    stack_account = dep.account
    if stack_account is None:
        # Before the first deploy there is no stack: the credentials must act in the account.
        try:
            caller = dep.clients("sts").get_caller_identity()["Account"]
        except (BotoCoreError, ClientError) as err:
            return failed(f"config account {dep.config.account}; credentials: {err}", "sts")
        return verdict(
            caller == dep.config.account,
            f"config account {dep.config.account}; no stack yet, credentials act in {caller}",
            "credentials of the configured account",
        )
    return verdict(
        stack_account == dep.config.account,
        f"config account {dep.config.account}; stack {dep.stack_name} in {stack_account}",
        "the stack deployed in the configured account",
    )


@check("pre.region")
def _region(dep: Deployment) -> Outcome:
    if dep.config is None:
        return failed(f"configuration unreadable: {dep.config_error}", "a valid configuration")
    if dep.stack is None:  # before the first deploy: where the credentials' clients point
        return verdict(
            dep.config.region == dep.region,
            f"config region {dep.config.region}; no stack yet, clients in {dep.region}",
            "the configured region",
        )
    stack_region = dep.require_stack()["StackId"].split(":")[3]
    return verdict(
        stack_region == dep.config.region == dep.region,
        f"config region {dep.config.region}; stack in {stack_region}",
        "the stack deployed in the configured region",
    )


@check("pre.user-pool")
def _user_pool(dep: Deployment) -> Outcome:
    pool_id = dep.user_pool_id
    if not pool_id:
        return failed("no user pool id (outputs or config)", "a Cognito user pool")
    pool = dep.clients("cognito-idp").describe_user_pool(UserPoolId=pool_id)["UserPool"]
    return passed(f"user pool {pool['Id']} ({pool.get('Name')})")


@check("pre.app-client")
def _app_client(dep: Deployment) -> Outcome:
    pool_id, client_id = dep.user_pool_id, dep.app_client_id
    if not (pool_id and client_id):
        return failed("no app client id (outputs or config)", "a Cognito app client")
    client = dep.clients("cognito-idp").describe_user_pool_client(
        UserPoolId=pool_id, ClientId=client_id
    )["UserPoolClient"]
    flows = ", ".join(client.get("ExplicitAuthFlows", [])) or "default flows"
    return passed(f"app client {client['ClientId']} ({client.get('ClientName')}): {flows}")


@check("pre.config-file")
def _config_file(dep: Deployment) -> Outcome:
    path = dep.options.repo_root / "infra" / "config" / f"{dep.env}.json"
    return verdict(
        path.is_file(),
        f"infra/config/{dep.env}.json {'exists' if path.is_file() else 'missing'}",
        f"infra/config/{dep.env}.json",
        BY_ID["pre.config-file"].differs,
    )


@check("pre.config-complete")
def _config_complete(dep: Deployment) -> Outcome:
    if dep.config is None:
        return failed(dep.config_error or "unreadable", "every field present and valid")
    notices = "; ".join(dep.config.notices)
    return passed(f"infra/config/{dep.env}.json loads and validates (infra.config)", notices)


@check("pre.alarm-email")
def _alarm_email(dep: Deployment) -> Outcome:
    if dep.config is None:
        return failed(f"configuration unreadable: {dep.config_error}", "a valid configuration")
    return passed(f"alarmEmail {mask_email(dep.config.alarm_email)}")


def _junit_totals(dep: Deployment) -> tuple[int, int, int, list[str]]:
    tests = failures = skips = 0
    names = []
    for path in dep.options.junit:
        root = ET.parse(path).getroot()  # noqa: S314 - the pipeline's own file
        suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
        for suite in suites:
            tests += int(suite.get("tests", 0))
            failures += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
            skips += int(suite.get("skipped", 0))
        names.append(str(path))
    return tests, failures, skips, names


@check("pre.tests")
def _tests(dep: Deployment) -> Outcome:
    if not dep.options.junit:
        return manual(
            "run `make test` and confirm it passes, or pass the pipeline's result with "
            "`--junit reports/junit-tests.xml` (pytest --junitxml)"
        )
    missing = [str(p) for p in dep.options.junit if not p.is_file()]
    if missing:
        return failed(f"no such file: {', '.join(missing)}", "the JUnit file of `make test`")
    tests, failures, skips, names = _junit_totals(dep)
    return verdict(
        tests > 0 and failures == 0,
        f"{tests} tests, {failures} failed/errored, {skips} skipped ({', '.join(names)})",
        "at least one test and none failed",
    )


def _lint_record(dep: Deployment) -> Outcome | None:
    """The verdict of ``make lint``'s record when it ran on this very code, else ``None``."""
    record = gates.Record.read(dep.options.report_dir / gates.RECORD.name)
    if record is None or record.tree is None:
        return None
    if record.tree != gates.fingerprint(dep.options.repo_root):
        return None
    bad = record.failed
    if bad is not None:
        return failed(
            f"`make lint` on this code: {bad['name']} failed (exit {bad['exit']}) at "
            f"{record.started_at}",
            "every gate of `make lint` passed",
        )
    if not record.complete:
        return None
    return passed(f"`make lint` passed on this code at {record.started_at}: {record.names()}")


@check("pre.lint")
def _lint(dep: Deployment) -> Outcome:
    recorded = _lint_record(dep)
    if recorded is not None:
        return recorded
    ruff = _tool(dep, "ruff")
    if ruff is None:
        return failed("ruff not installed", "`make install`, then `make lint`")
    code, out = _run([ruff, "check", "--output-format", "concise", "--quiet", "."], dep)
    findings = [line for line in out.splitlines() if re.match(r"^\S+:\d+:\d+: ", line)]
    shown = "; ".join(findings[:3]) + (" …" if len(findings) > 3 else "")
    last = f"{len(findings)} findings: {shown}" if findings else (out[-200:] or "no findings")
    if code != 0:
        return failed(f"ruff check: {last}", "ruff check: no findings")
    return manual(
        "run `make lint` (ruff, black --check, mypy, workflow and taskcat lint) on this code; "
        "it records its gates for this line",
        f"only ruff ran here: {last}; no `make lint` record for this code",
    )


@check("pre.format")
def _format(dep: Deployment) -> Outcome:
    black = _tool(dep, "black")
    if black is None:
        return failed("black not installed", "`make install`, then `make format`")
    code, out = _run([black, "--check", "."], dep)
    files = [
        line.removeprefix("would reformat ").replace(f"{dep.options.repo_root}/", "")
        for line in out.splitlines()
        if line.startswith("would reformat")
    ]
    return verdict(
        code == 0,
        (
            "black --check: formatted"
            if code == 0
            else (
                f"black would reformat {len(files)} file(s): {', '.join(files[:5])}"
                if files
                else out[-300:]
            )
        ),
        "black --check passes (nothing `make format` would change)",
    )


@check("pre.cdk-bootstrap")
def _bootstrap(dep: Deployment) -> Outcome:
    if dep.endpoint_url:
        return skipped(
            LOCAL_SKIP.format(
                what="the synthesized template is deployed into moto without "
                "assets, so there is no bootstrap stack"
            )
        )
    ssm = dep.clients("ssm")
    try:
        version = ssm.get_parameter(Name="/cdk-bootstrap/hnb659fds/version")["Parameter"]["Value"]
    except ClientError as err:
        return failed(f"bootstrap version parameter: {err}", "CDKToolkit bootstrap (cdk bootstrap)")
    stack = dep.clients("cloudformation").describe_stacks(StackName="CDKToolkit")["Stacks"][0]
    return verdict(
        stack["StackStatus"].endswith("_COMPLETE") and "ROLLBACK" not in stack["StackStatus"],
        f"CDKToolkit {stack['StackStatus']}, bootstrap version {version}",
        "CDKToolkit in a *_COMPLETE state",
    )


@check("pre.bootstrap-verified")
def _cdk_list(dep: Deployment) -> Outcome:
    cdk = _tool(dep, "cdk")
    if cdk is None:
        return failed("cdk: not installed", "`cdk list` lists the stack")
    # The app with this interpreter (cdk.json's default names the repository's own .venv).
    app = f"{sys.executable} -m infra.app"
    code, out = _run([cdk, "list", "--app", app, "--context", f"env={dep.env}"], dep, timeout=300)
    listed = [line.strip() for line in out.splitlines()]
    return verdict(
        code == 0 and dep.stack_name in listed,
        f"cdk list --context env={dep.env}: {', '.join(listed[-3:]) or 'nothing'} (exit {code})",
        f"{dep.stack_name} listed",
        BY_ID["pre.bootstrap-verified"].differs,
    )
