"""(a) a speaker who abandons the handshake and (b) one whose socket dies with its `$disconnect`
lost: the janitor ends the session within one period and the staleness, telling every listener
``speakerTimeout``; and (d) a speaker who heartbeats keeps the session through janitor runs."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from local.environment import LocalEnvironment
from session_service.protocol import EndReason
from tests.e2e.e2e_support import create_session, eventually, heartbeat, join_session, run

from .conftest import PERIOD, STALENESS
from .janitor_support import (
    abandon_handshake,
    counts,
    ended_cleanly,
    ends,
    messages_for,
    session_of,
    until_ended,
    user_id,
)

pytestmark = pytest.mark.e2e

# The janitor's run after the staleness, its fan-out, and room for a busy machine.
END_WITHIN = STALENESS + PERIOD + 6


async def assert_told_once_then_clean(
    local_env: LocalEnvironment,
    session_id: str,
    listeners: list[Any],
    started: float,
    slack: float,
) -> None:
    """Every listener is told ``speakerTimeout`` once, in time; a later run tells nobody again
    (nothing left to do); the session ends with exact counts; then the listeners close."""
    told = await asyncio.gather(*(until_ended(ws, END_WITHIN) for ws in listeners))
    assert time.monotonic() - started < END_WITHIN + slack
    for received in told:
        [notice] = ends(received)
        assert notice["reason"] == EndReason.SPEAKER_TIMEOUT
        assert notice["sessionId"] == session_id
    later = await asyncio.gather(*(messages_for(ws, PERIOD + 1) for ws in listeners))
    assert not any(ends(m) for m in later)
    await eventually(lambda: ended_cleanly(local_env, session_id))
    for ws in listeners:
        await ws.close()


def test_a_speaker_who_abandons_the_handshake_has_the_session_ended_by_the_janitor(
    local_env: LocalEnvironment, ip: str
) -> None:
    async def scenario() -> None:
        token = local_env.speaker_token("abandoner@example.com")
        started = time.monotonic()
        await abandon_handshake(
            local_env,
            ip,
            action="createSession",
            sourceLanguage="en",
            qualityTier="standard",
            token=token,
        )
        # $connect created the session; the 101 found the client gone: no $disconnect.
        session_id = await eventually(lambda: session_of(local_env, user_id(token)))
        listeners = [
            (await join_session(local_env, ip, session_id, lang))[0] for lang in ("es", "fr")
        ]
        await assert_told_once_then_clean(local_env, session_id, listeners, started, slack=2)

    run(scenario())


def test_a_speaker_socket_dead_without_close_frame_and_disconnect_lost_is_ended_by_the_janitor(
    local_env: LocalEnvironment, ip: str
) -> None:
    async def scenario() -> None:
        speaker, created = await create_session(
            local_env, ip, local_env.speaker_token("vanished@example.com")
        )
        session_id = created["sessionId"]
        listeners = [
            (await join_session(local_env, ip, session_id, lang))[0] for lang in ("es", "fr")
        ]
        gateway = local_env.gateway
        assert gateway is not None
        gateway.faults.lose_disconnect(created["connectionId"])
        started = time.monotonic()
        speaker.transport.abort()  # no close frame, and its $disconnect never comes
        await assert_told_once_then_clean(local_env, session_id, listeners, started, slack=1)

    run(scenario())


def test_a_speaker_who_heartbeats_keeps_the_session_through_janitor_runs(
    local_env: LocalEnvironment, ip: str
) -> None:
    async def scenario() -> None:
        scheduler = local_env.scheduler
        assert scheduler is not None
        speaker, created = await create_session(
            local_env, ip, local_env.speaker_token("keeper@example.com")
        )
        session_id = created["sessionId"]
        listener, _ = await join_session(local_env, ip, session_id, "es")
        runs_before = scheduler.runs
        kept_for = 2 * STALENESS
        until = time.monotonic() + kept_for
        heard = []
        while time.monotonic() < until:
            await asyncio.sleep(STALENESS / 4)
            heard.extend(await heartbeat(speaker))
        assert scheduler.runs - runs_before >= int(kept_for / PERIOD) - 2
        assert not ends(heard)
        assert not ends(await messages_for(listener, 0.2))
        now = counts(local_env, session_id)
        assert now.is_active
        assert now.listener_count == 1
        assert now.connection_items == 2
        # A listener can still join: the speaker is heard.
        late, _ = await join_session(local_env, ip, session_id, "fr")
        await speaker.close()
        for ws in (listener, late):
            [notice] = ends(await until_ended(ws, 10))
            assert notice["reason"] == EndReason.SPEAKER_DISCONNECTED
        await eventually(lambda: ended_cleanly(local_env, session_id))
        for ws in (listener, late):
            await ws.close()

    run(scenario(), timeout=90)
