"""joinSession: a listener's `$connect`."""

from __future__ import annotations

from typing import Any

from session_service.constants import SPEAKER_STALENESS_SECONDS

from .conftest import App, error_of


def test_join_adds_the_listener_and_counts_it(app: App) -> None:
    session_id = app.create()
    response = app.join("lis-1", session_id, "es")

    assert response == {"statusCode": 200}
    conn = app.connection("lis-1")
    assert conn["role"] == "listener"
    assert conn["targetLanguage"] == "es"
    assert conn["sessionId"] == session_id
    assert conn["sourceLanguage"] == "en"
    assert app.listener_count(session_id) == 1


def test_join_uses_at_most_three_dynamodb_requests(app: App) -> None:
    session_id = app.create()
    app.counter.reset()
    assert app.join("lis-1", session_id) == {"statusCode": 200}
    assert app.counter.count <= 3, app.counter.operations


def test_join_of_unknown_session_is_refused_with_404(app: App) -> None:
    response = app.join("lis-1", "brave-otter-123")
    assert response["statusCode"] == 404
    assert error_of(response)["code"] == "SESSION_NOT_FOUND"
    assert app.connection("lis-1") is None


def test_join_of_malformed_session_id_is_refused_with_400(app: App) -> None:
    response = app.join("lis-1", "DROP TABLE;")
    assert response["statusCode"] == 400
    assert error_of(response)["code"] == "INVALID_SESSION_ID"


def test_join_with_unsupported_target_language_is_refused_with_400(app: App) -> None:
    session_id = app.create()
    response = app.join("lis-1", session_id, "tlh")
    assert response["statusCode"] == 400
    assert error_of(response)["code"] == "UNSUPPORTED_LANGUAGE"
    assert app.listener_count(session_id) == 0


def test_join_of_full_session_is_refused_with_503(app: App) -> None:
    session_id = app.create()
    for i in range(5):
        assert app.join(f"lis-{i}", session_id, ip=f"203.0.113.{i}") == {"statusCode": 200}
    response = app.join("lis-5", session_id, ip="203.0.113.99")
    assert response["statusCode"] == 503
    assert error_of(response)["code"] == "SESSION_FULL"
    assert app.listener_count(session_id) == 5
    assert app.connection("lis-5") is None


def test_join_of_ended_session_is_refused_with_404(app: App) -> None:
    session_id = app.create()
    app.disconnect("speaker-1")
    response = app.join("lis-1", session_id)
    assert response["statusCode"] == 404
    assert error_of(response)["code"] == "SESSION_NOT_FOUND"


def test_join_of_session_past_its_expiry_is_refused_with_404(app: App) -> None:
    session_id = app.create()
    app.clock.advance(120 * 60 + 1)  # DynamoDB has not deleted the item yet
    assert app.session(session_id) is not None
    response = app.join("lis-1", session_id)
    assert response["statusCode"] == 404
    assert app.listener_count(session_id) == 0


def test_eleventh_join_from_one_address_in_a_minute_is_refused_with_429(make_app: Any) -> None:
    app = make_app(MAX_LISTENERS_PER_SESSION="50")
    session_id = app.create()
    for i in range(10):
        assert app.join(f"lis-{i}", session_id, ip="192.0.2.1") == {"statusCode": 200}
    response = app.join("lis-10", session_id, ip="192.0.2.1")
    assert response["statusCode"] == 429
    assert error_of(response)["code"] == "RATE_LIMIT_EXCEEDED"
    assert 1 <= error_of(response)["details"]["retryAfter"] <= 60
    assert app.join("lis-11", session_id, ip="192.0.2.2") == {"statusCode": 200}
    app.clock.advance(60)
    assert app.join("lis-12", session_id, ip="192.0.2.1") == {"statusCode": 200}
    assert app.listener_count(session_id) == 12


def test_anonymous_listener_needs_no_identity(app: App) -> None:
    session_id = app.create()
    assert app.join("lis-1", session_id, user_id="") == {"statusCode": 200}


def test_join_of_a_session_whose_speaker_went_silent_is_refused_with_404(app: App) -> None:
    session_id = app.create()  # its speaker's socket is lost: no heartbeat, no $disconnect
    app.clock.advance(SPEAKER_STALENESS_SECONDS + 1)
    app.counter.reset()
    response = app.join("lis-1", session_id)
    assert app.counter.count <= 3, app.counter.operations
    assert response["statusCode"] == 404
    assert error_of(response)["code"] == "SESSION_NOT_FOUND"
    assert app.connection("lis-1") is None
    assert app.listener_count(session_id) == 0


def test_join_of_a_session_whose_speaker_heartbeats_is_admitted_past_the_staleness(
    app: App,
) -> None:
    session_id = app.create()
    for _ in range(4):
        app.clock.advance(SPEAKER_STALENESS_SECONDS / 2)
        assert app.heartbeat("speaker-1")["statusCode"] == 200
    assert app.join("lis-1", session_id) == {"statusCode": 200}
    assert app.listener_count(session_id) == 1


def test_listener_count_is_zero_once_the_session_has_ended(app: App) -> None:
    session_id = app.create()
    for i in range(2):
        assert app.join(f"lis-{i}", session_id, ip=f"203.0.113.{i}") == {"statusCode": 200}
    assert app.disconnect("speaker-1")["statusCode"] == 200
    assert app.listener_count(session_id) == 0
    assert app.disconnect("lis-0")["statusCode"] == 200
    assert app.listener_count(session_id) == 0
