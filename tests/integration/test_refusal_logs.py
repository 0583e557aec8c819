"""An expected refusal is one structured log line; an unexpected failure keeps its traceback.

Each test invokes a real handler and reads what it logged: JSON lines from the Powertools
logger, without the EMF metric lines.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from session_service.observability import hash_id, logger

from .conftest import App, Keys


class Logs:
    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]


@pytest.fixture
def logs(app: App) -> Iterator[Logs]:
    """What the handlers log at INFO while the test runs (the app is built at WARNING)."""
    captured = Logs()
    previous = logger.registered_handler.setStream(captured.stream)  # type: ignore[union-attr]
    logger.setLevel("INFO")
    try:
        yield captured
    finally:
        logger.setLevel("WARNING")
        logger.registered_handler.setStream(previous)  # type: ignore[union-attr]


def test_bad_token_is_refused_with_one_structured_line_and_no_token(
    app: App, keys: Keys, logs: Logs
) -> None:
    token = keys.token()[:-4] + "AAAA"
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        app.authorize({"action": "createSession", "sourceLanguage": "en", "token": token})

    (line,) = logs.lines()
    assert line["level"] == "INFO"
    assert line["message"] == "connection refused"
    assert line["code"] == "UNAUTHORIZED"
    assert line["status"] == 401
    assert line["route"] == "authorizer"
    assert line["action"] == "createSession"
    assert line["connection"] == hash_id("pending")
    assert "Traceback" not in logs.text
    assert token[:40] not in logs.text


def test_rate_limited_connect_is_one_line_with_429_and_when_to_retry(app: App, logs: Logs) -> None:
    params = {"action": "createSession", "sourceLanguage": "en"}
    response = app.connect("spk-9", params, user_id="user-1", rateLimited=True, retryAfter=9)
    assert response["statusCode"] == 429

    (line,) = logs.lines()
    assert line["code"] == "RATE_LIMIT_EXCEEDED"
    assert line["status"] == 429
    assert line["details"]["retryAfter"] == 9
    assert line["route"] == "$connect"
    assert line["action"] == "createSession"
    assert line["connection"] == hash_id("spk-9")
    assert "Traceback" not in logs.text


def test_message_without_an_action_is_refused_in_words_on_one_line(app: App, logs: Logs) -> None:
    app.send("$default", "lis-1", '{"sessionId":"brave-otter-321"}')

    (line,) = logs.lines()
    assert line["code"] == "INVALID_ACTION"
    assert line["status"] == 400
    assert line["route"] == "$default"
    assert line["reason"] == (
        "the message has no action; expected one of heartbeat, refreshConnection"
    )
    assert "None" not in logs.text
    error = app.management.messages("lis-1")[-1]
    assert error["message"] == line["reason"]


def test_message_with_an_unknown_action_names_it(app: App, logs: Logs) -> None:
    app.send("$default", "lis-1", '{"action":"ping"}')
    (line,) = logs.lines()
    assert line["reason"].startswith("unknown action 'ping'; expected one of heartbeat")
    assert line["action"] == "ping"


def test_an_unexpected_failure_is_logged_with_its_traceback(app: App, logs: Logs) -> None:
    app.create("spk-1")
    app.dynamodb.delete_table(TableName=app.env["CONNECTIONS_TABLE"])
    logs.stream.truncate(0)
    logs.stream.seek(0)

    response = app.heartbeat("spk-1")

    (line,) = [entry for entry in logs.lines() if entry["level"] == "ERROR"]
    assert line["message"] == "unexpected failure"
    assert "Traceback" in line["exception"]
    assert line["exception_name"] == "StoreError"
    assert response == {"statusCode": 200}  # the caller learns from the error message
    assert app.management.messages("spk-1")[-1]["code"] == "INTERNAL_ERROR"


def test_a_line_carries_no_keys_of_an_earlier_invocation(app: App, logs: Logs) -> None:
    app.authorize({"action": "joinSession"}, ip="198.51.100.77")
    app.heartbeat("nobody")
    refused = [line for line in logs.lines() if line.get("route") == "heartbeat"]
    assert refused
    assert all("client_network" not in line for line in refused)
