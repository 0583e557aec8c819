"""createSession: the speaker's `$connect`."""

from __future__ import annotations

import json
from typing import Any

from session_service.session_ids import is_blocked

from .conftest import App, error_of


def create_params(**overrides: str) -> dict[str, str]:
    params = {"action": "createSession", "sourceLanguage": "en", "qualityTier": "premium"}
    params.update(overrides)
    return {k: v for k, v in params.items() if v}


def test_create_session_writes_session_and_speaker_connection(app: App) -> None:
    response = app.connect("spk-1", create_params(), user_id="user-1")

    assert response == {"statusCode": 200}
    conn = app.connection("spk-1")
    assert conn is not None
    assert conn["role"] == "speaker"
    session = app.session(conn["sessionId"])
    assert session is not None
    assert session["speakerConnectionId"] == "spk-1"
    assert session["speakerUserId"] == "user-1"
    assert session["sourceLanguage"] == "en"
    assert session["qualityTier"] == "premium"
    assert session["isActive"] is True
    assert session["listenerCount"] == "0"
    assert int(session["expiresAt"]) == int(app.clock()) + 120 * 60
    assert int(conn["ttl"]) == int(app.clock()) + 180 * 60
    assert not is_blocked(conn["sessionId"])
    assert app.active_sessions() == 1


def test_create_session_uses_at_most_three_dynamodb_requests(app: App) -> None:
    app.counter.reset()
    assert app.connect("spk-1", create_params(), user_id="user-1") == {"statusCode": 200}
    assert app.counter.count <= 3, app.counter.operations
    assert app.counter.operations == ["UpdateItem", "UpdateItem", "TransactWriteItems"]


def test_create_session_without_identity_is_refused_with_401(app: App) -> None:
    response = app.connect("spk-1", create_params(), user_id="")
    assert response["statusCode"] == 401
    assert error_of(response)["code"] == "UNAUTHORIZED"
    assert app.connection("spk-1") is None
    assert app.active_sessions() == 0


def test_create_session_with_unsupported_language_is_refused_with_400(app: App) -> None:
    response = app.connect("spk-1", create_params(sourceLanguage="xx"), user_id="user-1")
    assert response["statusCode"] == 400
    error = error_of(response)
    assert error["type"] == "error"
    assert error["code"] == "UNSUPPORTED_LANGUAGE"
    assert "en" in error["details"]["supported"]
    assert app.connection("spk-1") is None


def test_create_session_without_source_language_is_refused_as_invalid_parameters(
    app: App,
) -> None:
    response = app.connect("spk-1", create_params(sourceLanguage=""), user_id="user-1")
    assert response["statusCode"] == 400
    assert error_of(response)["code"] == "INVALID_PARAMETERS"
    assert error_of(response)["details"]["parameter"] == "sourceLanguage"


def test_create_session_with_unknown_quality_tier_is_refused_with_400(app: App) -> None:
    response = app.connect("spk-1", create_params(qualityTier="ultra"), user_id="user-1")
    assert response["statusCode"] == 400
    assert error_of(response)["code"] == "INVALID_PARAMETERS"


def test_unknown_connect_action_is_refused_as_invalid_action(app: App) -> None:
    response = app.connect("c-1", {"action": "dance"}, user_id="user-1")
    assert response["statusCode"] == 400
    assert error_of(response)["code"] == "INVALID_ACTION"


def test_creation_over_the_hourly_user_limit_is_refused_with_429_and_retry_after(
    make_app: Any,
) -> None:
    app = make_app(SESSION_CREATE_LIMIT_PER_HOUR="3")
    for i in range(3):
        assert app.connect(f"spk-{i}", create_params(), user_id="busy") == {"statusCode": 200}
    response = app.connect("spk-3", create_params(), user_id="busy")
    assert response["statusCode"] == 429
    error = error_of(response)
    assert error["code"] == "RATE_LIMIT_EXCEEDED"
    assert 1 <= error["details"]["retryAfter"] <= 3600
    # another user is not affected, and the next hour's window is fresh
    assert app.connect("other", create_params(), user_id="someone-else") == {"statusCode": 200}
    app.clock.advance(3600)
    assert app.connect("spk-4", create_params(), user_id="busy") == {"statusCode": 200}


def test_creation_beyond_max_active_sessions_is_refused_with_503_and_counts_nothing(
    app: App,
) -> None:
    for i in range(10):
        assert app.connect(f"spk-{i}", create_params(), user_id=f"u{i}") == {"statusCode": 200}
    response = app.connect("spk-10", create_params(), user_id="u10")
    assert response["statusCode"] == 503
    assert error_of(response)["code"] == "SESSION_FULL"
    assert app.active_sessions() == 10
    app.disconnect("spk-3")
    assert app.active_sessions() == 9
    assert app.connect("spk-11", create_params(), user_id="u11") == {"statusCode": 200}


def test_session_id_collision_draws_a_new_id(app: App) -> None:
    first = app.create("spk-1")
    ids = iter([first, first, "brave-otter-321"])
    app.services["connection"].new_session_id = lambda: next(ids)

    assert app.connect("spk-2", create_params(), user_id="user-2") == {"statusCode": 200}

    assert app.connection("spk-2")["sessionId"] == "brave-otter-321"
    assert app.session(first)["speakerConnectionId"] == "spk-1"  # untouched
    assert app.active_sessions() == 2


def test_failed_creation_releases_its_active_session_slot(app: App) -> None:
    first = app.create("spk-1")
    app.services["connection"].new_session_id = lambda: first  # every draw collides

    response = app.connect("spk-2", create_params(), user_id="user-2")

    assert response["statusCode"] == 500
    assert error_of(response)["code"] == "INTERNAL_ERROR"
    assert app.active_sessions() == 1
    assert app.connection("spk-2") is None


def test_connect_error_body_is_the_protocol_error_message(app: App) -> None:
    response = app.connect("spk-1", create_params(sourceLanguage="xx"), user_id="user-1")
    body = json.loads(response["body"])
    assert set(body) == {"type", "timestamp", "code", "message", "details"}
    assert "sourceLanguage" in body["message"]


def test_rate_limited_attempt_flagged_by_the_authorizer_is_refused_with_429(app: App) -> None:
    response = app.connect(
        "spk-1", create_params(), user_id="user-1", rateLimited="true", retryAfter="17"
    )
    assert response["statusCode"] == 429
    assert error_of(response)["details"]["retryAfter"] == 17
    assert app.connection("spk-1") is None
