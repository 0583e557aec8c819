"""End to end: the whole verification against the local environment, smoke tests included.

The local environment runs with its deployed settings (no test overrides), writes its state
file, and ``ci.verify.main`` finds everything from that file, as ``make verify ENV=local`` does.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from ci import verify

pytestmark = pytest.mark.e2e

# Pre-deployment is left out: its lint/format lines judge the working tree, not the deployment,
# and its deployment-reading lines are asserted separately below.
SECTIONS = (
    "tables", "functions", "api", "monitoring", "post-deployment", "smoke", "production",
    "documentation", "rollback", "sign-off",
)  # fmt: skip
PRE_DEPLOYMENT_READS = (
    "pre.account-id", "pre.region", "pre.user-pool", "pre.app-client", "pre.config-file",
    "pre.config-complete", "pre.alarm-email", "pre.python", "pre.venv",
)  # fmt: skip


@pytest.fixture(scope="module")
def state_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    from local.environment import LocalEnvironment

    path = tmp_path_factory.mktemp("local") / "state.json"
    env = LocalEnvironment(state_file=path)
    env.start()
    try:
        yield path
    finally:
        env.stop()


def _run(state_file: Path, reports: Path, *sections: str) -> tuple[int, dict[str, dict]]:
    argv = ["--env", "local", "--state-file", str(state_file), "--report-dir", str(reports)]
    for section in sections:
        argv += ["--section", section]
    status = verify.main(argv)
    data = json.loads((reports / "verify-local.json").read_text())
    return status, {r["id"]: r for r in data["results"]}


def test_every_automatic_line_passes_against_the_local_environment(
    state_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, results = _run(state_file, tmp_path, *SECTIONS)
    failed = {i: r["evidence"] for i, r in results.items() if r["status"] == "fail"}
    assert status == 0, failed
    out = capsys.readouterr().out
    assert "local: verification PASSED: every automatic line passed (" in out
    assert "not applicable here (skipped)" in out
    smoke = [r for r in results.values() if r["section"] == "smoke"]
    assert len(smoke) == 8
    assert all(r["status"] == "pass" for r in smoke), smoke
    user = results["smoke.test-user"]["evidence"]
    assert "deleted" in user
    report = (tmp_path / "verify-local.md").read_text() + (
        tmp_path / "verify-local.json"
    ).read_text()
    assert "eyJ" not in report  # no token in any report
    assert not re.search(r"Ci-[A-Za-z0-9_-]{24}-7a!", report)  # nor the throwaway password


def test_pre_deployment_lines_that_read_the_deployment_pass(
    state_file: Path, tmp_path: Path
) -> None:
    _, results = _run(state_file, tmp_path, "pre-deployment")
    assert {i: results[i]["status"] for i in PRE_DEPLOYMENT_READS} == dict.fromkeys(
        PRE_DEPLOYMENT_READS, "pass"
    )
    assert results["pre.tests"]["status"] == "manual"
    assert results["pre.cdk-bootstrap"]["status"] == "skipped"


def test_a_local_run_signs_off_no_environment(state_file: Path, tmp_path: Path) -> None:
    _, results = _run(state_file, tmp_path, "sign-off")
    lines = [r for r in results.values() if r["section"] == "sign-off"]
    assert lines
    assert {r["status"] for r in lines} == {"skipped"}
    assert all("a local run signs off no environment" in r["note"] for r in lines), lines
    record = json.loads((tmp_path / "signoff-local.json").read_text())
    assert record["signs_off"] is None
    signoff = (tmp_path / "signoff-local.md").read_text()
    assert "| Signs off | nothing: a local run signs off no environment |" in signoff


# --- the pipelines' way: a pre-provisioned user, through the environment variables ----------
def _pool_users(cognito: Any, pool_id: str) -> list[tuple[str, str, bool, Any]]:
    listed = cognito.list_users(UserPoolId=pool_id)["Users"]
    return sorted(
        (u["Username"], u["UserStatus"], u["Enabled"], u["UserLastModifiedDate"]) for u in listed
    )


def test_smoke_signs_in_as_the_provisioned_user_and_leaves_the_pool_as_it_was(
    state_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd
) -> None:
    from local.cognito import UserPool, create_test_user

    state = json.loads(state_file.read_text())
    cognito = boto3.client(
        "cognito-idp",
        endpoint_url=state["motoEndpoint"],
        region_name=state.get("region", "us-east-1"),
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    pool = UserPool(state["userPoolId"], state["appClientId"], state["motoEndpoint"])
    password = f"Provisioned-{secrets.token_urlsafe(12)}-9z!"
    username = "smoke-provisioned@example.com"
    create_test_user(cognito, pool, username=username, password=password)  # the administrator
    before = _pool_users(cognito, pool.pool_id)
    monkeypatch.setenv("SMOKE_TEST_USERNAME", username)
    monkeypatch.setenv("SMOKE_TEST_PASSWORD", password)

    status, results = _run(state_file, tmp_path, "smoke")

    smoke = {i: r for i, r in results.items() if r["section"] == "smoke"}
    assert status == 0, smoke
    assert len(smoke) == 8
    assert all(r["status"] == "pass" for r in smoke.values()), smoke
    assert f"pre-provisioned user {username}" in smoke["smoke.test-user"]["evidence"]
    assert "at the end" not in smoke["smoke.test-user"]["evidence"]  # no cleanup to report
    assert _pool_users(cognito, pool.pool_id) == before  # nothing created, changed or deleted
    written = "".join(p.read_text() for p in tmp_path.rglob("*") if p.is_file())
    captured = capfd.readouterr()
    for text in (written, captured.out, captured.err):
        assert password not in text
        assert "eyJ" not in text
