"""The bake (ci.bake) on in-process moto: the real alarm set of staging, a fake clock and sleep.

A clean bake records the release in SSM; an alarm in ALARM before or during the watch fails it
naming the alarm and records nothing; a missing alarm fails it; ``last-clean`` prints the record
or says there is none; an AWS refusal is one ❌ line, never a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ci import bake
from session_service import constants, specs

ENV = "staging"  # deploySafety.bakeMinutes 5
PARAMETER = constants.RELEASE_PARAMETER_TEMPLATE.format(env=ENV)
ALARMS = list(specs.alarm_names(ENV).values())


class FakeTime:
    """``clock`` and ``sleep`` for the bake: sleeping advances the clock and runs ``on_sleep``."""

    def __init__(self, on_sleep: Callable[[int], None] | None = None) -> None:
        self.now = 1_750_000_000.0
        self.sleeps: list[float] = []
        self.on_sleep = on_sleep

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.on_sleep:
            self.on_sleep(len(self.sleeps))


@pytest.fixture
def fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    outside = ("GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "GITHUB_ACTIONS", "GITHUB_SHA")
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", *outside):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def aws(fake_credentials: None) -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def cloudwatch(aws: None) -> Any:
    """moto's CloudWatch holding every alarm of the environment, all OK."""
    client = boto3.client("cloudwatch", region_name="us-east-1")
    for name in ALARMS:
        client.put_metric_alarm(
            AlarmName=name,
            MetricName="Errors",
            Namespace=constants.METRICS_NAMESPACE,
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
        )
        client.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="deployed")
    return client


@pytest.fixture
def ssm(aws: None) -> Any:
    return boto3.client("ssm", region_name="us-east-1")


@pytest.fixture
def report(tmp_path: Path) -> Path:
    return tmp_path / "reports" / f"bake-{ENV}.json"


def watch(report: Path, *extra: str, time: FakeTime | None = None) -> int:
    time = time or FakeTime()
    argv = ["watch", "--env", ENV, "--release", "v1.2.3", "--report", str(report), *extra]
    return bake.main(argv, clock=time.clock, sleep=time.sleep)


def fire(cloudwatch: Any, name: str) -> None:
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="5 errors in 5 min")


def record_previous(ssm: Any, release: str = "v1.2.2") -> dict[str, Any]:
    record = {"release": release, "commit": "0" * 40, "bakedAt": "2025-01-01T00:00:00+00:00"}
    ssm.put_parameter(Name=PARAMETER, Value=json.dumps(record), Type="String")
    return record


def recorded(ssm: Any) -> dict[str, Any]:
    return json.loads(ssm.get_parameter(Name=PARAMETER)["Parameter"]["Value"])


def test_clean_bake_records_the_release_and_reports_clean(
    cloudwatch: Any, ssm: Any, report: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    time = FakeTime()
    status = watch(report, "--commit", "a" * 40, "--run-url", "https://ci/run/7", time=time)
    out = capsys.readouterr().out
    assert status == 0
    # The config's 5 minutes, a poll every 30 s: 11 polls, the first at once.
    assert time.sleeps == [30] * 10
    assert out.splitlines()[-1] == (
        f"✅ bake of v1.2.3 in {ENV}: {len(ALARMS)} alarms clean for 5 minutes (11 polls); "
        "recorded as the last clean release"
    )
    record = recorded(ssm)
    assert record == {
        "release": "v1.2.3",
        "commit": "a" * 40,
        "bakedAt": "2025-06-15T15:11:40+00:00",
        "runUrl": "https://ci/run/7",
    }
    data = json.loads(report.read_text())
    assert data["result"] == "clean"
    assert data["alarms"] == []
    assert (data["polls"], data["watchedMinutes"], data["lastClean"]) == (11, 5, None)


def test_minutes_and_poll_seconds_override_the_config(cloudwatch: Any, report: Path) -> None:
    time = FakeTime()
    assert watch(report, "--minutes", "2", "--poll-seconds", "45", time=time) == 0
    assert time.sleeps == [45, 45, 30]
    assert json.loads(report.read_text())["polls"] == 4


def test_zero_minutes_still_reads_the_alarms_once(cloudwatch: Any, ssm: Any, report: Path) -> None:
    time = FakeTime()
    assert watch(report, "--minutes", "0", time=time) == 0
    assert time.sleeps == []
    assert json.loads(report.read_text())["polls"] == 1
    assert recorded(ssm)["release"] == "v1.2.3"


def test_alarm_in_alarm_before_the_watch_fails_naming_it_and_records_nothing(
    cloudwatch: Any, ssm: Any, report: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    previous = record_previous(ssm)
    fire(cloudwatch, ALARMS[1])
    status = watch(report)
    out = capsys.readouterr().out
    assert status == bake.EXIT_ALARM
    first, verdict = out.splitlines()[:2]
    assert first == (
        f"watching {len(ALARMS)} alarms of {ENV} for 5 minutes after v1.2.3 "
        "(a poll every 30 s; last clean release: v1.2.2)"
    )
    assert verdict.startswith(f"❌ bake of v1.2.3 in {ENV}: alarm {ALARMS[1]} is in ALARM since ")
    assert "(5 errors in 5 min)" in out
    assert recorded(ssm) == previous
    data = json.loads(report.read_text())
    assert data["result"] == "alarm"
    assert data["alarms"] == [ALARMS[1]]
    assert data["lastClean"] == previous
    assert data["polls"] == 1


def test_alarm_going_off_between_two_polls_fails_the_bake(
    cloudwatch: Any, ssm: Any, report: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def second_poll(sleeps: int) -> None:
        if sleeps == 1:
            fire(cloudwatch, ALARMS[-1])

    time = FakeTime(on_sleep=second_poll)
    assert watch(report, time=time) == bake.EXIT_ALARM
    assert f"alarm {ALARMS[-1]} is in ALARM" in capsys.readouterr().out
    assert time.sleeps == [30]  # stops at the alarm, does not wait out the bake
    data = json.loads(report.read_text())
    assert (data["alarms"], data["polls"], data["lastClean"]) == ([ALARMS[-1]], 2, None)
    with pytest.raises(ssm.exceptions.ParameterNotFound):
        ssm.get_parameter(Name=PARAMETER)


def test_every_alarm_in_alarm_is_named(
    cloudwatch: Any, report: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fire(cloudwatch, ALARMS[0])
    fire(cloudwatch, ALARMS[2])
    assert watch(report) == bake.EXIT_ALARM
    lines = capsys.readouterr().out.splitlines()[1:]  # after the start line
    assert [line.split(" alarm ")[1].split(" ")[0] for line in lines] == [ALARMS[0], ALARMS[2]]


def test_missing_alarm_fails_the_bake_naming_it(
    cloudwatch: Any, ssm: Any, report: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cloudwatch.delete_alarms(AlarmNames=[ALARMS[0]])
    assert watch(report) == bake.EXIT_NOT_BAKED
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"❌ alarm not found: {ALARMS[0]}; expected every alarm")
    assert captured.out.splitlines() == [captured.out.splitlines()[0]]  # the start line only
    assert captured.out.startswith(f"watching {len(ALARMS)} alarms of {ENV}")
    assert json.loads(report.read_text())["result"] == "error"
    with pytest.raises(ssm.exceptions.ParameterNotFound):
        ssm.get_parameter(Name=PARAMETER)


def test_no_alarms_at_all_fails_the_bake(
    aws: None, report: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert watch(report) == bake.EXIT_NOT_BAKED
    assert capsys.readouterr().err.startswith(f"❌ alarms not found: {ALARMS[0]}, ")


def test_alarm_names_are_asked_in_chunks_of_100() -> None:
    class Pages:
        def __init__(self) -> None:
            self.asked: list[list[str]] = []

        def get_paginator(self, name: str) -> Pages:
            assert name == "describe_alarms"
            return self

        def paginate(self, AlarmNames: list[str]) -> list[dict[str, Any]]:
            self.asked.append(AlarmNames)
            return [{"MetricAlarms": [{"AlarmName": n, "StateValue": "OK"} for n in AlarmNames]}]

    client = Pages()
    names = [f"alarm-{i}" for i in range(250)]
    assert bake.poll(client, names) == []
    assert [len(chunk) for chunk in client.asked] == [100, 100, 50]


def test_last_clean_prints_the_recorded_release(
    aws: None, ssm: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    record_previous(ssm, "v1.2.2")
    assert bake.main(["last-clean", "--env", ENV]) == 0
    assert capsys.readouterr().out == "v1.2.2\n"


def test_last_clean_prints_what_the_bake_recorded(
    cloudwatch: Any, report: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert watch(report) == 0
    capsys.readouterr()
    assert bake.main(["last-clean", "--env", ENV]) == 0
    assert capsys.readouterr().out == "v1.2.3\n"


def test_last_clean_without_a_record_exits_3_saying_so(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bake.main(["last-clean", "--env", ENV]) == bake.EXIT_NO_RECORD == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"no release has baked clean in {ENV} yet ({PARAMETER} is not set)\n"


def test_unreadable_record_is_one_line(
    aws: None, ssm: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    ssm.put_parameter(Name=PARAMETER, Value="v1.2.2", Type="String")
    assert bake.main(["last-clean", "--env", ENV]) == bake.EXIT_NOT_BAKED
    err = capsys.readouterr().err
    assert err.startswith(f"❌ SSM parameter {PARAMETER} holds 'v1.2.2': expected the JSON")
    assert err.count("\n") == 1


def test_clean_bake_appends_to_the_step_summary(
    cloudwatch: Any, report: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("before\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert watch(report) == 0
    text = summary.read_text()
    assert text.startswith("before\n### Bake\n")
    assert f"- ✅ bake of v1.2.3 in {ENV}: " in text


def outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


@pytest.fixture
def github_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workflow step's environment: the $GITHUB_OUTPUT file the bake writes its outputs to."""
    path = tmp_path / "output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(path))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    return path


def test_in_a_workflow_an_alarm_is_an_annotation_and_the_undo_gets_its_outputs(
    cloudwatch: Any,
    ssm: Any,
    report: Path,
    github_output: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    record_previous(ssm, "v1.2.2")
    fire(cloudwatch, ALARMS[0])
    fire(cloudwatch, ALARMS[2])
    assert watch(report) == bake.EXIT_ALARM
    printed = capsys.readouterr().out.splitlines()
    annotations = [line for line in printed if line.startswith("::error::")]
    assert [a.split(": alarm ")[1].split()[0] for a in annotations] == [ALARMS[0], ALARMS[2]]
    assert annotations[0].startswith(f"::error::bake of v1.2.3 in {ENV}: alarm {ALARMS[0]} ")
    assert outputs(github_output) == {
        "result": "alarm",
        "alarms": f"{ALARMS[0]},{ALARMS[2]}",
        "last-clean": "v1.2.2",
    }


def test_in_a_workflow_a_clean_bake_outputs_clean_and_no_annotation(
    cloudwatch: Any, report: Path, github_output: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert watch(report) == 0
    assert "::error::" not in capsys.readouterr().out
    assert outputs(github_output) == {"result": "clean", "alarms": "", "last-clean": ""}


def test_commit_defaults_to_github_sha(
    cloudwatch: Any, ssm: Any, report: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_SHA", "b" * 40)
    assert watch(report) == 0
    assert recorded(ssm)["commit"] == "b" * 40


@pytest.mark.parametrize("command", ["watch", "last-clean"])
def test_no_credentials_is_one_line_without_traceback(
    fake_credentials: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    report: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    time = FakeTime()
    argv = ["last-clean", "--env", ENV] if command == "last-clean" else None
    status = bake.main(argv, clock=time.clock, sleep=time.sleep) if argv else watch(report)
    captured = capsys.readouterr()
    assert status == bake.EXIT_NOT_BAKED
    assert captured.out == ""
    assert captured.err.startswith(f"❌ no AWS credentials for {ENV} (")
    assert captured.err.count("\n") == 1
    assert "Traceback" not in captured.err
    assert time.sleeps == []  # refused before any wait


def test_access_denied_is_one_line(
    fake_credentials: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from botocore.exceptions import ClientError

    def refuse(ssm: Any, env: str) -> None:
        error = {"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}
        raise ClientError(error, "GetParameter")  # type: ignore[arg-type]

    monkeypatch.setattr(bake, "read_record", refuse)
    assert bake.main(["last-clean", "--env", ENV]) == bake.EXIT_NOT_BAKED
    err = capsys.readouterr().err
    assert err.startswith(f"❌ the credentials may not read {PARAMETER} in us-east-1 (")
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["watch", "--env", "qa", "--release", "v1"], "❌ no environment 'qa': expected one of"),
        (["last-clean", "--env", "qa"], "❌ no environment 'qa': expected one of"),
        (["watch", "--env", ENV], "❌ python -m ci.bake watch: the following arguments are"),
        (
            ["watch", "--env", ENV, "--release", "v1", "--minutes", "181"],
            "--minutes: expected a whole number of minutes, 0 to 180, got '181'",
        ),
        (
            ["watch", "--env", ENV, "--release", "v1", "--poll-seconds", "0"],
            "--poll-seconds: expected a whole number of seconds >= 1, got '0'",
        ),
        (["watch", "--env", ENV, "--release", " "], "--release: expected the release deployed"),
        ([], "❌ python -m ci.bake: the following arguments are required: command"),
    ],
    ids=["bad_env", "bad_env_last_clean", "no_release", "minutes", "poll", "blank", "no_command"],
)
def test_bad_arguments_are_one_line_and_exit_2(
    fake_credentials: None, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bake.main(argv) == bake.EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert message in captured.err


def test_refused_record_write_fails_the_clean_bake_with_one_line(
    cloudwatch: Any,
    report: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from botocore.exceptions import ClientError

    def refuse(ssm: Any, env: str, record: dict[str, Any]) -> None:
        error = {"Error": {"Code": "AccessDeniedException", "Message": "no ssm:PutParameter"}}
        raise ClientError(error, "PutParameter")  # type: ignore[arg-type]

    monkeypatch.setattr(bake, "write_record", refuse)
    assert watch(report) == bake.EXIT_NOT_BAKED
    captured = capsys.readouterr()
    assert captured.out.startswith("watching ")
    assert len(captured.out.splitlines()) == 1
    assert captured.err.startswith(f"❌ the credentials may not write {PARAMETER} in us-east-1")
    assert json.loads(report.read_text())["result"] == "error"
