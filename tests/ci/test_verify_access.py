"""`make verify` when the deployment cannot be read: one line, a non-zero exit, reports written.

Without credentials, with a profile that does not exist, with credentials AWS refuses, or with
no stack, every check would fail on the same cause; the verification says that cause once (what
is missing and how to provide it), writes the reports and the sign-off with every line "not
verified", and exits 3. The first two run the real command in a subprocess with no AWS
configuration at all; the refused credentials and the missing stack run against moto.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from moto import mock_aws
from moto.core import set_initial_no_auth_action_count
from rich.console import Console

from ci import verify
from ci.checklist import SECTIONS, items_of
from ci.deployment import REPO_ROOT, Options
from ci.report.terminal import TerminalReporter

_AWS_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE")


def _verify_without_aws(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    """``python -m ci.verify --env dev`` on a machine with no AWS configuration."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    environ.update(
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        AWS_EC2_METADATA_DISABLED="true",  # no instance metadata to wait for
        **extra,
    )
    environ.pop("GITHUB_STEP_SUMMARY", None)
    return subprocess.run(
        [sys.executable, "-m", "ci.verify", "--env", "dev", "--report-dir", str(tmp_path / "r")],
        cwd=REPO_ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _assert_not_verified_reports(reports: Path, env: str, cause: str) -> None:
    signoff = json.loads((reports / f"signoff-{env}.json").read_text())
    assert signoff["result"] == "failed"
    assert cause in signoff["error"]
    assert "## Not verified" in (reports / f"signoff-{env}.md").read_text()
    data = json.loads((reports / f"verify-{env}.json").read_text())
    assert len(data["results"]) == sum(len(items_of(s)) for s in SECTIONS)
    assert {r["status"] for r in data["results"]} == {"fail"}
    assert all(r["evidence"].startswith("not verified: ") for r in data["results"])
    assert "— NOT VERIFIED\n" in (reports / f"verify-{env}.md").read_text()


def test_no_credentials_is_one_line_saying_how_to_provide_them(tmp_path: Path) -> None:
    done = _verify_without_aws(tmp_path)
    assert done.returncode == verify.EXIT_NOT_VERIFIED, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    errors = done.stderr.strip().splitlines()
    assert len(errors) == 1, errors
    assert errors[0].startswith("error: no AWS credentials for dev")
    assert "aws sso login" in errors[0]
    assert "make verify ENV=local" in errors[0]
    assert "FAIL" not in done.stdout  # no line-by-line failures of the same cause
    _assert_not_verified_reports(tmp_path / "r", "dev", "no AWS credentials")


def test_a_profile_that_does_not_exist_is_named(tmp_path: Path) -> None:
    done = _verify_without_aws(tmp_path, AWS_PROFILE="no-such-profile")
    assert done.returncode == verify.EXIT_NOT_VERIFIED, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert "AWS profile not found" in line
    assert "no-such-profile" in line
    _assert_not_verified_reports(tmp_path / "r", "dev", "AWS profile not found")


def _reporter() -> tuple[TerminalReporter, Console, Console]:
    out, err = Console(record=True, width=400), Console(record=True, width=400)
    return TerminalReporter(console=out, errors=err), out, err


@pytest.fixture
def moto_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*_AWS_VARIABLES, "AWS_ENDPOINT_URL", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-real-secret")


@set_initial_no_auth_action_count(0)  # moto checks every request's credentials, as AWS does
def test_refused_credentials_say_so_and_how_to_refresh(moto_credentials, tmp_path: Path) -> None:
    with mock_aws():
        reporter, _out, err = _reporter()
        status, _ = verify.verify(
            Options(env="dev", sections=SECTIONS, report_dir=tmp_path), reporter
        )
    assert status == verify.EXIT_NOT_VERIFIED
    (line,) = err.export_text().strip().splitlines()
    assert "AWS refused the credentials for dev (InvalidClientTokenId" in line
    assert "refresh them" in line
    _assert_not_verified_reports(tmp_path, "dev", "InvalidClientTokenId")


def test_a_missing_stack_is_one_line_saying_to_deploy_it(moto_credentials, tmp_path: Path) -> None:
    with mock_aws():
        reporter, _out, err = _reporter()
        status, _ = verify.verify(
            Options(env="staging", sections=SECTIONS, report_dir=tmp_path), reporter
        )
    assert status == verify.EXIT_NOT_VERIFIED
    (line,) = err.export_text().strip().splitlines()
    assert "stack SessionManagement-staging not found in us-east-1" in line
    assert "make deploy ENV=staging" in line
    _assert_not_verified_reports(tmp_path, "staging", "not found")


def test_pre_deployment_alone_runs_before_the_first_deploy(moto_credentials, tmp_path) -> None:
    """The pipeline verifies pre-deployment before the stack exists: no stack is no refusal."""
    with mock_aws():
        reporter, _out, err = _reporter()
        options = Options(env="dev", sections=("pre-deployment",), report_dir=tmp_path)
        verify.verify(options, reporter)
    assert err.export_text() == ""
    data = json.loads((tmp_path / "verify-dev.json").read_text())
    assert data["error"] is None
    assert data["results"]
    assert all(not r["evidence"].startswith("not verified") for r in data["results"])


def test_an_unknown_environment_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert verify.main(["--env", "nope"]) == verify.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("error: no environment 'nope': expected one of dev, local, prod, staging")
