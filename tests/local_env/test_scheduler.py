"""The local scheduler on its own: rates, the event it sends, no overlapping runs, stopping."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest

from local.runtime import InvokeResult
from local.scheduler import ScheduledRule, Scheduler, rate_seconds, scheduled_event

RULE = ScheduledRule(
    name="session-janitor-local-schedule",
    arn="arn:aws:events:us-east-1:123456789012:rule/session-janitor-local-schedule",
    expression="rate(1 minute)",
    period=60,
    function_name="session-janitor-local",
)


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [
        ("rate(1 minute)", 60),
        ("rate(5 minutes)", 300),
        ("rate(2 hours)", 7200),
        ("rate(1 day)", 86400),
        ("cron(0 12 * * ? *)", None),
        ("rate(1 fortnight)", None),
    ],
)
def test_rate_expressions(expression: str, seconds: int | None) -> None:
    assert rate_seconds(expression) == seconds


def test_the_event_is_eventbridge_s_scheduled_event() -> None:
    event = scheduled_event(RULE)
    assert event["version"] == "0"
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["account"] == "123456789012"
    assert event["region"] == "us-east-1"
    assert event["resources"] == [RULE.arn]
    assert event["detail"] == {}
    assert event["time"].endswith("Z")


def test_runs_every_period_never_overlapping_and_stop_joins(
    caplog: pytest.LogCaptureFixture,
) -> None:
    running = threading.Lock()
    overlaps: list[bool] = []
    events: list[dict[str, Any]] = []

    def invoke(event: dict[str, Any]) -> InvokeResult:
        overlaps.append(not running.acquire(blocking=False))
        try:
            events.append(event)
            time.sleep(0.25)  # longer than the period: the next ticks find it running
            return InvokeResult(True, payload={"sessionsEnded": 0})
        finally:
            running.release()

    caplog.set_level(logging.INFO, logger="local.scheduler")
    scheduler = Scheduler([RULE], {RULE.function_name: invoke}, period=0.1).start()
    time.sleep(0.9)
    scheduler.stop()
    threads = [t.name for t in threading.enumerate() if t.name.startswith("schedule-")]
    assert threads == []
    assert events
    assert not any(overlaps)
    assert all(e["detail-type"] == "Scheduled Event" for e in events)
    text = caplog.text
    assert "still going, this one skipped" in text
    assert '{"sessionsEnded": 0}' in text


def test_a_failed_run_is_logged_as_an_error(caplog: pytest.LogCaptureFixture) -> None:
    def invoke(event: dict[str, Any]) -> InvokeResult:
        return InvokeResult(False, error_type="Sandbox.Timedout", error_message="late")

    scheduler = Scheduler([RULE], {RULE.function_name: invoke}, period=0.05).start()
    time.sleep(0.2)
    scheduler.stop()
    assert any(
        r.levelno == logging.ERROR and "Sandbox.Timedout" in r.getMessage() for r in caplog.records
    )


def test_a_rule_without_its_function_is_refused() -> None:
    with pytest.raises(RuntimeError, match="no local function"):
        Scheduler([RULE], {})
