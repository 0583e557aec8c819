"""`$connect` logic on the in-memory fakes: what it writes, and every refusal's code and words."""

from __future__ import annotations

from dataclasses import replace

import pytest

from session_service.exceptions import (
    Forbidden,
    InvalidAction,
    RateLimitExceeded,
    SessionFull,
    SessionNotFound,
    Unauthorized,
)
from session_service.models import Caller, Connection, Role

from .logic_support import World


@pytest.fixture
def world(base_env: dict[str, str]) -> World:
    return World({**base_env, "MAX_LISTENERS_PER_SESSION": "2", "MAX_ACTIVE_SESSIONS": "2"})


def test_create_session_writes_the_session_and_its_speaker_and_counts_it(world: World) -> None:
    session_id = world.create("spk-1", "user-1")
    session = world.sessions.sessions[session_id]
    assert session.speaker_connection_id == "spk-1"
    assert session.speaker_user_id == "user-1"
    assert session.is_active
    assert world.sessions.connections["spk-1"].role is Role.SPEAKER
    assert world.limits.active_sessions == 1


def test_create_session_without_a_user_is_refused_with_401(world: World) -> None:
    with pytest.raises(Unauthorized) as refused:
        world.create("spk-1", user_id="")
    assert refused.value.status == 401
    assert world.sessions.sessions == {}


def test_create_session_over_the_active_limit_is_refused_with_503(world: World) -> None:
    world.create("spk-1")
    world.create("spk-2")
    with pytest.raises(SessionFull):
        world.create("spk-3")
    assert world.limits.active_sessions == 2


def test_create_session_draws_another_id_when_one_is_taken(world: World) -> None:
    taken = world.create("spk-1")
    ids = iter([taken, "calm-heron-555"])
    world.connect.new_session_id = lambda: next(ids)
    assert world.create("spk-2") == "calm-heron-555"


def test_second_registration_of_a_connection_is_invalid_and_frees_its_slot(world: World) -> None:
    world.create("spk-1")
    with pytest.raises(InvalidAction, match="already belongs to a session"):
        world.create("spk-1")
    assert world.limits.active_sessions == 1


def test_rate_limited_caller_is_refused_with_429_and_its_retry_after(world: World) -> None:
    caller = Caller("c", "user-1", "192.0.2.1", rate_limited=True, retry_after=17)
    with pytest.raises(RateLimitExceeded) as refused:
        world.connect.connect({"action": "createSession", "sourceLanguage": "en"}, caller)
    assert refused.value.details["retryAfter"] == 17


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({}, "the request has no action; expected one of createSession"),
        ({"action": "ping"}, "action 'ping' is not a $connect action; expected one of"),
    ],
)
def test_connect_with_no_or_an_unknown_action_says_which_in_words(
    world: World, params: dict[str, str], words: str
) -> None:
    with pytest.raises(InvalidAction) as refused:
        world.connect.connect(params, Caller("c", "", "192.0.2.1"))
    assert refused.value.message.startswith(words)
    assert "None" not in refused.value.message


def test_join_adds_a_listener_and_counts_it(world: World) -> None:
    session_id = world.create()
    world.join("lis-1", session_id)
    assert world.sessions.sessions[session_id].listener_count == 1
    assert world.sessions.connections["lis-1"].target_language == "es"


def test_join_of_full_session_is_refused_with_503(world: World) -> None:
    session_id = world.create()
    world.join("lis-1", session_id)
    world.join("lis-2", session_id)
    with pytest.raises(SessionFull) as refused:
        world.join("lis-3", session_id)
    assert refused.value.details == {"maxListeners": 2}


def test_join_of_an_ended_session_is_refused_with_404(world: World) -> None:
    session_id = world.create()
    world.disconnect.disconnect("spk-1")
    with pytest.raises(SessionNotFound, match=f"session {session_id} does not exist"):
        world.join("lis-1", session_id)


def test_join_that_loses_the_last_seat_between_read_and_write_is_refused_with_503(
    world: World,
) -> None:
    session_id = world.create()
    world.join("lis-1", session_id)
    read = world.sessions.get_session
    # The read sees a free seat; by the write, another listener has taken it.
    world.sessions.get_session = lambda sid, now: replace(  # type: ignore[method-assign]
        read(sid, now), listener_count=0
    )
    world.sessions.sessions[session_id] = replace(
        world.sessions.sessions[session_id], listener_count=2
    )
    with pytest.raises(SessionFull):
        world.join("lis-2", session_id)


def test_speaker_refresh_by_another_user_is_refused_with_403(world: World) -> None:
    session_id = world.create("spk-1", "user-1")
    params = {"action": "refreshConnection", "sessionId": session_id, "role": "speaker"}
    with pytest.raises(Forbidden, match="only the speaker who created the session"):
        world.connect.connect(params, Caller("spk-2", "user-2", "192.0.2.1"))


def test_speaker_refresh_moves_the_session_to_the_new_connection(world: World) -> None:
    session_id = world.create("spk-1", "user-1")
    params = {"action": "refreshConnection", "sessionId": session_id, "role": "speaker"}
    world.connect.connect(params, Caller("spk-2", "user-1", "192.0.2.1"))
    assert world.sessions.sessions[session_id].speaker_connection_id == "spk-2"
    new: Connection = world.sessions.connections["spk-2"]
    assert new.is_refresh
    assert new.welcome_sent
