"""The in-memory fake of the unit tests keeps the contract of the real store (moto).

Each scenario runs on both, so a logic test on the fake means what it would on DynamoDB.
"""

from __future__ import annotations

from typing import Any

import pytest

from session_service.data.errors import ConnectionTaken, SessionRefused
from session_service.data.sessions import SessionStore
from session_service.models import Connection, EndOutcome, Role, Session
from tests.unit.fakes import InMemorySessions

from .conftest import ENV

NOW = 1_800_000_000


@pytest.fixture(params=["memory", "dynamodb"])
def store(request: pytest.FixtureRequest) -> Any:
    if request.param == "memory":
        return InMemorySessions()
    client = request.getfixturevalue("aws")
    return SessionStore(client, f"Sessions-{ENV}", f"Connections-{ENV}", f"RateLimits-{ENV}")


def session(session_id: str = "brave-otter-321", listeners: int = 0) -> Session:
    return Session(
        session_id, "spk-1", "user-1", "en", "standard", NOW * 1000, True, listeners, NOW + 3600
    )


def speaker(cid: str = "spk-1", user_id: str = "user-1") -> Connection:
    return Connection(
        cid, "brave-otter-321", Role.SPEAKER, "en", NOW * 1000, NOW + 7200, user_id=user_id
    )


def listener(cid: str) -> Connection:
    return Connection(cid, "brave-otter-321", Role.LISTENER, "en", NOW * 1000, NOW + 7200, "es")


def test_a_taken_session_id_is_false_and_a_taken_connection_refused(store: Any) -> None:
    assert store.create_session(session(), speaker())
    assert not store.create_session(session(), speaker("spk-2"))
    with pytest.raises(ConnectionTaken):
        store.create_session(session("calm-heron-555"), speaker())


def test_a_full_or_missing_session_refuses_a_listener_with_what_it_found(store: Any) -> None:
    store.create_session(session(), speaker())
    store.add_listener(listener("lis-1"), 1, NOW)
    with pytest.raises(SessionRefused) as refused:
        store.add_listener(listener("lis-2"), 1, NOW)
    assert refused.value.session is not None
    assert refused.value.session.listener_count == 1
    with pytest.raises(ConnectionTaken):
        store.add_listener(listener("lis-1"), 5, NOW)
    other = Connection("lis-3", "calm-heron-555", Role.LISTENER, "en", 0, NOW + 60, "es")
    with pytest.raises(SessionRefused) as missing:
        store.add_listener(other, 5, NOW)
    assert missing.value.session is None


def test_another_users_speaker_move_is_refused(store: Any) -> None:
    store.create_session(session(), speaker())
    with pytest.raises(SessionRefused) as refused:
        store.move_speaker(speaker("spk-2", "user-2"), NOW + 7200, NOW)
    assert refused.value.session is not None
    assert refused.value.session.speaker_user_id == "user-1"
    store.move_speaker(speaker("spk-3"), NOW + 7200, NOW)
    assert store.get_session("brave-otter-321", NOW).speaker_connection_id == "spk-3"


def test_heartbeats_closer_than_the_interval_are_refused_with_the_time_left(store: Any) -> None:
    store.create_session(session(), speaker())
    first = store.record_heartbeat("spk-1", NOW * 1000, 6000)
    assert first.previous is not None
    assert first.retry_after_ms == 0
    soon = store.record_heartbeat("spk-1", NOW * 1000 + 2000, 6000)
    assert soon.retry_after_ms == 4000
    assert store.record_heartbeat("nobody", NOW * 1000, 6000).previous is None
    assert store.mark_once("spk-1", "refreshNotified")
    assert not store.mark_once("spk-1", "refreshNotified")


def test_departures_change_things_once(store: Any) -> None:
    store.create_session(session(), speaker())
    store.add_listener(listener("lis-1"), 5, NOW)
    assert store.remove_listener(listener("lis-1"))
    assert not store.remove_listener(listener("lis-1"))
    store.add_listener(listener("lis-2"), 5, NOW)
    assert [c.connection_id for page in store.listener_pages("brave-otter-321") for c in page] == [
        "lis-2"
    ]
    assert store.end_session(speaker(), NOW * 1000) is EndOutcome.ENDED
    assert store.end_session(speaker(), NOW * 1000) is EndOutcome.ALREADY_GONE
    assert not store.get_session("brave-otter-321", NOW).is_active
