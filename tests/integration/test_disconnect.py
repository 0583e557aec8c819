"""`$disconnect`: listener cleanup and the end of a session."""

from __future__ import annotations

import math

import pytest

from .conftest import App


def test_listener_disconnect_removes_item_and_uncounts_it_in_two_requests(app: App) -> None:
    session_id = app.create()
    app.join("lis-1", session_id)
    app.join("lis-2", session_id, ip="192.0.2.9")
    app.counter.reset()

    assert app.disconnect("lis-1") == {"statusCode": 200}

    assert app.counter.count <= 2, app.counter.operations
    assert app.connection("lis-1") is None
    assert app.listener_count(session_id) == 1
    assert app.session(session_id)["isActive"] is True


def test_duplicate_listener_disconnect_changes_nothing_twice(app: App) -> None:
    session_id = app.create()
    app.join("lis-1", session_id)
    app.join("lis-2", session_id, ip="192.0.2.9")
    app.disconnect("lis-1")
    app.disconnect("lis-1")
    assert app.listener_count(session_id) == 1


def test_listener_count_never_goes_below_zero(app: App) -> None:
    session_id = app.create()
    app.join("lis-1", session_id)
    app.dynamodb.update_item(  # a drifted count, e.g. after a manual repair
        TableName=app.env["SESSIONS_TABLE"],
        Key={"sessionId": {"S": session_id}},
        UpdateExpression="SET listenerCount = :zero",
        ExpressionAttributeValues={":zero": {"N": "0"}},
    )
    app.disconnect("lis-1")
    assert app.listener_count(session_id) == 0
    assert app.connection("lis-1") is None


@pytest.mark.parametrize("listeners", [0, 3, 26])
def test_speaker_disconnect_ends_session_notifies_and_removes_every_listener(
    make_app, listeners: int
) -> None:
    app = make_app(MAX_LISTENERS_PER_SESSION="100", LISTENER_JOIN_LIMIT_PER_MINUTE="100")
    session_id = app.create("spk-1")
    for i in range(listeners):
        assert app.join(f"lis-{i}", session_id) == {"statusCode": 200}
    app.counter.reset()

    assert app.disconnect("spk-1") == {"statusCode": 200}

    assert app.counter.count <= 3 + math.ceil(listeners / 25), app.counter.operations
    session = app.session(session_id)
    assert session["isActive"] is False
    assert app.active_sessions() == 0
    assert app.connection("spk-1") is None
    for i in range(listeners):
        assert app.connection(f"lis-{i}") is None
        (ended,) = app.management.messages(f"lis-{i}")
        assert ended["type"] == "sessionEnded"
        assert ended["sessionId"] == session_id
        assert ended["reason"]


def test_speaker_disconnect_skips_gone_listeners_and_deletes_them(app: App) -> None:
    session_id = app.create("spk-1")
    for i in range(4):
        app.join(f"lis-{i}", session_id)
    app.management.gone.update({"lis-1", "lis-3"})

    assert app.disconnect("spk-1") == {"statusCode": 200}

    assert sorted(app.management.gone_attempts) == ["lis-1", "lis-3"]
    assert app.management.types("lis-0") == ["sessionEnded"]
    assert app.management.types("lis-2") == ["sessionEnded"]
    for i in range(4):
        assert app.connection(f"lis-{i}") is None


def test_duplicate_speaker_disconnect_ends_once_and_counts_once(app: App) -> None:
    session_id = app.create("spk-1")
    app.create("spk-2", user_id="user-2")
    app.join("lis-1", session_id)
    app.disconnect("spk-1")
    app.disconnect("spk-1")
    assert app.active_sessions() == 1
    assert app.management.types("lis-1") == ["sessionEnded"]


def test_listener_disconnect_after_session_ended_changes_nothing(app: App) -> None:
    session_id = app.create("spk-1")
    app.join("lis-1", session_id)
    app.disconnect("spk-1")
    before = app.session(session_id)
    assert app.disconnect("lis-1") == {"statusCode": 200}
    assert app.session(session_id) == before


def test_disconnect_of_unknown_connection_is_a_no_op(app: App) -> None:
    app.counter.reset()
    assert app.disconnect("never-seen") == {"statusCode": 200}
    assert app.counter.operations == ["GetItem"]
