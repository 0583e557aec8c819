"""The sign-off record and the job summaries written by .github/scripts/pipeline_report.py."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from tests.workflows.workflow_files import REPO_ROOT


@pytest.fixture(scope="module")
def report():
    path = REPO_ROOT / ".github" / "scripts" / "pipeline_report.py"
    spec = importlib.util.spec_from_file_location("pipeline_report", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def needs(**results: str) -> str:
    return json.dumps({job: {"result": result, "outputs": {}} for job, result in results.items()})


ALL_PASSED = {
    "change-set": "success",
    "pre-deployment": "success",
    "deploy": "success",
    "verify": "success",
    "verify-production": "success",
    "loadtest": "skipped",
}


def test_sign_off_of_a_passed_prod_deploy_records_release_approver_and_items(report, tmp_path):
    environ = {
        "NEEDS_JSON": needs(**ALL_PASSED),
        "RELEASE": "v1.2.3",
        "APPROVED_BY": "approver-login",
        "DEPLOYED_BY": "releaser-login",
    }
    markdown, record, passed = report.sign_off("prod", tmp_path, environ)
    assert passed is True
    assert record["items"]["PITR enabled"] == "passed"
    assert "- [x] Approved by: approver-login" in markdown
    assert "v1.2.3" in markdown


def test_sign_off_fails_when_a_verification_job_failed(report, tmp_path):
    environ = {"NEEDS_JSON": needs(**{**ALL_PASSED, "verify": "failure"})}
    markdown, record, passed = report.sign_off("staging", tmp_path, environ)
    assert passed is False
    assert record["items"]["All verification steps passed"] == "failed"
    assert "failed jobs: verify" in markdown


def test_sign_off_records_the_rollback_reason_and_masks_account_ids(report, tmp_path):
    environ = {"NEEDS_JSON": needs(**ALL_PASSED), "REASON": "alarm storm in 123456789012"}
    markdown, _, _ = report.sign_off("dev", tmp_path, environ)
    assert "Reason (rollback): alarm storm in ************" in markdown
    assert "123456789012" not in markdown


def test_sign_off_lists_the_verification_reports_of_every_job(report, tmp_path):
    # As the sign-off job downloads them: one folder per artifact, each with what
    # `python -m ci.verify` wrote (verify-ENV.md, .json, .junit.xml, signoff-ENV.*).
    for section in ("pre-deployment", "tables"):
        folder = tmp_path / f"reports-dev-{section}"
        folder.mkdir()
        for name in ("verify-dev.md", "verify-dev.json", "signoff-dev.md"):
            (folder / name).write_text("x", encoding="utf-8")
    markdown, record, _ = report.sign_off("dev", tmp_path, {"NEEDS_JSON": needs(**ALL_PASSED)})
    assert record["verificationReports"] == [
        "reports-dev-pre-deployment/verify-dev.md",
        "reports-dev-tables/verify-dev.md",
    ]
    assert "Verification reports: reports-dev-pre-deployment/verify-dev.md" in markdown


def test_sign_off_without_job_results_does_not_pass(report, tmp_path):
    assert report.sign_off("dev", tmp_path, {})[2] is False


def test_main_writes_the_record_files_and_exits_1_on_failure(report, tmp_path, monkeypatch):
    monkeypatch.setenv("NEEDS_JSON", needs(deploy="failure"))
    code = report.main(["sign-off", "--env", "dev", "--reports", str(tmp_path)])
    assert code == 1
    assert json.loads((tmp_path / "sign-off-dev.json").read_text())["passed"] is False
    assert (tmp_path / "sign-off-dev.md").read_text().startswith("## Sign-off: dev FAILED")


def test_junit_summary_lists_counts_and_failed_tests(report, tmp_path: Path):
    (tmp_path / "pytest.xml").write_text(
        '<testsuites><testsuite name="pytest" tests="3" failures="1" errors="0" skipped="1"'
        ' time="1.5"><testcase classname="tests.unit.test_a" name="test_ok"/>'
        '<testcase classname="tests.unit.test_a" name="test_bad"><failure message="x"/>'
        "</testcase></testsuite></testsuites>",
        encoding="utf-8",
    )
    text = report.junit_markdown(tmp_path)
    assert "| pytest.xml | 3 | 1 | 0 | 1 | 1.5 |" in text
    assert "`tests.unit.test_a::test_bad`" in text
