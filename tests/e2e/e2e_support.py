"""Helpers of the end-to-end tests: sockets from a chosen address, protocol steps, table reads."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
import weakref
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from local.environment import LocalEnvironment
from session_service import constants


def run(coroutine: Any, timeout: float = 60) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


def url(env: LocalEnvironment, **query: str) -> str:
    return f"{env.endpoint}?{urllib.parse.urlencode(query)}"


async def open_socket(env: LocalEnvironment, ip: str, **query: str) -> ClientConnection:
    return await connect(url(env, **query), local_addr=(ip, 0), max_size=None)


async def handshake_status(env: LocalEnvironment, ip: str, **query: str) -> int:
    """The HTTP status of a refused handshake (fails the test if the socket opens)."""
    try:
        ws = await open_socket(env, ip, **query)
    except InvalidStatus as refused:
        return int(refused.response.status_code)
    await ws.close()
    raise AssertionError(f"handshake accepted: {query.get('action')}")


async def receive(ws: ClientConnection, kind: str, timeout: float = 10) -> dict[str, Any]:
    """The next message of type ``kind`` (others before it are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        raw = await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic()))
        message: dict[str, Any] = json.loads(raw)
        if message.get("type") == kind:
            return message


# HEARTBEAT_LIMIT_PER_MINUTE is 600 in these tests: heartbeats at least 0.1 s apart, as the
# service timed them. It timed one somewhere before its answer arrived, so the spacing counts
# from the answer (counted from the send, a slow first heartbeat made the next one too early).
HEARTBEAT_SPACING = 0.12
_last_heartbeat: weakref.WeakKeyDictionary[ClientConnection, float] = weakref.WeakKeyDictionary()


async def heartbeat(ws: ClientConnection) -> list[dict[str, Any]]:
    """Send a heartbeat (spaced as the server allows); the messages up to its heartbeatAck."""
    wait = _last_heartbeat.get(ws, 0.0) + HEARTBEAT_SPACING - time.monotonic()
    if wait > 0:
        await asyncio.sleep(wait)
    await ws.send(json.dumps({"action": "heartbeat"}))
    received = []
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
        received.append(message)
        if message.get("type") in ("heartbeatAck", "error"):
            _last_heartbeat[ws] = time.monotonic()
            return received


async def create_session(
    env: LocalEnvironment, ip: str, token: str | None = None, language: str = "en"
) -> tuple[ClientConnection, dict[str, Any]]:
    """A speaker's socket and its sessionCreated message."""
    ws = await open_socket(
        env,
        ip,
        action="createSession",
        sourceLanguage=language,
        qualityTier="standard",
        token=token or env.speaker_token(),
    )
    messages = await heartbeat(ws)
    [created] = [m for m in messages if m["type"] == "sessionCreated"]
    return ws, created


async def join_session(
    env: LocalEnvironment, ip: str, session_id: str, language: str
) -> tuple[ClientConnection, dict[str, Any]]:
    """A listener's socket and its sessionJoined message."""
    ws = await open_socket(
        env, ip, action="joinSession", sessionId=session_id, targetLanguage=language
    )
    messages = await heartbeat(ws)
    [joined] = [m for m in messages if m["type"] == "sessionJoined"]
    return ws, joined


def session_item(env: LocalEnvironment, session_id: str) -> dict[str, Any]:
    table = env.outputs[constants.OUTPUT_SESSIONS_TABLE]
    item = env.client("dynamodb").get_item(
        TableName=table, Key={constants.SESSIONS_KEY: {"S": session_id}}, ConsistentRead=True
    )
    return dict(item.get("Item", {}))


def connection_item(env: LocalEnvironment, connection_id: str) -> dict[str, Any]:
    table = env.outputs[constants.OUTPUT_CONNECTIONS_TABLE]
    item = env.client("dynamodb").get_item(
        TableName=table,
        Key={constants.CONNECTIONS_KEY: {"S": connection_id}},
        ConsistentRead=True,
    )
    return dict(item.get("Item", {}))


async def eventually(predicate: Any, timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await asyncio.to_thread(predicate)
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")
