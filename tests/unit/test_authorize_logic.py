"""The authorizer's decision on the in-memory fakes."""

from __future__ import annotations

import pytest

from session_service.exceptions import Unauthorized

from .logic_support import World


@pytest.fixture
def world(base_env: dict[str, str]) -> World:
    return World({**base_env, "CONNECTION_ATTEMPT_LIMIT_PER_MINUTE": "2"})


def test_create_session_without_a_token_is_refused_with_401(world: World) -> None:
    with pytest.raises(Unauthorized) as refused:
        world.authorizer.authorize({"action": "createSession"}, "192.0.2.1")
    assert refused.value.status == 401


def test_a_valid_token_identifies_the_user(world: World) -> None:
    decision = world.authorizer.authorize({"action": "createSession", "token": "good"}, "ip")
    assert decision.user_id == "user-1"


def test_a_bad_optional_token_connects_anonymously(world: World) -> None:
    decision = world.authorizer.authorize({"action": "joinSession", "token": "bad"}, "ip")
    assert decision.user_id == ""
    assert not decision.rate_limited


def test_an_address_over_its_limit_is_flagged_without_verifying_the_token(world: World) -> None:
    params = {"action": "createSession", "token": "good"}
    world.authorizer.authorize(params, "192.0.2.1")
    world.authorizer.authorize(params, "192.0.2.1")
    world.tokens.verified.clear()
    decision = world.authorizer.authorize(params, "192.0.2.1")
    assert decision.rate_limited
    assert decision.retry_after >= 1
    assert world.tokens.verified == []
