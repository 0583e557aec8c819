"""A session's life over real sockets: create, join, heartbeat, refresh, leave, stale cleanup."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from websockets.asyncio.client import ClientConnection

from local.environment import LocalEnvironment
from session_service import constants

from .conftest import REFRESH_NOTICE_S, WARNING_NOTICE_S
from .e2e_support import (
    connection_item,
    create_session,
    eventually,
    heartbeat,
    join_session,
    open_socket,
    receive,
    run,
    session_item,
)

pytestmark = pytest.mark.e2e

LANGUAGES = ("es", "fr", "de")


def test_speaker_gets_session_created_then_ack_on_first_heartbeat(
    local_env: LocalEnvironment, ip: str
) -> None:
    async def scenario() -> None:
        ws = await open_socket(
            local_env,
            ip,
            action="createSession",
            sourceLanguage="en",
            qualityTier="premium",
            token=local_env.speaker_token(),
        )
        first = await heartbeat(ws)
        assert [m["type"] for m in first] == ["sessionCreated", "heartbeatAck"]
        created = first[0]
        assert created["sourceLanguage"] == "en"
        assert created["qualityTier"] == "premium"
        assert created["expiresAt"] > time.time() + 3600
        parts = created["sessionId"].split("-")
        assert len(parts) == 3
        assert 100 <= int(parts[2]) <= 999
        # the welcome rides on the first heartbeat only
        assert [m["type"] for m in await heartbeat(ws)] == ["heartbeatAck"]
        item = session_item(local_env, created["sessionId"])
        assert item["isActive"] == {"BOOL": True}
        assert item["speakerConnectionId"]["S"] == created["connectionId"]
        await ws.close()

    run(scenario())


def test_listeners_join_in_several_languages_and_are_indexed_by_language(
    local_env: LocalEnvironment, ip: str
) -> None:
    async def scenario() -> None:
        speaker, created = await create_session(local_env, ip)
        session_id = created["sessionId"]
        listeners = []
        for language in LANGUAGES:
            ws, joined = await join_session(local_env, ip, session_id, language)
            assert joined["sessionId"] == session_id
            assert joined["targetLanguage"] == language
            assert joined["sourceLanguage"] == "en"
            listeners.append(ws)
        assert session_item(local_env, session_id)["listenerCount"] == {"N": str(len(LANGUAGES))}
        # what the translation components query: the GSI by session and language
        table = local_env.outputs[constants.OUTPUT_CONNECTIONS_TABLE]
        for language in LANGUAGES:
            found = local_env.client("dynamodb").query(
                TableName=table,
                IndexName=constants.CONNECTIONS_GSI_NAME,
                KeyConditionExpression="sessionId = :s AND targetLanguage = :l",
                ExpressionAttributeValues={":s": {"S": session_id}, ":l": {"S": language}},
            )["Items"]
            assert len(found) == 1
        # a listener leaves: the count follows
        await listeners.pop().close()
        await eventually(
            lambda: session_item(local_env, session_id)["listenerCount"]
            == {"N": str(len(LANGUAGES) - 1)}
        )
        for ws in [*listeners, speaker]:
            await ws.close()

    run(scenario())


def test_speaker_leaving_ends_the_session_for_every_listener(
    local_env: LocalEnvironment, ip: str
) -> None:
    async def scenario() -> None:
        speaker, created = await create_session(local_env, ip)
        session_id = created["sessionId"]
        listeners = [(await join_session(local_env, ip, session_id, lang))[0] for lang in LANGUAGES]
        await speaker.close()
        for ws in listeners:
            ended = await receive(ws, "sessionEnded")
            assert ended["sessionId"] == session_id
            assert ended["reason"]
        await eventually(lambda: session_item(local_env, session_id)["isActive"]["BOOL"] is False)
        for ws in listeners:
            await ws.close()

    run(scenario())


def test_stale_listener_is_skipped_and_removed_when_the_session_ends(
    local_env: LocalEnvironment, ip: str
) -> None:
    """A listener whose socket vanished without $disconnect: posting to it answers 410."""

    async def scenario() -> None:
        speaker, created = await create_session(local_env, ip)
        session_id = created["sessionId"]
        _stale, stale_joined = await join_session(local_env, ip, session_id, "es")
        live, _ = await join_session(local_env, ip, session_id, "fr")
        assert local_env.gateway is not None
        assert local_env.gateway.lose_connection(stale_joined["connectionId"])
        assert connection_item(local_env, stale_joined["connectionId"])  # left behind
        await speaker.close()
        ended = await receive(live, "sessionEnded")
        assert ended["sessionId"] == session_id
        await eventually(lambda: not connection_item(local_env, stale_joined["connectionId"]))
        await live.close()

    run(scenario())


def test_listener_refresh_swaps_sockets_without_count_drift(
    local_env: LocalEnvironment, ip: str
) -> None:
    async def scenario() -> None:
        speaker, created = await create_session(local_env, ip)
        session_id = created["sessionId"]
        old, _ = await join_session(local_env, ip, session_id, "es")
        new = await open_socket(
            local_env,
            ip,
            action="refreshConnection",
            sessionId=session_id,
            role="listener",
            targetLanguage="es",
        )
        await new.send(json.dumps({"action": "refreshConnection"}))
        done = await receive(new, "connectionRefreshComplete")
        assert done["sessionId"] == session_id
        assert done["role"] == "listener"
        assert done["targetLanguage"] == "es"
        await old.close()
        await eventually(lambda: session_item(local_env, session_id)["listenerCount"] == {"N": "1"})
        await asyncio.sleep(0.5)  # the old socket's $disconnect must not count twice
        assert session_item(local_env, session_id)["listenerCount"] == {"N": "1"}
        await speaker.close()
        assert (await receive(new, "sessionEnded"))["sessionId"] == session_id
        await new.close()

    run(scenario())


def test_speaker_refresh_keeps_the_session_alive(local_env: LocalEnvironment, ip: str) -> None:
    async def scenario() -> None:
        old, created = await create_session(local_env, ip)
        session_id = created["sessionId"]
        listener, _ = await join_session(local_env, ip, session_id, "de")
        expires_before = int(session_item(local_env, session_id)["expiresAt"]["N"])
        new = await open_socket(
            local_env,
            ip,
            action="refreshConnection",
            sessionId=session_id,
            role="speaker",
            token=local_env.speaker_token(),
        )
        await new.send(json.dumps({"action": "refreshConnection"}))
        done = await receive(new, "connectionRefreshComplete")
        assert done["role"] == "speaker"
        await old.close()
        await asyncio.sleep(1.0)
        item = session_item(local_env, session_id)
        assert item["isActive"] == {"BOOL": True}
        assert int(item["expiresAt"]["N"]) >= expires_before
        # the listener never heard of the old socket's close; the new one keeps the session
        assert [m["type"] for m in await heartbeat(listener)] == ["heartbeatAck"]
        assert [m["type"] for m in await heartbeat(new)] == ["heartbeatAck"]
        await new.close()
        assert (await receive(listener, "sessionEnded"))["sessionId"] == session_id
        await listener.close()

    run(scenario())


async def _beat_until(
    sockets: dict[str, ClientConnection], kind: str, deadline_s: float
) -> dict[str, tuple[float, dict[str, object]]]:
    """Heartbeat every socket about twice a second until each got a ``kind`` message; per
    socket, when (monotonic) and what. Fails if one comes twice or not before the deadline."""
    got: dict[str, tuple[float, dict[str, object]]] = {}
    deadline = time.monotonic() + deadline_s
    while len(got) < len(sockets):
        assert time.monotonic() < deadline, f"no {kind} for {sorted(set(sockets) - set(got))}"
        await asyncio.sleep(0.5)
        for name, ws in sockets.items():
            for message in await heartbeat(ws):
                if message["type"] == kind:
                    assert name not in got, f"{kind} sent twice to {name}"
                    got[name] = (time.monotonic(), message)
    return got


@pytest.mark.timeout(90)
def test_refresh_notice_and_warning_arrive_at_their_minutes_and_the_refresh_completes(
    local_env: LocalEnvironment, ip: str
) -> None:
    """CONNECTION_REFRESH_MINUTES / CONNECTION_WARNING_MINUTES are 0.2 / 0.25 here (test
    overrides, 12 s / 15 s): heartbeats past them bring connectionRefreshRequired, then
    connectionWarning, each once per socket; the client refreshes as the notice says, and the
    new socket is not warned."""

    async def scenario() -> None:
        opened = time.monotonic()
        speaker, created = await create_session(local_env, ip)
        session_id = created["sessionId"]
        listener, _ = await join_session(local_env, ip, session_id, "es")
        sockets = {"speaker": speaker, "listener": listener}

        notices = await _beat_until(sockets, "connectionRefreshRequired", 40)
        for at, _ in notices.values():
            assert at - opened >= REFRESH_NOTICE_S - 0.5, "notice before its minutes"
        assert notices["speaker"][1]["sessionId"] == session_id
        assert notices["speaker"][1]["role"] == "speaker"
        assert "targetLanguage" not in notices["speaker"][1]
        assert notices["listener"][1]["role"] == "listener"
        assert notices["listener"][1]["targetLanguage"] == "es"

        # the speaker refreshes; the listener does not, and is warned
        new = await open_socket(
            local_env,
            ip,
            action="refreshConnection",
            sessionId=session_id,
            role="speaker",
            token=local_env.speaker_token(),
        )
        await new.send(json.dumps({"action": "refreshConnection"}))
        await receive(new, "connectionRefreshComplete")
        await speaker.close()

        [(at, warning)] = (
            await _beat_until({"listener": listener}, "connectionWarning", 30)
        ).values()
        assert at - opened >= WARNING_NOTICE_S - 0.5, "warning before its minutes"
        # API Gateway's 2 hours, less the (seconds-long) age of the socket, in whole minutes
        assert warning["remainingMinutes"] == 119
        # once only; the refreshed socket is young and hears of neither notice
        assert [m["type"] for m in await heartbeat(listener)] == ["heartbeatAck"]
        assert [m["type"] for m in await heartbeat(new)] == ["heartbeatAck"]
        await new.close()
        await receive(listener, "sessionEnded")
        await listener.close()

    run(scenario(), timeout=80)
