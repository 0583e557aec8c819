"""Heartbeat and refreshConnection logic on the in-memory fakes."""

from __future__ import annotations

import pytest

from session_service.exceptions import Forbidden, InvalidAction, RateLimitExceeded, SessionNotFound
from session_service.models import Caller

from .logic_support import World


@pytest.fixture
def world(base_env: dict[str, str]) -> World:
    return World(base_env)


def test_first_heartbeat_sends_the_welcome_then_the_ack_and_later_ones_the_ack(
    world: World,
) -> None:
    world.create("spk-1")
    world.heartbeat.handle(Caller("spk-1", "user-1", ""))
    world.clock.advance(30)
    world.heartbeat.handle(Caller("spk-1", "user-1", ""))
    assert world.messenger.types("spk-1") == ["sessionCreated", "heartbeatAck", "heartbeatAck"]


def test_heartbeat_sooner_than_the_minimum_interval_is_refused_with_429(world: World) -> None:
    world.create("spk-1")
    world.heartbeat.handle(Caller("spk-1", "user-1", ""))
    world.clock.advance(2)
    with pytest.raises(RateLimitExceeded) as refused:
        world.heartbeat.handle(Caller("spk-1", "user-1", ""))
    assert refused.value.details["retryAfter"] == 4  # 6 s minimum interval at 10 a minute


def test_heartbeat_of_an_unknown_connection_is_refused_with_404(world: World) -> None:
    with pytest.raises(SessionNotFound, match="not part of a live session"):
        world.heartbeat.handle(Caller("nobody", "", ""))


def test_refresh_notice_goes_out_once_after_the_refresh_time(world: World) -> None:
    world.create("spk-1")
    world.heartbeat.handle(Caller("spk-1", "user-1", ""))
    world.clock.advance(100 * 60)
    world.heartbeat.handle(Caller("spk-1", "user-1", ""))
    world.clock.advance(60)
    world.heartbeat.handle(Caller("spk-1", "user-1", ""))
    assert world.messenger.types("spk-1").count("connectionRefreshRequired") == 1


def test_refresh_completes_on_a_connection_opened_to_refresh(world: World) -> None:
    session_id = world.create("spk-1", "user-1")
    params = {"action": "refreshConnection", "sessionId": session_id, "role": "speaker"}
    world.connect.connect(params, Caller("spk-2", "user-1", "192.0.2.1"))
    world.refresh.handle(Caller("spk-2", "user-1", ""))
    assert world.messenger.types("spk-2") == ["connectionRefreshComplete"]


def test_refresh_message_on_a_connection_not_opened_to_refresh_is_invalid(world: World) -> None:
    world.create("spk-1")
    with pytest.raises(InvalidAction, match="only valid on a connection opened with"):
        world.refresh.handle(Caller("spk-1", "user-1", ""))


def test_refresh_message_by_another_user_on_a_speaker_connection_is_forbidden(
    world: World,
) -> None:
    session_id = world.create("spk-1", "user-1")
    params = {"action": "refreshConnection", "sessionId": session_id, "role": "speaker"}
    world.connect.connect(params, Caller("spk-2", "user-1", "192.0.2.1"))
    with pytest.raises(Forbidden):
        world.refresh.handle(Caller("spk-2", "user-2", ""))
