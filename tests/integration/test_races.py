"""Concurrent events against moto leave counts exact.

The handlers run in threads against moto. moto itself checks a condition and applies the write
without a lock, which DynamoDB never does; the fixtures' ``AtomicRequests`` makes each request
atomic (as DynamoDB does) and leaves the requests of concurrent handlers free to interleave.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from .conftest import App


def run_together(*calls: Callable[[], Any]) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_two_listeners_for_the_last_seat_exactly_one_gets_it(app: App) -> None:
    session_id = app.create()
    for i in range(4):
        app.join(f"lis-{i}", session_id, ip=f"203.0.113.{i}")
    for attempt in range(5):
        a, b = f"a-{attempt}", f"b-{attempt}"
        results = run_together(
            lambda a=a: app.join(a, session_id, ip="192.0.2.1"),
            lambda b=b: app.join(b, session_id, ip="192.0.2.2"),
        )
        statuses = sorted(r["statusCode"] for r in results)
        assert statuses == [200, 503]
        assert app.listener_count(session_id) == 5
        seated = a if app.connection(a) else b
        app.disconnect(seated)
        assert app.listener_count(session_id) == 4


def test_double_disconnect_in_parallel_uncounts_once(app: App) -> None:
    session_id = app.create()
    for i in range(3):
        app.join(f"lis-{i}", session_id)
    run_together(*(lambda: app.disconnect("lis-0") for _ in range(4)))
    assert app.listener_count(session_id) == 2
    assert app.connection("lis-0") is None


def test_double_speaker_disconnect_in_parallel_ends_once(app: App) -> None:
    session_id = app.create("spk-1")
    app.create("spk-2", user_id="user-2")
    app.join("lis-1", session_id)
    run_together(*(lambda: app.disconnect("spk-1") for _ in range(3)))
    assert app.active_sessions() == 1
    assert app.session(session_id)["isActive"] is False
    assert app.management.types("lis-1") == ["sessionEnded"]


def test_old_speaker_socket_closing_while_refresh_connects_leaves_one_consistent_outcome(
    app: App,
) -> None:
    session_id = app.create("spk-old")
    params = {"action": "refreshConnection", "sessionId": session_id, "role": "speaker"}
    refreshed, _ = run_together(
        lambda: app.connect("spk-new", params, user_id="user-1"),
        lambda: app.disconnect("spk-old"),
    )
    session = app.session(session_id)
    if refreshed["statusCode"] == 200:
        # the refresh won: the session lives on the new socket
        assert session["isActive"] is True
        assert session["speakerConnectionId"] == "spk-new"
        assert app.active_sessions() == 1
    else:
        # the close won: the session ended and the refresh found it gone
        assert refreshed["statusCode"] == 404
        assert session["isActive"] is False
        assert app.active_sessions() == 0
    assert app.connection("spk-old") is None


def test_listener_refresh_racing_old_socket_close_keeps_count_exact(app: App) -> None:
    session_id = app.create()
    app.join("lis-old", session_id)
    app.join("other", session_id, ip="192.0.2.77")
    params = {
        "action": "refreshConnection",
        "sessionId": session_id,
        "role": "listener",
        "targetLanguage": "es",
    }
    run_together(
        lambda: app.connect("lis-new", params),
        lambda: app.disconnect("lis-old"),
        lambda: app.disconnect("lis-old"),
    )
    assert app.listener_count(session_id) == 2  # "other" and "lis-new"


def test_parallel_creations_never_exceed_max_active_sessions(app: App) -> None:
    params = {"action": "createSession", "sourceLanguage": "en", "qualityTier": "standard"}
    results = run_together(
        *(lambda i=i: app.connect(f"spk-{i}", params, user_id=f"user-{i}") for i in range(14))
    )
    accepted = [r for r in results if r["statusCode"] == 200]
    assert len(accepted) == 10
    assert app.active_sessions() == 10
