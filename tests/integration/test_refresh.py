"""Connection refresh: `$connect` with action=refreshConnection, then the route message."""

from __future__ import annotations

from .conftest import App, error_of


def refresh_params(session_id: str, role: str, target: str | None = None) -> dict[str, str]:
    params = {"action": "refreshConnection", "sessionId": session_id, "role": role}
    if target:
        params["targetLanguage"] = target
    return params


def test_speaker_refresh_moves_the_session_and_old_socket_close_ends_nothing(app: App) -> None:
    session_id = app.create("spk-old")
    app.join("lis-1", session_id)
    app.clock.advance(100 * 60)

    response = app.connect("spk-new", refresh_params(session_id, "speaker"), user_id="user-1")
    assert response == {"statusCode": 200}
    session = app.session(session_id)
    assert session["speakerConnectionId"] == "spk-new"
    assert int(session["expiresAt"]) == int(app.clock()) + 120 * 60

    assert app.refresh_message("spk-new", user_id="user-1") == {"statusCode": 200}
    (done,) = app.management.messages("spk-new")
    assert done["type"] == "connectionRefreshComplete"
    assert done["sessionId"] == session_id
    assert done["role"] == "speaker"

    app.disconnect("spk-old")
    session = app.session(session_id)
    assert session["isActive"] is True
    assert app.active_sessions() == 1
    assert app.connection("spk-old") is None
    assert app.management.types("lis-1") == []

    app.disconnect("spk-new")
    assert app.session(session_id)["isActive"] is False
    assert app.active_sessions() == 0


def test_speaker_refresh_by_another_user_is_refused_with_403(app: App) -> None:
    session_id = app.create("spk-1", user_id="owner")
    response = app.connect("spk-x", refresh_params(session_id, "speaker"), user_id="intruder")
    assert response["statusCode"] == 403
    assert error_of(response)["code"] == "FORBIDDEN"
    assert app.session(session_id)["speakerConnectionId"] == "spk-1"


def test_speaker_refresh_without_identity_is_refused_with_401(app: App) -> None:
    session_id = app.create("spk-1")
    response = app.connect("spk-x", refresh_params(session_id, "speaker"), user_id="")
    assert response["statusCode"] == 401


def test_listener_refresh_keeps_count_exact_after_old_socket_closes(app: App) -> None:
    session_id = app.create("spk-1")
    app.join("lis-old", session_id, "es")
    assert app.listener_count(session_id) == 1

    response = app.connect("lis-new", refresh_params(session_id, "listener", "es"))
    assert response == {"statusCode": 200}
    assert app.listener_count(session_id) == 2  # both sockets open

    app.refresh_message("lis-new")
    (done,) = app.management.messages("lis-new")
    assert done["type"] == "connectionRefreshComplete"
    assert done["targetLanguage"] == "es"

    app.disconnect("lis-old")
    app.disconnect("lis-old")
    assert app.listener_count(session_id) == 1
    app.heartbeat("lis-new")
    assert app.management.types("lis-new")[-1] == "heartbeatAck"
    assert "sessionJoined" not in app.management.types("lis-new")


def test_listener_refresh_of_a_full_session_is_admitted(app: App) -> None:
    session_id = app.create("spk-1")
    for i in range(5):
        app.join(f"lis-{i}", session_id, ip=f"203.0.113.{i}")
    response = app.connect("lis-0b", refresh_params(session_id, "listener", "es"))
    assert response == {"statusCode": 200}
    app.disconnect("lis-0")
    assert app.listener_count(session_id) == 5


def test_listener_refresh_without_target_language_is_refused_with_400(app: App) -> None:
    session_id = app.create("spk-1")
    response = app.connect("lis-new", refresh_params(session_id, "listener"))
    assert response["statusCode"] == 400
    assert error_of(response)["details"]["parameter"] == "targetLanguage"


def test_refresh_with_unknown_role_is_refused_with_400(app: App) -> None:
    session_id = app.create("spk-1")
    response = app.connect("x", refresh_params(session_id, "moderator"))
    assert response["statusCode"] == 400
    assert error_of(response)["code"] == "INVALID_PARAMETERS"


def test_refresh_of_ended_session_is_refused_with_404(app: App) -> None:
    session_id = app.create("spk-1")
    app.disconnect("spk-1")
    response = app.connect("lis-new", refresh_params(session_id, "listener", "es"))
    assert response["statusCode"] == 404


def test_refresh_message_on_a_connection_not_opened_for_refresh_is_invalid_action(
    app: App,
) -> None:
    app.create("spk-1")
    app.refresh_message("spk-1", user_id="user-1")
    assert app.management.messages("spk-1")[-1]["code"] == "INVALID_ACTION"


def test_repeated_refresh_message_repeats_the_answer_and_changes_nothing(app: App) -> None:
    session_id = app.create("spk-1")
    app.connect("lis-new", refresh_params(session_id, "listener", "es"))
    app.refresh_message("lis-new")
    app.refresh_message("lis-new")
    assert app.management.types("lis-new") == ["connectionRefreshComplete"] * 2
    assert app.listener_count(session_id) == 1


def test_session_lives_as_long_as_the_speaker_keeps_refreshing(app: App) -> None:
    session_id = app.create("spk-0")
    for n in range(1, 4):
        app.clock.advance(100 * 60)
        params = refresh_params(session_id, "speaker")
        assert app.connect(f"spk-{n}", params, user_id="user-1") == {"statusCode": 200}
        app.disconnect(f"spk-{n - 1}")
    app.clock.advance(100 * 60)  # 400 minutes after creation
    assert app.heartbeat("spk-3")["statusCode"] == 200  # the speaker is still there
    assert app.join("lis-1", session_id) == {"statusCode": 200}
