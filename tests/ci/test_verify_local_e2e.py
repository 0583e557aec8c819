"""End to end: the whole verification against the local environment, smoke tests included.

The local environment runs with its deployed settings (no test overrides), writes its state
file, and ``ci.verify.main`` finds everything from that file, as ``make verify ENV=local`` does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

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
    state_file: Path, tmp_path: Path
) -> None:
    status, results = _run(state_file, tmp_path, *SECTIONS)
    failed = {i: r["evidence"] for i, r in results.items() if r["status"] == "fail"}
    assert status == 0, failed
    smoke = [r for r in results.values() if r["section"] == "smoke"]
    assert len(smoke) == 8
    assert all(r["status"] == "pass" for r in smoke), smoke
    user = results["smoke.test-user"]["evidence"]
    assert "deleted" in user
    report = (tmp_path / "verify-local.md").read_text() + (
        tmp_path / "verify-local.json"
    ).read_text()
    assert "eyJ" not in report  # no token in any report


def test_pre_deployment_lines_that_read_the_deployment_pass(
    state_file: Path, tmp_path: Path
) -> None:
    _, results = _run(state_file, tmp_path, "pre-deployment")
    assert {i: results[i]["status"] for i in PRE_DEPLOYMENT_READS} == dict.fromkeys(
        PRE_DEPLOYMENT_READS, "pass"
    )
    assert results["pre.tests"]["status"] == "manual"
    assert results["pre.cdk-bootstrap"]["status"] == "skipped"
