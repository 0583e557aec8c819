"""Rollback triggers (ci.rollback_triggers) on the real staging and dev stacks in moto.

moto keeps no rollback configuration: the local environment's CloudFormation additions
(``local.stack_operations``) save the one an ``UpdateStack`` with the previous template gives,
and answer it in ``DescribeStacks``, as AWS does. What is proved here: ``apply`` saves the
deployment-health composite with the config's monitoring period, and only when it is not saved
yet; it leaves the stack alone while an alarm is in ALARM; ``suspend`` removes the triggers and
``apply`` puts them back; an environment configured with 0 minutes gets none; a stuck stack is
refused by ``apply`` with the recovery, and left to the deploy job by ``suspend``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ci import rollback_triggers
from local import stack_operations
from session_service import specs
from tests.ci.real_stack import DeployedStack

pytestmark = pytest.mark.usefixtures("local_cloudformation")


@pytest.fixture
def local_cloudformation() -> None:
    stack_operations.install()


def run(command: str, env: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = rollback_triggers.main([command, "--env", env], sleep=lambda _: None)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def configuration(stack: DeployedStack) -> dict[str, Any] | None:
    [described] = stack.client("cloudformation").describe_stacks(StackName=stack.stack_name)[
        "Stacks"
    ]
    return described.get("RollbackConfiguration")


def events(stack: DeployedStack) -> int:
    cloudformation = stack.client("cloudformation")
    return len(cloudformation.describe_stack_events(StackName=stack.stack_name)["StackEvents"])


def test_apply_saves_the_deployment_health_trigger_with_the_configured_monitoring(
    aws: Callable[[str], DeployedStack], capsys: pytest.CaptureFixture[str]
) -> None:
    stack = aws("staging")  # deploySafety.rollbackMonitoringMinutes 5
    status, out, _ = run("apply", "staging", capsys)
    assert status == 0
    name = specs.deployment_health_alarm_name("staging")
    saved = configuration(stack)
    assert saved is not None
    [trigger] = saved["RollbackTriggers"]
    assert trigger["Type"] == "AWS::CloudWatch::CompositeAlarm"
    assert trigger["Arn"].endswith(f":alarm:{name}")
    assert saved["MonitoringTimeInMinutes"] == 5
    # The trigger is an alarm the stack made (a missing trigger fails every update), and its
    # rule names every alarm of the service.
    found = stack.client("cloudwatch").describe_alarms(
        AlarmNames=[name], AlarmTypes=["CompositeAlarm"]
    )["CompositeAlarms"]
    assert [a["AlarmArn"] for a in found] == [trigger["Arn"]]
    for alarm in specs.alarm_names("staging").values():
        assert f':alarm:{alarm}")' in found[0]["AlarmRule"]
    assert out.strip() == (
        f"✅ SessionManagement-staging: rollback trigger {name}, 5 minutes' monitoring watch "
        "every later update (were: no rollback triggers)"
    )


def test_apply_again_leaves_the_stack_unchanged(
    aws: Callable[[str], DeployedStack], capsys: pytest.CaptureFixture[str]
) -> None:
    stack = aws("staging")
    assert run("apply", "staging", capsys)[0] == 0
    before = events(stack)
    status, out, _ = run("apply", "staging", capsys)
    assert status == 0
    assert out.startswith("✅ SessionManagement-staging keeps its rollback trigger")
    assert events(stack) == before  # no second update


def test_apply_leaves_the_triggers_unset_while_an_alarm_fires(
    aws: Callable[[str], DeployedStack],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack = aws("staging")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    errors = specs.alarm_names("staging")["connection-errors"]
    stack.client("cloudwatch").set_alarm_state(
        AlarmName=errors, StateValue="ALARM", StateReason="12 refused connections"
    )
    status, out, _ = run("apply", "staging", capsys)
    assert status == 0  # the bake judges the release; this only declines to set them now
    assert configuration(stack) is None
    warning = f"::warning::SessionManagement-staging keeps no rollback triggers: {errors} in ALARM"
    assert warning in out
    assert "the next deployment sets them" in out


def test_suspend_removes_the_triggers_and_apply_restores_them(
    aws: Callable[[str], DeployedStack], capsys: pytest.CaptureFixture[str]
) -> None:
    stack = aws("prod")  # deploySafety.rollbackMonitoringMinutes 10
    assert run("apply", "prod", capsys)[0] == 0
    status, out, _ = run("suspend", "prod", capsys)
    assert status == 0
    assert configuration(stack) == {"RollbackTriggers": [], "MonitoringTimeInMinutes": 0}
    assert "rollback triggers suspended for this rollback" in out
    status, out, _ = run("suspend", "prod", capsys)
    assert status == 0
    assert out.strip() == "SessionManagement-prod has no rollback triggers to suspend"
    assert run("apply", "prod", capsys)[0] == 0
    restored = configuration(stack)
    assert restored is not None
    assert len(restored["RollbackTriggers"]) == 1
    assert restored["MonitoringTimeInMinutes"] == 10


def test_an_environment_with_no_monitoring_gets_no_triggers(
    aws: Callable[[str], DeployedStack], capsys: pytest.CaptureFixture[str]
) -> None:
    stack = aws("dev")  # deploySafety.rollbackMonitoringMinutes 0
    before = events(stack)
    status, out, _ = run("apply", "dev", capsys)
    assert (status, out.strip()) == (
        0,
        "SessionManagement-dev: no rollback triggers (deploySafety.rollbackMonitoringMinutes is 0)",
    )
    assert configuration(stack) is None
    assert events(stack) == before


def test_a_stuck_stack_is_refused_by_apply_and_left_to_the_deploy_job_by_suspend(
    aws: Callable[[str], DeployedStack], capsys: pytest.CaptureFixture[str]
) -> None:
    stack = aws("staging")
    stack_operations.set_stack_status(stack.stack_name, "UPDATE_ROLLBACK_FAILED")
    status, _, err = run("apply", "staging", capsys)
    assert status == 1
    assert err.strip() == "❌ " + (
        "SessionManagement-staging is UPDATE_ROLLBACK_FAILED: its rollback triggers cannot be "
        "set until it is recovered (make stack-recover ENV=staging)"
    )
    assert configuration(stack) is None
    stack_operations.set_stack_status(stack.stack_name, "UPDATE_ROLLBACK_COMPLETE")
    assert run("apply", "staging", capsys)[0] == 0
    stack_operations.set_stack_status(stack.stack_name, "UPDATE_ROLLBACK_FAILED")
    status, out, _ = run("suspend", "staging", capsys)
    assert status == 0  # the rollback goes on: its deploy job recovers, then suspends
    assert out.strip() == (
        "⚠️ SessionManagement-staging is UPDATE_ROLLBACK_FAILED: its rollback triggers are "
        "suspended once the deploy job has recovered it"
    )


def test_an_unknown_environment_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run("apply", "qa", capsys)
    assert status == 2
    assert "qa" in err
