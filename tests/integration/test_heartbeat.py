"""The heartbeat route: welcome, ack, per-connection limit, refresh notices."""

from __future__ import annotations

import pytest

from session_service.handlers import heartbeat

from .conftest import App


def test_first_speaker_heartbeat_delivers_session_created_then_ack(app: App) -> None:
    session_id = app.create("spk-1")
    assert app.heartbeat("spk-1") == {"statusCode": 200}

    created, ack = app.management.messages("spk-1")
    assert created["type"] == "sessionCreated"
    assert created["sessionId"] == session_id
    assert created["connectionId"] == "spk-1"
    assert created["sourceLanguage"] == "en"
    assert created["qualityTier"] == "standard"
    assert created["expiresAt"] == int(app.session(session_id)["expiresAt"])
    assert ack["type"] == "heartbeatAck"
    assert isinstance(ack["timestamp"], int)


def test_first_listener_heartbeat_delivers_session_joined_once(app: App) -> None:
    session_id = app.create("spk-1")
    app.join("lis-1", session_id, "fr")
    app.heartbeat("lis-1")
    app.clock.advance(30)
    app.heartbeat("lis-1")

    assert app.management.types("lis-1") == ["sessionJoined", "heartbeatAck", "heartbeatAck"]
    joined = app.management.messages("lis-1")[0]
    assert joined["targetLanguage"] == "fr"
    assert joined["sourceLanguage"] == "en"
    assert joined["sessionId"] == session_id
    assert joined["connectionId"] == "lis-1"


def test_steady_state_heartbeat_is_one_dynamodb_request(app: App) -> None:
    app.create("spk-1")
    app.heartbeat("spk-1")
    app.clock.advance(30)
    app.counter.reset()
    app.heartbeat("spk-1")
    assert app.counter.operations == ["UpdateItem"]


def test_heartbeat_sooner_than_the_minimum_interval_is_refused_with_retry_after(
    app: App,
) -> None:
    app.create("spk-1")
    app.heartbeat("spk-1")
    app.clock.advance(2)
    assert app.heartbeat("spk-1") == {"statusCode": 200}

    error = app.management.messages("spk-1")[-1]
    assert error["type"] == "error"
    assert error["code"] == "RATE_LIMIT_EXCEEDED"
    assert error["details"]["retryAfter"] == 4  # 60 s / 10 per minute = 6 s apart
    app.clock.advance(4)
    app.heartbeat("spk-1")
    assert app.management.types("spk-1")[-1] == "heartbeatAck"


def test_heartbeat_of_unknown_connection_answers_session_not_found(app: App) -> None:
    app.heartbeat("nobody")
    (error,) = app.management.messages("nobody")
    assert error["code"] == "SESSION_NOT_FOUND"


def test_heartbeat_of_connection_past_its_ttl_answers_session_not_found(app: App) -> None:
    app.create("spk-1")
    app.clock.advance(180 * 60 + 1)
    app.heartbeat("spk-1")
    assert app.management.messages("spk-1")[-1]["code"] == "SESSION_NOT_FOUND"


def test_refresh_and_warning_notices_go_out_once_at_their_minutes(app: App) -> None:
    session_id = app.create("spk-1")
    app.join("lis-1", session_id, "de")
    app.heartbeat("lis-1")
    app.clock.advance(99 * 60)
    app.heartbeat("lis-1")
    assert "connectionRefreshRequired" not in app.management.types("lis-1")

    app.clock.advance(60)  # minute 100
    app.heartbeat("lis-1")
    notice = app.management.messages("lis-1")[-1]
    assert notice["type"] == "connectionRefreshRequired"
    assert notice == {**notice, "sessionId": session_id, "role": "listener", "targetLanguage": "de"}

    app.clock.advance(30)
    app.heartbeat("lis-1")
    assert app.management.types("lis-1")[-1] == "heartbeatAck"

    app.clock.advance(5 * 60)  # minute 105.5
    app.heartbeat("lis-1")
    warning = app.management.messages("lis-1")[-1]
    assert warning["type"] == "connectionWarning"
    assert warning["remainingMinutes"] == 14
    app.clock.advance(30)
    app.heartbeat("lis-1")
    types = app.management.types("lis-1")
    assert types.count("connectionRefreshRequired") == 1
    assert types.count("connectionWarning") == 1


def test_speaker_refresh_notice_carries_no_target_language(app: App) -> None:
    app.create("spk-1")
    app.heartbeat("spk-1")
    app.clock.advance(100 * 60)
    app.heartbeat("spk-1")
    notice = app.management.messages("spk-1")[-1]
    assert notice["type"] == "connectionRefreshRequired"
    assert notice["role"] == "speaker"
    assert "targetLanguage" not in notice


def test_malformed_heartbeat_body_answers_invalid_parameters(app: App) -> None:
    app.create("spk-1")
    app.send("heartbeat", "spk-1", "{not json")
    assert app.management.messages("spk-1")[-1]["code"] == "INVALID_PARAMETERS"


def test_heartbeat_route_with_other_action_answers_invalid_action(app: App) -> None:
    app.create("spk-1")
    app.send("heartbeat", "spk-1", '{"action":"teleport"}')
    assert app.management.messages("spk-1")[-1]["code"] == "INVALID_ACTION"


def test_heartbeat_to_a_gone_connection_is_handled_without_error(app: App) -> None:
    app.create("spk-1")
    app.management.gone.add("spk-1")
    assert app.heartbeat("spk-1") == {"statusCode": 200}
    assert app.management.gone_attempts == ["spk-1"]
    # the item stays for its $disconnect, which does the counted cleanup
    assert app.connection("spk-1") is not None


def default_route_message(app: App, cid: str, body: str) -> dict:
    """A message API Gateway found no route for: it goes to $default (the heartbeat function)."""
    event = {"body": body, "requestContext": {"routeKey": "$default", **app.context(cid)}}
    return heartbeat.handler(event, None, app.services["heartbeat"])


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ('{"action":"teleport"}', "INVALID_ACTION"),
        ('{"action":42}', "INVALID_ACTION"),
        ('{"noAction":true}', "INVALID_ACTION"),
        # never treated as a heartbeat on $default, whatever the body says
        ('{"action":"heartbeat"}', "INVALID_ACTION"),
        ("{not json", "INVALID_PARAMETERS"),
        ("[]", "INVALID_PARAMETERS"),
        ("", "INVALID_PARAMETERS"),
    ],
)
def test_default_route_refuses_the_message_and_writes_nothing(
    app: App, body: str, code: str
) -> None:
    app.create("spk-1")
    before = app.connection("spk-1")
    app.counter.reset()
    assert default_route_message(app, "spk-1", body) == {"statusCode": 200}
    [error] = app.management.messages("spk-1")
    assert error["type"] == "error"
    assert error["code"] == code
    if code == "INVALID_ACTION":
        assert error["details"]["expected"] == ["heartbeat", "refreshConnection"]
    # no DynamoDB request at all: no heartbeat recorded, no welcome consumed
    assert app.counter.operations == []
    assert app.connection("spk-1") == before
    # the first real heartbeat still brings the welcome
    app.heartbeat("spk-1")
    assert app.management.types("spk-1")[1:] == ["sessionCreated", "heartbeatAck"]


def test_fractional_notice_minutes_send_the_notices_after_seconds(make_app) -> None:
    app = make_app(
        CONNECTION_REFRESH_MINUTES="0.05",
        CONNECTION_WARNING_MINUTES="0.1",
        HEARTBEAT_LIMIT_PER_MINUTE="600",
    )
    session_id = app.create("spk-1")
    app.heartbeat("spk-1")
    app.clock.advance(2.9)
    app.heartbeat("spk-1")
    assert app.management.types("spk-1")[-1] == "heartbeatAck"
    app.clock.advance(0.2)  # 3.1 s: past 0.05 minutes
    app.heartbeat("spk-1")
    notice = app.management.messages("spk-1")[-1]
    assert notice["type"] == "connectionRefreshRequired"
    assert notice["sessionId"] == session_id
    app.clock.advance(3)  # 6.1 s: past 0.1 minutes
    app.heartbeat("spk-1")
    warning = app.management.messages("spk-1")[-1]
    assert warning["type"] == "connectionWarning"
    assert warning["remainingMinutes"] == 119  # of API Gateway's 120
    app.clock.advance(3)
    app.heartbeat("spk-1")
    assert app.management.types("spk-1").count("connectionRefreshRequired") == 1
    assert app.management.types("spk-1").count("connectionWarning") == 1
