"""Reports, sign-off and the command line: what a person and the pipeline get from a run."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from real_stack import AUTOMATIC_SECTIONS

from ci import verify
from ci.checks import REGISTRY, load_all
from ci.deployment import Options
from ci.local_state import NOT_RUNNING, LocalEnvironmentMissing, read_state
from ci.model import Outcome, Result, Status, Summary, redact
from ci.report import junit, markdown
from ci.report.terminal import TerminalReporter

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXBhcnQ"


def _result(status: Status, **kw: str) -> Result:
    base = dict(
        id="tables.sessions.ttl",
        section="tables",
        heading="Deployment",
        subheading="Task 13.1: Deploy DynamoDB Tables",
        text="Sessions table has TTL enabled on `expiresAt`",
        status=status,
    )
    return Result(**{**base, **kw})  # type: ignore[arg-type]


def test_markdown_ticks_passes_and_explains_the_rest() -> None:
    text = markdown.render(
        [
            _result(Status.PASS, evidence="TTL ENABLED"),
            _result(
                Status.FAIL,
                id="tables.sessions.billing",
                text="Sessions table uses on-demand billing",
                evidence="billing mode PROVISIONED",
                expected="PAY_PER_REQUEST",
                command="aws dynamodb describe-table --table-name Sessions-dev",
            ),
        ],
        "dev",
    )
    assert "## Deployment" in text
    assert "### Task 13.1: Deploy DynamoDB Tables" in text
    assert "- [x] Sessions table has TTL enabled on `expiresAt`" in text
    assert "- [ ] Sessions table uses on-demand billing — ❌ **FAIL**" in text
    assert "expected: PAY_PER_REQUEST" in text
    assert "see: `aws dynamodb describe-table --table-name Sessions-dev`" in text
    assert "FAILED" in text.splitlines()[0]


def test_the_verdict_says_passed_only_when_no_automatic_line_failed() -> None:
    mixed = [_result(Status.PASS), _result(Status.MANUAL), _result(Status.SKIPPED)]
    assert Summary.of(mixed).sentence() == (
        "PASSED: every automatic line passed (1); 1 left to a person (manual), "
        "1 not applicable here (skipped)"
    )
    failing = Summary.of([*mixed, _result(Status.FAIL)]).sentence()
    assert failing.startswith("FAILED: 1 automatic line(s) failed, 1 passed;")
    nothing = Summary.of([_result(Status.SKIPPED)]).sentence()
    assert nothing.startswith("nothing verified")
    assert "PASSED" not in nothing


def test_junit_maps_fail_to_failure_and_manual_or_skipped_to_skipped() -> None:
    results = [
        _result(Status.PASS),
        _result(Status.FAIL, id="a", expected="x", evidence="y"),
        _result(Status.MANUAL, id="b", note="click the link"),
        _result(Status.SKIPPED, id="c", note="not applicable"),
    ]
    root = ET.fromstring(junit.render(results, "dev"))  # noqa: S314 - our own output
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("4", "1", "2")
    cases = suite.findall("testcase")
    assert cases[1].find("failure") is not None
    assert cases[2].find("skipped").get("message") == "manual: click the link"  # type: ignore[union-attr]


def test_tokens_never_reach_a_report() -> None:
    assert JWT not in redact(f"token {JWT} and wss://x/?token=abc&role=speaker")
    assert "token=***" in redact("wss://x/?token=abc&role=speaker")


def test_local_env_without_state_file_says_how_to_start_it(tmp_path: Path, capsys) -> None:
    status = verify.main(["--env", "local", "--state-file", str(tmp_path / "none.json")])
    assert status == verify.EXIT_USAGE
    assert NOT_RUNNING in capsys.readouterr().err


def test_state_file_is_read_leniently_and_stale_ones_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text(
        json.dumps({"motoEndpoint": "http://127.0.0.1:1", "websocketEndpoint": "ws://h/prod"})
    )
    state = read_state(path)
    assert (state.endpoint_url, state.websocket_url) == ("http://127.0.0.1:1", "ws://h/prod")
    path.write_text(json.dumps({"pid": 2**22 + 12345, "motoEndpoint": "http://127.0.0.1:1"}))
    with pytest.raises(LocalEnvironmentMissing, match="make local"):
        read_state(path)


def test_verify_writes_every_report_and_the_signoff_and_fails_on_a_failure(
    aws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = aws("dev")
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    options = Options(
        env="dev",
        sections=(*AUTOMATIC_SECTIONS, "documentation", "rollback", "sign-off"),
        report_dir=tmp_path / "reports",
        deployed_by="pipeline-actor",
        version="1.2.3",
        commit="abc1234",
    )
    status, results = verify.verify(options, TerminalReporter())
    assert status == 0, [r.id for r in results if r.status is Status.FAIL]
    reports = tmp_path / "reports"
    for name in (
        "verify-dev.md",
        "verify-dev.json",
        "verify-dev.junit.xml",
        "signoff-dev.json",
        "signoff-dev.md",
        "outputs-dev.json",
    ):
        assert (reports / name).is_file(), name
    signoff = json.loads((reports / "signoff-dev.json").read_text())
    assert signoff["result"] == "passed"
    assert (signoff["environment"], signoff["version"], signoff["commit"]) == (
        "dev",
        "1.2.3",
        "abc1234",
    )
    assert signoff["deployed_by"] == "pipeline-actor"
    assert signoff["signs_off"] == "dev"
    verified = {r.id: r for r in results}["signoff.dev.verified"]
    assert verified.status is Status.PASS
    # "All verification steps passed" never ticks beside a bare partial count.
    assert re.fullmatch(
        r"(\d+) of (\d+) verification checks passed, (\d+) not applicable here \(.+\): "
        r"none failed",
        verified.evidence,
    ), verified.evidence
    assert "# Deployment checklist: `dev` — passed" in summary.read_text()

    fake.client("dynamodb").update_time_to_live(
        TableName="Sessions-dev",
        TimeToLiveSpecification={"Enabled": False, "AttributeName": "expiresAt"},
    )
    status, results = verify.verify(options, TerminalReporter())
    assert status == verify.EXIT_FAILED
    signoff = json.loads((reports / "signoff-dev.json").read_text())
    assert [f["id"] for f in signoff["failed"]] == ["tables.sessions.ttl", "signoff.dev.verified"]
    by_id = {r.id: r for r in results}
    assert by_id["rollback.identify"].status is Status.MANUAL
    assert "tables.sessions.ttl" in by_id["rollback.identify"].evidence


def test_unit_test_line_reads_the_pipelines_junit_file(deployment_of, tmp_path: Path) -> None:
    load_all()
    good = tmp_path / "good.xml"
    good.write_text(
        '<testsuites><testsuite tests="12" failures="0" errors="0" skipped="1"/></testsuites>'
    )
    bad = tmp_path / "bad.xml"
    bad.write_text('<testsuite tests="12" failures="2" errors="0" skipped="0"/>')

    def line(*files: Path) -> Outcome:
        return REGISTRY["pre.tests"](deployment_of("dev", junit=files))

    assert line().status is Status.MANUAL
    assert line(good).status is Status.PASS
    assert line(bad).status is Status.FAIL


def test_the_terminal_shows_what_a_pass_read_only_when_verbose() -> None:
    from rich.console import Console

    line = _result(Status.PASS, evidence="TTL ENABLED on expiresAt")
    for verbose, shown in ((False, False), (True, True)):
        console = Console(record=True, width=200)
        TerminalReporter(console=console, verbose=verbose).result(line)
        assert ("TTL ENABLED on expiresAt" in console.export_text()) is shown
