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


def join(store: Any, conn: Connection, capacity: int) -> None:
    """Add a listener to a session whose speaker ``spk-1`` was heard lately."""
    store.add_listener(conn, capacity, NOW, "spk-1", (NOW - 60) * 1000)


def test_a_full_or_missing_session_refuses_a_listener_with_what_it_found(store: Any) -> None:
    store.create_session(session(), speaker())
    join(store, listener("lis-1"), 1)
    with pytest.raises(SessionRefused) as refused:
        join(store, listener("lis-2"), 1)
    assert refused.value.session is not None
    assert refused.value.session.listener_count == 1
    with pytest.raises(ConnectionTaken):
        join(store, listener("lis-1"), 5)
    other = Connection("lis-3", "calm-heron-555", Role.LISTENER, "en", 0, NOW + 60, "es")
    with pytest.raises(SessionRefused) as missing:
        join(store, other, 5)
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
    join(store, listener("lis-1"), 5)
    assert store.remove_listener(listener("lis-1"))
    assert not store.remove_listener(listener("lis-1"))
    join(store, listener("lis-2"), 5)
    assert [c.connection_id for page in store.listener_pages("brave-otter-321") for c in page] == [
        "lis-2"
    ]
    assert store.end_session(speaker(), NOW * 1000) is EndOutcome.ENDED
    assert store.end_session(speaker(), NOW * 1000) is EndOutcome.ALREADY_GONE
    ended = store.get_session("brave-otter-321", NOW)
    assert not ended.is_active
    assert ended.listener_count == 0


def test_a_listener_is_refused_by_a_session_whose_speaker_went_silent(store: Any) -> None:
    store.create_session(session(), speaker())  # the speaker connected at NOW, never heartbeat
    with pytest.raises(SessionRefused) as silent:
        store.add_listener(listener("lis-1"), 5, NOW + 200, "spk-1", NOW * 1000)
    assert silent.value.session is None
    assert store.get_session("brave-otter-321", NOW).listener_count == 0
    assert store.get_connection("lis-1", NOW) is None


def test_a_speaker_heartbeat_after_the_threshold_keeps_the_session_joinable(store: Any) -> None:
    store.create_session(session(), speaker())
    store.record_heartbeat("spk-1", (NOW + 150) * 1000, 6000)
    store.add_listener(listener("lis-1"), 5, NOW + 200, "spk-1", (NOW + 95) * 1000)
    assert store.get_session("brave-otter-321", NOW).listener_count == 1


def test_a_listener_is_refused_when_the_speakers_item_is_gone(store: Any) -> None:
    store.create_session(session(), speaker())
    store.delete_connections(["spk-1"])
    with pytest.raises(SessionRefused) as gone:
        join(store, listener("lis-1"), 5)
    assert gone.value.session is None
