"""Bad input over the wire: each gets its documented answer, and the server keeps serving.

A refused ``$connect`` fails the handshake with the HTTP status of its error code (SPEC.md,
"Errors"). Messages that match no route reach the ``$default`` route, whose function answers
with the protocol's ``error`` message (INVALID_PARAMETERS / INVALID_ACTION), and an oversized
frame closes the socket with 1009.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from local.environment import LocalEnvironment

from .conftest import MAX_LISTENERS
from .e2e_support import (
    connection_item,
    create_session,
    handshake_status,
    heartbeat,
    join_session,
    run,
    session_item,
)

pytestmark = pytest.mark.e2e


async def still_serving(env: LocalEnvironment, ip: str) -> None:
    """Another client, after the bad one, creates a session and gets its acks."""
    ws, created = await create_session(env, ip)
    assert created["sessionId"]
    got = await heartbeat(ws)
    assert [m["type"] for m in got] == ["heartbeatAck"], got
    await ws.close()


def _next_ip(ip: str, step: int = 100) -> str:
    head, last = ip.rsplit(".", 1)
    return f"{head}.{(int(last) + step) % 250 + 2}"


@pytest.mark.parametrize(
    "token",
    [
        None,  # no token at all
        "not-a-jwt",
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",  # alg none, unsigned
    ],
)
def test_create_session_without_a_valid_token_is_refused_with_401(
    local_env: LocalEnvironment, ip: str, token: str | None
) -> None:
    query = {"action": "createSession", "sourceLanguage": "en", "qualityTier": "standard"}
    if token is not None:
        query["token"] = token

    async def scenario() -> None:
        assert await handshake_status(local_env, ip, **query) == 401
        await still_serving(local_env, _next_ip(ip))

    run(scenario())


def test_token_of_another_client_app_is_refused_with_401(
    local_env: LocalEnvironment, ip: str
) -> None:
    """A genuine token of the same pool but issued to another app client."""
    assert local_env.user_pool is not None
    cognito = local_env.client("cognito-idp")
    other = cognito.create_user_pool_client(
        UserPoolId=local_env.user_pool.pool_id,
        ClientName="another-app",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    user = local_env.create_test_user("other-app-user@example.com")
    token = cognito.initiate_auth(
        ClientId=other,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user.username, "PASSWORD": user.password},
    )["AuthenticationResult"]["IdToken"]

    async def scenario() -> None:
        status = await handshake_status(
            local_env,
            ip,
            action="createSession",
            sourceLanguage="en",
            qualityTier="standard",
            token=token,
        )
        assert status == 401

    run(scenario())


def test_speaker_refresh_by_another_user_is_refused_with_403(
    local_env: LocalEnvironment, ip: str
) -> None:
    local_env.create_test_user("intruder@example.com")
    intruder = local_env.speaker_token("intruder@example.com")

    async def scenario() -> None:
        speaker, created = await create_session(local_env, ip)
        status = await handshake_status(
            local_env,
            ip,
            action="refreshConnection",
            sessionId=created["sessionId"],
            role="speaker",
            token=intruder,
        )
        assert status == 403
        # the owner's session is untouched
        assert [m["type"] for m in await heartbeat(speaker)] == ["heartbeatAck"]
        await speaker.close()

    run(scenario())


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"sessionId": "quiet-harbor-123", "targetLanguage": "es"}, 404),  # no such session
        ({"sessionId": "not a session id!", "targetLanguage": "es"}, 400),
        ({"targetLanguage": "es"}, 400),  # no session id
        ({"sessionId": "quiet-harbor-123"}, 400),  # no language
    ],
)
def test_bad_join_is_refused_with_its_status(
    local_env: LocalEnvironment, ip: str, query: dict[str, str], status: int
) -> None:
    async def scenario() -> None:
        assert await handshake_status(local_env, ip, action="joinSession", **query) == status
        await still_serving(local_env, _next_ip(ip))

    run(scenario())


@pytest.mark.parametrize("language", ["xx", "EN-us", "klingon", ""])
def test_join_in_an_unsupported_language_is_refused_with_400(
    local_env: LocalEnvironment, ip: str, language: str
) -> None:
    async def scenario() -> None:
        speaker, created = await create_session(local_env, ip)
        status = await handshake_status(
            local_env,
            ip,
            action="joinSession",
            sessionId=created["sessionId"],
            targetLanguage=language,
        )
        assert status == 400
        assert session_item(local_env, created["sessionId"])["listenerCount"] == {"N": "0"}
        await speaker.close()

    run(scenario())


def test_unknown_connect_action_is_refused_with_400(local_env: LocalEnvironment, ip: str) -> None:
    async def scenario() -> None:
        assert await handshake_status(local_env, ip, action="dropTables") == 400
        assert await handshake_status(local_env, ip) == 400  # no action at all

    run(scenario())


def test_join_of_a_full_session_is_refused_with_503(local_env: LocalEnvironment, ip: str) -> None:
    async def scenario() -> None:
        speaker, created = await create_session(local_env, ip)
        session_id = created["sessionId"]
        listeners = [
            (await join_session(local_env, ip, session_id, "es"))[0] for _ in range(MAX_LISTENERS)
        ]
        status = await handshake_status(
            local_env, ip, action="joinSession", sessionId=session_id, targetLanguage="fr"
        )
        assert status == 503
        assert session_item(local_env, session_id)["listenerCount"] == {"N": str(MAX_LISTENERS)}
        # the listeners in it are still served
        for ws in listeners:
            assert [m["type"] for m in await heartbeat(ws)] == ["heartbeatAck"]
        for ws in [*listeners, speaker]:
            await ws.close()

    run(scenario())


def test_joins_beyond_the_per_ip_limit_are_refused_with_429(
    local_env: LocalEnvironment, ip: str
) -> None:
    """10 listener joins per IP per minute (config); the 11th from the same address is refused,
    while another address still joins."""

    async def scenario() -> None:
        # The windows are fixed minutes: start early in one, so all 11 attempts fall in it.
        left = 60 - time.time() % 60
        if left < 15:
            await asyncio.sleep(left + 0.1)
        speaker, created = await create_session(local_env, _next_ip(ip))
        session_id = created["sessionId"]
        for _ in range(10):
            ws, _joined = await join_session(local_env, ip, session_id, "es")
            await ws.close()
        status = await handshake_status(
            local_env, ip, action="joinSession", sessionId=session_id, targetLanguage="es"
        )
        assert status == 429
        other, _ = await join_session(local_env, _next_ip(ip, 50), session_id, "es")
        await other.close()
        await speaker.close()

    run(scenario())


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("{not json", "INVALID_PARAMETERS"),
        ("[]", "INVALID_PARAMETERS"),
        ("", "INVALID_PARAMETERS"),
        ('{"action": "launchMissiles"}', "INVALID_ACTION"),
        ('{"action": 42}', "INVALID_ACTION"),
        ('{"noAction": true}', "INVALID_ACTION"),
    ],
)
def test_message_matching_no_route_gets_the_documented_error_and_the_socket_stays(
    local_env: LocalEnvironment, ip: str, body: str, code: str
) -> None:
    """$default: the protocol's error message, not API Gateway's "Forbidden"; the connection's
    item is left as it was (no heartbeat recorded), and the socket and its session carry on."""

    async def scenario() -> None:
        ws, created = await create_session(local_env, ip)
        listener, _ = await join_session(local_env, ip, created["sessionId"], "es")
        before = connection_item(local_env, created["connectionId"])
        await ws.send(body)
        reply = json.loads(await ws.recv())
        assert reply["type"] == "error", reply
        assert reply["code"] == code
        assert reply["message"]
        if code == "INVALID_ACTION":
            assert reply["details"]["expected"] == ["heartbeat", "refreshConnection"]
        assert connection_item(local_env, created["connectionId"]) == before
        assert [m["type"] for m in await heartbeat(ws)] == ["heartbeatAck"]
        assert [m["type"] for m in await heartbeat(listener)] == ["heartbeatAck"]
        await listener.close()
        await ws.close()

    run(scenario())


def test_oversized_frame_closes_only_that_socket_with_1009(
    local_env: LocalEnvironment, ip: str
) -> None:
    async def scenario() -> None:
        speaker, created = await create_session(local_env, ip)
        listener, _ = await join_session(local_env, ip, created["sessionId"], "es")
        await listener.send(json.dumps({"action": "heartbeat", "pad": "x" * 40_000}))
        with pytest.raises(ConnectionClosed) as closed:
            await listener.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1009
        # the speaker's socket and session carry on
        assert [m["type"] for m in await heartbeat(speaker)] == ["heartbeatAck"]
        await speaker.close()

    run(scenario())


def test_wrong_route_body_gets_an_error_message(local_env: LocalEnvironment, ip: str) -> None:
    """A refreshConnection message on a connection that was not opened to refresh."""

    async def scenario() -> None:
        speaker, _ = await create_session(local_env, ip)
        await speaker.send(json.dumps({"action": "refreshConnection"}))
        reply = json.loads(await speaker.recv())
        assert reply["type"] == "error"
        assert reply["code"] in {"INVALID_ACTION", "INVALID_PARAMETERS"}
        assert [m["type"] for m in await heartbeat(speaker)] == ["heartbeatAck"]
        await speaker.close()

    run(scenario())


def test_unknown_stage_is_forbidden(local_env: LocalEnvironment, ip: str) -> None:
    async def scenario() -> int:
        bad = local_env.endpoint.rsplit("/", 1)[0] + "/nostage?action=joinSession"
        with pytest.raises(InvalidStatus) as refused:
            await connect(bad, local_addr=(ip, 0))
        return int(refused.value.response.status_code)

    assert run(scenario()) == 403
