"""The janitor against moto: lost speakers end their sessions, unfinished ends are finished,
silent listeners go, the active-sessions figure is corrected; races and request counts.

A race is made deterministic by running the other party *between* the janitor's read of the
liveness index and its conditional write (:class:`Between`), which is exactly the window a
real race would hit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from session_service.constants import API_GATEWAY_IDLE_TIMEOUT_SECONDS
from session_service.data.liveness import LivenessStore
from session_service.logic.janitor import SWEEP_AFTER_MS
from session_service.models import Heard, Role

from .conftest import App

STALENESS = 105  # SPEAKER_STALENESS_SECONDS of the test environment


def ended_reasons(app: App, cid: str) -> list[str]:
    return [m["reason"] for m in app.management.messages(cid) if m["type"] == "sessionEnded"]


def session_with_listeners(app: App, listeners: int = 3) -> str:
    session_id = app.create("spk-1")
    for i in range(listeners):
        assert app.join(f"lis-{i}", session_id, ip=f"192.0.2.{i + 1}") == {"statusCode": 200}
    return session_id


def keep_alive(app: App, *cids: str, seconds: float, step: float = 30) -> None:
    """Move the clock by ``seconds``, heartbeating ``cids`` every ``step`` as clients do."""
    moved = 0.0
    while moved < seconds:
        app.clock.advance(min(step, seconds - moved))
        moved += min(step, seconds - moved)
        for cid in cids:
            assert app.heartbeat(cid) == {"statusCode": 200}


def stored(app: App, session_id: str) -> dict[str, Any]:
    session = app.session(session_id)
    assert session is not None
    return session


# --- lost speakers -------------------------------------------------------------------------
def test_a_silent_speaker_s_session_ends_with_speaker_timeout_to_every_listener(app: App) -> None:
    session_id = session_with_listeners(app, 3)
    keep_alive(app, "lis-0", "lis-1", "lis-2", seconds=STALENESS + 1)

    result = app.janitor()

    assert result["sessionsEnded"] == 1
    session = stored(app, session_id)
    assert session["isActive"] is False
    assert int(session["listenerCount"]) == 0
    assert "sweep" not in session  # its end is finished: nothing left for the sweep
    for i in range(3):
        assert ended_reasons(app, f"lis-{i}") == ["speakerTimeout"]
        assert app.connection(f"lis-{i}") is None
    assert app.connection("spk-1") is None
    assert app.active_sessions() == 0
    assert app.management.closed == ["spk-1"]  # a socket still open is closed


def test_a_speaker_who_heartbeats_keeps_the_session_through_janitor_runs(app: App) -> None:
    session_id = session_with_listeners(app, 2)
    for _ in range(6):  # six runs, a minute apart, the speaker heartbeating every 30 s
        keep_alive(app, "spk-1", "lis-0", "lis-1", seconds=60)
        assert app.janitor()["sessionsEnded"] == 0
    assert stored(app, session_id)["isActive"] is True
    assert app.listener_count(session_id) == 2
    assert app.active_sessions() == 1
    assert app.management.closed == []


def test_a_speaker_within_the_staleness_keeps_the_session(app: App) -> None:
    session_id = app.create("spk-1")
    app.clock.advance(STALENESS - 1)
    assert app.janitor()["sessionsEnded"] == 0
    assert stored(app, session_id)["isActive"] is True


def test_the_staleness_comes_from_configuration(make_app: Any) -> None:
    app = make_app(SPEAKER_STALENESS_SECONDS="40")
    session_id = app.create("spk-1")
    app.clock.advance(41)
    assert app.janitor()["sessionsEnded"] == 1
    assert stored(app, session_id)["isActive"] is False


# --- unfinished ends -----------------------------------------------------------------------
def end_without_fan_out(app: App, speaker: str) -> None:
    """What a `$disconnect` killed right after its transaction leaves: the session ended,
    its listeners untold and still stored."""
    service = app.services["disconnect"]
    conn = service.sessions.get_connection(speaker, int(app.clock()))
    service.sessions.end_session(conn, int(app.clock() * 1000))


def test_an_end_whose_fan_out_died_is_finished_after_the_disconnect_could_have(
    app: App,
) -> None:
    session_id = session_with_listeners(app, 3)
    end_without_fan_out(app, "spk-1")
    assert stored(app, session_id)["sweep"] == "pending"

    app.clock.advance(SWEEP_AFTER_MS / 1000 - 5)  # the `$disconnect` might still be running
    app.janitor()
    assert app.connection("lis-0") is not None

    keep_alive(app, "lis-0", "lis-1", "lis-2", seconds=10)
    result = app.janitor()

    assert result["endsFinished"] == 1
    for i in range(3):
        assert ended_reasons(app, f"lis-{i}") == ["speakerDisconnected"]  # the end's own reason
        assert app.connection(f"lis-{i}") is None
    session = stored(app, session_id)
    assert "sweep" not in session
    assert int(session["listenerCount"]) == 0
    assert app.active_sessions() == 0


def test_a_finished_end_is_unmarked_once_and_told_nothing_twice(app: App) -> None:
    session_id = session_with_listeners(app, 2)
    assert app.disconnect("spk-1") == {"statusCode": 200}  # a `$disconnect` that finished
    app.clock.advance(SWEEP_AFTER_MS / 1000 + 1)
    app.management.clear()

    app.janitor()
    app.janitor()

    assert "sweep" not in stored(app, session_id)
    assert app.management.posts == []


# --- silent listeners ----------------------------------------------------------------------
def test_a_listener_silent_past_the_idle_limit_is_removed_and_uncounted(app: App) -> None:
    session_id = session_with_listeners(app, 3)
    # lis-0 lost its `$disconnect`; the speaker and the others heartbeat
    keep_alive(app, "spk-1", "lis-1", "lis-2", seconds=API_GATEWAY_IDLE_TIMEOUT_SECONDS + 1)

    result = app.janitor()

    assert result["connectionsRemoved"] == 1
    assert app.connection("lis-0") is None
    assert app.connection("lis-1") is not None
    assert app.listener_count(session_id) == 2
    assert stored(app, session_id)["isActive"] is True


# --- the active-sessions figure ------------------------------------------------------------
def set_counter(app: App, value: int) -> None:
    app.dynamodb.update_item(
        TableName=app.env["RATE_LIMITS_TABLE"],
        Key={"identifier": {"S": "activeSessions:service:all"}},
        UpdateExpression="SET #c = :v",
        ExpressionAttributeNames={"#c": "count"},
        ExpressionAttributeValues={":v": {"N": str(value)}},
    )


def test_a_drifted_figure_is_corrected_when_two_runs_agree(app: App) -> None:
    app.create("spk-1")
    app.create("spk-2", user_id="user-2")
    set_counter(app, 7)  # drifted, e.g. by lost `$disconnect`s before the janitor existed

    first = app.janitor()
    assert app.active_sessions() == 7
    assert first["countsCorrected"] == 0

    second = app.janitor()
    assert app.active_sessions() == 2
    assert second["countsCorrected"] == 1
    assert second["activeSessions"] == 2


def test_a_drift_seen_once_is_not_corrected(app: App) -> None:
    app.create("spk-1")
    set_counter(app, 3)
    app.janitor()  # sees +2
    set_counter(app, 1)  # the figure is right again by the next run
    app.janitor()
    app.janitor()
    assert app.active_sessions() == 1


# --- cost ----------------------------------------------------------------------------------
def test_a_run_with_nothing_to_do_costs_ten_requests_whatever_the_number_of_listeners(
    make_app: Any,
) -> None:
    app = make_app(MAX_LISTENERS_PER_SESSION="100", LISTENER_JOIN_LIMIT_PER_MINUTE="100")
    session_id = app.create("spk-1")
    for i in range(30):
        assert app.join(f"lis-{i}", session_id) == {"statusCode": 200}
    app.janitor()  # the first run may record a drift observation
    app.counter.reset()

    app.janitor()

    # one Query per liveness shard of each role, one on the sweep index, the counter
    assert sorted(app.counter.operations) == ["GetItem"] + ["Query"] * 9, app.counter.operations


def test_ending_a_lost_session_costs_what_its_disconnect_would_plus_its_unmarking(
    app: App,
) -> None:
    session_with_listeners(app, 3)
    keep_alive(app, "lis-0", "lis-1", "lis-2", seconds=STALENESS + 1)
    app.counter.reset()
    app.janitor()
    operations = app.counter.operations
    # 10 for the run, 1 transaction ending it, 1 GSI query + 1 batch for its listeners, the
    # sweep mark removed
    assert len(operations) == 14, operations
    assert operations.count("TransactWriteItems") == 1
    assert operations.count("BatchWriteItem") == 1


def test_a_run_that_is_out_of_time_starts_nothing_and_the_next_run_resumes(app: App) -> None:
    class NoTime:
        @staticmethod
        def get_remaining_time_in_millis() -> int:
            return 1_000

    session_id = app.create("spk-1")
    app.clock.advance(STALENESS + 1)
    assert app.janitor(NoTime())["complete"] is False
    assert stored(app, session_id)["isActive"] is True

    assert app.janitor()["sessionsEnded"] == 1
    assert stored(app, session_id)["isActive"] is False


# --- races ---------------------------------------------------------------------------------
class Between:
    """A LivenessStore that runs ``action`` once, after a page of speakers is read and before
    the janitor acts on it."""

    def __init__(self, store: LivenessStore, action: Callable[[], Any]) -> None:
        self._store = store
        self._action: Callable[[], Any] | None = action

    def heard(self, role: Role, shard: int, before_ms: int | None = None) -> Iterator[list[Heard]]:
        for page in self._store.heard(role, shard, before_ms):
            if page and role is Role.SPEAKER and self._action is not None:
                action, self._action = self._action, None
                action()
            yield page

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def race(app: App, action: Callable[[], Any]) -> dict[str, Any]:
    service = app.services["janitor"]
    original = service.liveness
    service.liveness = Between(original, action)
    try:
        return app.janitor()
    finally:
        service.liveness = original


def test_race_a_speaker_who_comes_back_in_time_keeps_the_session(app: App) -> None:
    session_id = session_with_listeners(app, 2)
    app.clock.advance(STALENESS + 1)

    result = race(app, lambda: app.heartbeat("spk-1"))

    assert result["sessionsEnded"] == 0
    assert stored(app, session_id)["isActive"] is True
    assert app.connection("spk-1") is not None
    assert app.listener_count(session_id) == 2
    assert ended_reasons(app, "lis-0") == []


def test_race_a_refresh_moves_the_session_and_the_janitor_removes_only_the_old_item(
    app: App,
) -> None:
    session_id = session_with_listeners(app, 1)
    app.clock.advance(STALENESS + 1)

    def refresh() -> None:
        params = {"action": "refreshConnection", "sessionId": session_id, "role": "speaker"}
        assert app.connect("spk-2", params, user_id="user-1") == {"statusCode": 200}

    result = race(app, refresh)

    assert result["sessionsEnded"] == 0
    session = stored(app, session_id)
    assert session["isActive"] is True
    assert session["speakerConnectionId"] == "spk-2"
    assert app.connection("spk-1") is None
    assert app.connection("spk-2") is not None
    assert ended_reasons(app, "lis-0") == []
    assert app.active_sessions() == 1


def test_race_a_normal_disconnect_ends_the_session_once(app: App) -> None:
    session_id = session_with_listeners(app, 2)
    keep_alive(app, "lis-0", "lis-1", seconds=STALENESS + 1)

    result = race(app, lambda: app.disconnect("spk-1"))

    assert result["sessionsEnded"] == 0
    assert stored(app, session_id)["isActive"] is False
    for i in range(2):
        assert ended_reasons(app, f"lis-{i}") == ["speakerDisconnected"]
    assert app.active_sessions() == 0


def test_race_two_janitor_runs_at_once_end_the_session_once(app: App) -> None:
    session_id = session_with_listeners(app, 2)
    keep_alive(app, "lis-0", "lis-1", seconds=STALENESS + 1)
    other: dict[str, Any] = {}

    first = race(app, lambda: other.update(app.janitor()))

    assert first["sessionsEnded"] + other["sessionsEnded"] == 1
    assert stored(app, session_id)["isActive"] is False
    for i in range(2):
        assert ended_reasons(app, f"lis-{i}") == ["speakerTimeout"]
    assert app.active_sessions() == 0


@pytest.mark.parametrize("listener_first", [True, False])
def test_race_a_listener_heartbeat_in_time_keeps_it(app: App, listener_first: bool) -> None:
    session_id = session_with_listeners(app, 1)
    keep_alive(app, "spk-1", seconds=API_GATEWAY_IDLE_TIMEOUT_SECONDS + 1)
    if listener_first:
        app.heartbeat("lis-0")
    app.janitor()
    assert (app.connection("lis-0") is not None) is listener_first
    assert app.listener_count(session_id) == (1 if listener_first else 0)


def test_a_refreshed_speaker_s_lost_old_item_does_not_count_an_ended_session_active(
    app: App,
) -> None:
    """Found by the janitor's property test: the old speaker item of a refresh whose
    `$disconnect` was lost is still recently heard; once the session ends (its new speaker
    leaves), two runs within the staleness must not count that item as an active session."""
    session_id = app.create("spk-1")
    params = {"action": "refreshConnection", "sessionId": session_id, "role": "speaker"}
    assert app.connect("spk-2", params, user_id="user-1") == {"statusCode": 200}
    # spk-1's `$disconnect` is lost; spk-2 leaves normally and ends the session
    assert app.disconnect("spk-2") == {"statusCode": 200}
    assert app.active_sessions() == 0

    app.janitor()
    app.janitor()

    assert stored(app, session_id)["isActive"] is False
    assert app.active_sessions() == 0
