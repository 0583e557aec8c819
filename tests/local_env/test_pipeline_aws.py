"""The local AWS for the pipelines (``local.pipeline_aws``), driven as the workflow jobs drive it.

One ``PipelineAws`` for the module; every step runs as a job process would: ``python -m
local.cdk`` and ``python -m ci.verify`` as subprocesses, the ``aws`` CLI for the recovery, each
with credentials of dev's account (111111111111) from moto's STS ``AssumeRole`` and
``AWS_ENDPOINT_URL``; the smoke user signs in with ``InitiateAuth`` and opens a real WebSocket.

The dev assembly comes from the session's synthesis (``tests/synthesis.py``: the CDK app of
``infra/`` with cdk.json's context, the same template and asset manifest ``cdk synth`` writes),
so the suites that synthesize dev share one synthesis.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from botocore.exceptions import ClientError
from websockets.asyncio.client import connect

from local.pipeline_aws import ControlError, PipelineAws, assumed_session
from tests.synthesis import Synthesized

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
STACK = "SessionManagement-dev"
DEPLOY_ROLE = "arn:aws:iam::111111111111:role/session-management-deploy-dev"
SMOKE_USER = ("smoke@example.com", "Smoke-Password-1a")


@pytest.fixture(scope="module")
def assembly(synthesized_envs: Callable[[str], Synthesized]) -> Path:
    return synthesized_envs("dev").assembly_dir


@pytest.fixture(scope="module")
def aws() -> Iterator[PipelineAws]:
    with PipelineAws(
        envs=("dev",), smoke_user=SMOKE_USER, max_concurrency=2, seconds_per_monitoring_minute=2
    ) as started:
        yield started


@pytest.fixture(scope="module")
def job_env(aws: PipelineAws) -> dict[str, str]:
    """A job's environment, as the configure-aws-credentials stand-in leaves it."""
    credentials = assumed_session(aws.moto_endpoint, DEPLOY_ROLE, "rehearsal", "us-east-1")
    frozen = credentials.get_credentials().get_frozen_credentials()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_"))}
    env.update(
        {
            "AWS_ACCESS_KEY_ID": frozen.access_key,
            "AWS_SECRET_ACCESS_KEY": frozen.secret_key,
            "AWS_SESSION_TOKEN": frozen.token,
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": aws.moto_endpoint,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "LOCAL_AWS_CONTROL_URL": aws.control_url,
        }
    )
    return env


def run(env: dict[str, str], *command: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def cdk(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return run(env, sys.executable, "-m", "local.cdk", *args)


def aws_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return run(env, str(REPO_ROOT / ".venv" / "bin" / "aws"), "cloudformation", *args)


@pytest.fixture(scope="module")
def deployed(
    aws: PipelineAws, job_env: dict[str, str], assembly: Path, tmp_path_factory: Any
) -> dict[str, Any]:
    """``make deploy-assembly ENV=dev``'s command line, against the local AWS."""
    outputs_file = tmp_path_factory.mktemp("reports") / "cdk-outputs-dev.json"
    done = cdk(
        job_env,
        "deploy", "--app", str(assembly), "--ci", "--require-approval", "never",
        "--progress", "events", "--outputs-file", str(outputs_file), STACK,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return {"outputs_file": outputs_file, "stderr": done.stderr, "stdout": done.stdout}


def client(job_env: dict[str, str], service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=job_env["AWS_ENDPOINT_URL"],
        region_name="us-east-1",
        aws_access_key_id=job_env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=job_env["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=job_env["AWS_SESSION_TOKEN"],
    )


def test_deploy_writes_the_outputs_file_in_cdk_format(
    deployed: dict[str, Any], job_env: dict[str, str]
) -> None:
    written = json.loads(deployed["outputs_file"].read_text())
    assert list(written) == [STACK]
    [stack] = client(job_env, "cloudformation").describe_stacks(StackName=STACK)["Stacks"]
    assert stack["StackId"].split(":")[4] == "111111111111"  # the job's account
    assert written[STACK] == {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert "substituted: cdk deploy substituted by the local deployer" in deployed["stderr"]


def test_verify_tables_passes_with_the_jobs_credentials(
    deployed: dict[str, Any], job_env: dict[str, str], tmp_path: Path
) -> None:
    done = run(
        job_env,
        sys.executable, "-m", "ci.verify", "--env", "dev", "--section", "tables",
        "--report-dir", str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    results = json.loads((tmp_path / "verify-dev.json").read_text())["results"]
    assert results
    assert {r["status"] for r in results} <= {"pass", "skipped", "manual"}


async def _create_session(url: str, token: str) -> list[dict[str, Any]]:
    query = urlencode(
        {
            "action": "createSession",
            "sourceLanguage": "en",
            "qualityTier": "standard",
            "token": token,
        }
    )
    async with connect(f"{url}?{query}", open_timeout=30) as ws:
        await ws.send(json.dumps({"action": "heartbeat"}))
        received: list[dict[str, Any]] = []
        while not any(m.get("type") in ("heartbeatAck", "error") for m in received):
            received.append(json.loads(await asyncio.wait_for(ws.recv(), 15)))
        return received


def smoke_token(aws: PipelineAws, job_env: dict[str, str]) -> str:
    """The provisioned smoke user signs in as a client app does (USER_PASSWORD_AUTH)."""
    pool = aws.environments["dev"].pool
    result = client(job_env, "cognito-idp").initiate_auth(
        ClientId=pool.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": SMOKE_USER[0], "PASSWORD": SMOKE_USER[1]},
    )
    return str(result["AuthenticationResult"]["IdToken"])


def websocket_url(aws: PipelineAws) -> str:
    """``GET /stacks/<name>`` of the control API, as a job asks for it."""
    import urllib.request

    with urllib.request.urlopen(f"{aws.control_url}/stacks/{STACK}", timeout=10) as answer:
        return str(json.loads(answer.read())["websocketUrl"])


def test_the_smoke_user_creates_a_session_over_the_served_websocket(
    aws: PipelineAws, deployed: dict[str, Any], job_env: dict[str, str]
) -> None:
    url = websocket_url(aws)
    assert url.startswith("ws://127.0.0.1:")
    assert url.endswith("/prod")
    assert f"Local WebSocket URL: {url}" in deployed["stdout"]
    messages = asyncio.run(_create_session(url, smoke_token(aws, job_env)))
    [created] = [m for m in messages if m["type"] == "sessionCreated"]
    assert created["sessionId"]
    table = json.loads(deployed["outputs_file"].read_text())[STACK]["SessionsTableName"]
    item = client(job_env, "dynamodb").get_item(
        TableName=table, Key={"sessionId": {"S": created["sessionId"]}}
    )
    assert "Item" in item  # in dev's account, where the handlers act


def test_a_redeploy_recreates_the_stack_and_serves_it_again(
    aws: PipelineAws,
    deployed: dict[str, Any],
    job_env: dict[str, str],
    assembly: Path,
    tmp_path: Path,
) -> None:
    before = websocket_url(aws)
    outputs_file = tmp_path / "outputs.json"
    done = cdk(
        job_env, "deploy", "--app", str(assembly), "--outputs-file", str(outputs_file), STACK
    )
    assert done.returncode == 0, done.stderr
    assert "substituted: stack update substituted by delete and create" in done.stderr
    after = websocket_url(aws)
    assert after == before  # the same port, when it is free
    messages = asyncio.run(_create_session(after, smoke_token(aws, job_env)))
    assert any(m["type"] == "sessionCreated" for m in messages)


def test_a_failed_rollback_is_continued_with_the_aws_cli(
    aws: PipelineAws, deployed: dict[str, Any], job_env: dict[str, str]
) -> None:
    aws.set_stack_status(STACK, "UPDATE_ROLLBACK_FAILED")
    done = aws_cli(job_env, "continue-update-rollback", "--stack-name", STACK)
    assert done.returncode == 0, done.stderr
    status = aws_cli(
        job_env, "describe-stacks", "--stack-name", STACK,
        "--query", "Stacks[0].StackStatus", "--output", "text",
    )  # fmt: skip
    assert status.stdout.strip() == "UPDATE_ROLLBACK_COMPLETE"


def test_cancel_update_stack_on_a_settled_stack_is_refused_as_aws_refuses_it(
    deployed: dict[str, Any], job_env: dict[str, str]
) -> None:
    done = aws_cli(job_env, "cancel-update-stack", "--stack-name", STACK)
    assert done.returncode != 0
    assert "(ValidationError)" in done.stderr
    assert "CancelUpdateStack cannot be called from current stack status" in done.stderr


def test_diff_without_the_real_cli_compares_templates_and_says_so(
    deployed: dict[str, Any], job_env: dict[str, str], assembly: Path, tmp_path: Path
) -> None:
    env = {**job_env, "LOCAL_CDK_REAL_CLI": str(tmp_path / "no-cdk")}
    done = cdk(env, "diff", "--app", str(assembly), STACK)
    assert done.returncode == 0, done.stderr
    assert "substituted: cdk diff by a template comparison" in done.stderr
    assert "There were no differences" in done.stdout  # GetTemplate answers what was deployed
    changed = tmp_path / "changed"
    changed.mkdir()
    template = json.loads((assembly / f"{STACK}.template.json").read_text())
    template["Resources"]["ExtraTopic"] = {"Type": "AWS::SNS::Topic"}
    (changed / f"{STACK}.template.json").write_text(json.dumps(template))
    done = cdk(env, "diff", "--app", str(changed), STACK)
    assert "[+] AWS::SNS::Topic ExtraTopic" in done.stdout


def test_bad_requests_get_one_line_errors(aws: PipelineAws, job_env: dict[str, str]) -> None:
    done = cdk(job_env, "deploy", "--app", "/nonexistent/cdk.out/dev", STACK)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("❌ --app /nonexistent/cdk.out/dev")
    assert "Traceback" not in done.stderr
    done = cdk(job_env, "deploy", "--app", str(REPO_ROOT), "SessionManagement-qa")
    assert done.returncode == 1
    assert "unknown environment 'qa'" in done.stderr
    with pytest.raises(ControlError, match="not a CloudFormation stack status"):
        aws.set_stack_status(STACK, "BROKEN")


def _with_metadata(assembly: Path, into: Path, note: str) -> Path:
    """A copy of the assembly whose first function carries ``note`` in its metadata."""
    if into.exists():
        shutil.rmtree(into)
    shutil.copytree(assembly, into)
    path = into / f"{STACK}.template.json"
    template = json.loads(path.read_text())
    logical_id = next(
        k for k, r in template["Resources"].items() if r["Type"] == "AWS::Lambda::Function"
    )
    template["Resources"][logical_id].setdefault("Metadata", {})["note"] = note
    path.write_text(json.dumps(template))
    return into


def change_set(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return run(env, sys.executable, "-m", "ci.change_set", *args)


def deployed_template(job_env: dict[str, str]) -> dict[str, Any]:
    body = client(job_env, "cloudformation").get_template(StackName=STACK)["TemplateBody"]
    return body if isinstance(body, dict) else json.loads(body)


def test_the_change_set_that_runs_is_the_one_prepared_and_reviewed(
    aws: PipelineAws,
    deployed: dict[str, Any],
    job_env: dict[str, str],
    assembly: Path,
    tmp_path: Path,
) -> None:
    prepared = _with_metadata(assembly, tmp_path / "cdk.out" / "dev", "reviewed")
    done = cdk(
        job_env, "deploy", "--app", str(prepared), "--method=prepare-change-set",
        "--change-set-name", "release-1-1", STACK,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "created, not executed: 1 resource changes" in done.stdout
    reports = tmp_path / "reports"
    done = change_set(
        job_env, "--report-dir", str(reports), "review", "--env", "dev",
        "--change-set", "release-1-1", "--release", "v9.9.9",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = json.loads((reports / "change-set-dev.json").read_text())
    assert record["changes"] == 1
    assert record["refused"] is None
    summary = (reports / "change-set-dev.md").read_text()
    assert "| modified | AWS::Lambda::Function |" in summary
    # The job's cdk.out changes after the review: what runs is still what was reviewed.
    _with_metadata(assembly, prepared, "not reviewed")
    done = change_set(
        job_env, "--report-dir", str(reports), "check", "--env", "dev",
        "--change-set", "release-1-1",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    before = len(aws.operations)
    done = cdk(
        job_env, "deploy", "--app", str(prepared), "--method=execute-change-set",
        "--change-set-name", "release-1-1", STACK,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [o["op"] for o in aws.operations[before:]] == ["execute-change-set"]
    notes = [
        r.get("Metadata", {}).get("note") for r in deployed_template(job_env)["Resources"].values()
    ]
    assert "reviewed" in notes
    assert "not reviewed" not in notes


def test_a_change_set_is_refused_once_the_stack_changed_after_its_review(
    aws: PipelineAws,
    deployed: dict[str, Any],
    job_env: dict[str, str],
    assembly: Path,
    tmp_path: Path,
) -> None:
    done = cdk(
        job_env, "deploy", "--app", str(assembly), "--method=prepare-change-set",
        "--change-set-name", "release-2-1", STACK,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    reports = tmp_path / "reports"
    review = ("review", "--env", "dev", "--change-set", "release-2-1", "--release", "v9.9.9")
    done = change_set(job_env, "--report-dir", str(reports), *review)
    assert done.returncode == 0, done.stderr
    aws.deploy("dev", assembly)  # someone updates the stack while the approver reads
    check = ("check", "--env", "dev", "--change-set", "release-2-1")
    done = change_set(job_env, "--report-dir", str(reports), *check)
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert "it is OBSOLETE" in line
    assert "the stack changed since it was prepared" in line
    done = cdk(
        job_env, "deploy", "--app", str(assembly), "--method=execute-change-set",
        "--change-set-name", "release-2-1", STACK,
    )  # fmt: skip
    assert done.returncode == 1
    assert "cannot be executed in its current execution status of [OBSOLETE]" in done.stderr
    assert "Traceback" not in done.stderr


# --- rollback triggers, which the local deployer emulates (moto watches no alarm) ------------
HEALTH = "session-management-dev-deployment-health"
ERRORS = "session-management-dev-connection-errors"


def save_triggers(job_env: dict[str, str], minutes: int) -> None:
    """What ci.rollback_triggers' apply sends (dev's config asks for none: set here)."""
    triggers = (
        [{"Arn": f"arn:aws:cloudwatch:us-east-1:111111111111:alarm:{HEALTH}", "Type": TRIGGER}]
        if minutes
        else []
    )
    client(job_env, "cloudformation").update_stack(
        StackName=STACK,
        UsePreviousTemplate=True,
        Parameters=[{"ParameterKey": "BootstrapVersion", "UsePreviousValue": True}],
        RollbackConfiguration={"RollbackTriggers": triggers, "MonitoringTimeInMinutes": minutes},
    )


TRIGGER = "AWS::CloudWatch::CompositeAlarm"


def stack_of(job_env: dict[str, str]) -> dict[str, Any]:
    [stack] = client(job_env, "cloudformation").describe_stacks(StackName=STACK)["Stacks"]
    return dict(stack)


def notes_of(job_env: dict[str, str]) -> set[str]:
    resources = deployed_template(job_env)["Resources"].values()
    return {r.get("Metadata", {}).get("note") for r in resources} - {None}


def test_a_rollback_trigger_in_alarm_when_the_update_starts_rolls_it_back(
    aws: PipelineAws,
    deployed: dict[str, Any],
    job_env: dict[str, str],
    assembly: Path,
    tmp_path: Path,
) -> None:
    aws.deploy("dev", _with_metadata(assembly, tmp_path / "before", "before"))
    save_triggers(job_env, minutes=1)
    cloudwatch = client(job_env, "cloudwatch")
    try:
        cloudwatch.set_alarm_state(AlarmName=ERRORS, StateValue="ALARM", StateReason="test")
        after = _with_metadata(assembly, tmp_path / "after", "after")
        done = cdk(job_env, "deploy", "--app", str(after), "--ci", STACK)
        assert done.returncode == 1
        assert (
            "UPDATE_ROLLBACK_COMPLETE, rollback trigger fired when the update started: "
            f"{HEALTH}, {ERRORS} in ALARM (rollback triggers emulated by the local deployer)"
        ) in done.stderr
        assert "Traceback" not in done.stderr
        assert stack_of(job_env)["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
        assert notes_of(job_env) == {"before"}  # nothing of the update stayed
        assert aws.operations[-1]["rolledBack"].startswith("rollback trigger fired when")
        # The alarm cleared, the update goes through; the stack keeps its triggers (the local
        # deployer recreates the stack: it carries them over, as an update keeps them).
        cloudwatch.set_alarm_state(AlarmName=ERRORS, StateValue="OK", StateReason="test")
        done = cdk(job_env, "deploy", "--app", str(after), "--ci", STACK)
        assert done.returncode == 0, done.stderr
        assert "rollback triggers emulated by the local deployer" in done.stderr
        assert notes_of(job_env) == {"after"}
        triggers = stack_of(job_env)["RollbackConfiguration"]["RollbackTriggers"]
        assert [t["Arn"].rsplit(":", 1)[-1] for t in triggers] == [HEALTH]
    finally:
        save_triggers(job_env, minutes=0)


def test_a_trigger_firing_in_the_monitoring_period_redeploys_the_previous_assembly(
    aws: PipelineAws,
    deployed: dict[str, Any],
    job_env: dict[str, str],
    assembly: Path,
    tmp_path: Path,
) -> None:
    aws.deploy("dev", _with_metadata(assembly, tmp_path / "before", "before"))
    save_triggers(job_env, minutes=5)  # 10 s here (2 s a minute)
    cloudwatch = client(job_env, "cloudwatch")
    after = _with_metadata(assembly, tmp_path / "after", "monitored")

    def deployed_yet() -> bool:
        try:
            return "monitored" in notes_of(job_env)
        except ClientError:  # between the delete and the create of the local deployer
            return False

    def fire_once_deployed() -> None:  # the update's alarms exist once its template is kept
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not deployed_yet():
            time.sleep(0.1)
        cloudwatch.set_alarm_state(AlarmName=ERRORS, StateValue="ALARM", StateReason="test")

    firing = threading.Thread(target=fire_once_deployed, daemon=True)
    try:
        before = len(aws.operations)
        firing.start()
        done = cdk(job_env, "deploy", "--app", str(after), "--ci", STACK)
        firing.join(timeout=5)
        assert done.returncode == 1
        assert "rollback trigger fired within the monitoring period" in done.stderr
        assert [o["op"] for o in aws.operations[before:]] == ["deploy", "rollback"]
        assert stack_of(job_env)["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
        assert notes_of(job_env) == {"before"}
    finally:
        save_triggers(job_env, minutes=0)
