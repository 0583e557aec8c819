"""`$disconnect` logic on the in-memory fakes: a listener leaves, a speaker ends the session."""

from __future__ import annotations

import pytest

from session_service.models import Caller

from .logic_support import World


@pytest.fixture
def world(base_env: dict[str, str]) -> World:
    return World(base_env)


def test_a_listener_leaving_is_uncounted(world: World) -> None:
    session_id = world.create()
    world.join("lis-1", session_id)
    world.disconnect.disconnect("lis-1")
    assert world.sessions.sessions[session_id].listener_count == 0
    assert "lis-1" not in world.sessions.connections


def test_the_speaker_leaving_ends_the_session_and_tells_every_listener(world: World) -> None:
    session_id = world.create()
    world.join("lis-1", session_id, ip="192.0.2.10")
    world.join("lis-2", session_id, ip="192.0.2.11")
    world.messenger.gone.add("lis-2")
    world.disconnect.disconnect("spk-1")

    assert not world.sessions.sessions[session_id].is_active
    assert world.limits.active_sessions == 0
    ((cid, ended),) = world.messenger.sent
    assert cid == "lis-1"
    assert ended["type"] == "sessionEnded"
    assert ended["reason"] == "speakerDisconnected"
    assert world.sessions.connections == {}


def test_the_old_speaker_connection_after_a_refresh_ends_nothing(world: World) -> None:
    session_id = world.create("spk-1", "user-1")
    params = {"action": "refreshConnection", "sessionId": session_id, "role": "speaker"}
    world.connect.connect(params, Caller("spk-2", "user-1", "192.0.2.1"))
    world.disconnect.disconnect("spk-1")
    assert world.sessions.sessions[session_id].is_active
    assert world.messenger.sent == []


def test_a_duplicate_disconnect_changes_nothing(world: World) -> None:
    session_id = world.create()
    world.join("lis-1", session_id)
    world.disconnect.disconnect("lis-1")
    world.disconnect.disconnect("lis-1")
    assert world.sessions.sessions[session_id].listener_count == 0
