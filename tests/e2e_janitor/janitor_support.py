"""Helpers of the janitor's end-to-end tests: abandoned handshakes, messages, the exact counts."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection

from local.environment import LocalEnvironment
from session_service import constants
from session_service.data.rate_limits import ACTIVE_SESSIONS_COUNTER


def user_id(token: str) -> str:
    """The ``sub`` of an ID token (read, not verified: the service verified it)."""
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return str(claims["sub"])


async def abandon_handshake(env: LocalEnvironment, ip: str, **query: str) -> None:
    """Send the upgrade request, then close the TCP connection without reading the answer:
    the gateway runs the authorizer and ``$connect``, and finds the client gone."""
    parts = urllib.parse.urlsplit(env.endpoint)
    assert parts.hostname is not None
    assert parts.port is not None
    _, writer = await asyncio.open_connection(parts.hostname, parts.port, local_addr=(ip, 0))
    key = base64.b64encode(os.urandom(16)).decode()
    target = f"{parts.path}?{urllib.parse.urlencode(query)}"
    writer.write(
        (
            f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    writer.close()
    await writer.wait_closed()


def scan(env: LocalEnvironment, table_output: str, **filters: str) -> list[dict[str, Any]]:
    """Every item of a table (consistent reads) whose string attributes equal ``filters``."""
    client = env.client("dynamodb")
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": env.outputs[table_output], "ConsistentRead": True}
    while True:
        page = client.scan(**kwargs)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return [i for i in items if all(i.get(k) == {"S": v} for k, v in filters.items())]


def session_of(env: LocalEnvironment, speaker_user_id: str) -> str | None:
    """The id of the speaker's session, once ``$connect`` has created it."""
    found = scan(env, constants.OUTPUT_SESSIONS_TABLE, speakerUserId=speaker_user_id)
    return found[0][constants.SESSIONS_KEY]["S"] if found else None


def active_sessions_figure(env: LocalEnvironment) -> int:
    """The active-sessions figure as the service stores it (RateLimits' counter item)."""
    item = env.client("dynamodb").get_item(
        TableName=env.outputs[constants.OUTPUT_RATE_LIMITS_TABLE],
        Key={constants.RATE_LIMITS_KEY: {"S": ACTIVE_SESSIONS_COUNTER}},
        ConsistentRead=True,
    )
    return int(item.get("Item", {}).get("count", {}).get("N", "0"))


@dataclass(frozen=True)
class Counts:
    is_active: bool
    listener_count: int
    connection_items: int  # items of the session left in the connections table
    figure: int  # the active-sessions figure
    active_sessions: int  # sessions the sessions table holds active


def counts(env: LocalEnvironment, session_id: str) -> Counts:
    item = scan(env, constants.OUTPUT_SESSIONS_TABLE, **{constants.SESSIONS_KEY: session_id})[0]
    active = [
        i for i in scan(env, constants.OUTPUT_SESSIONS_TABLE) if i.get("isActive") == {"BOOL": True}
    ]
    return Counts(
        is_active=item["isActive"]["BOOL"],
        listener_count=int(item["listenerCount"]["N"]),
        connection_items=len(scan(env, constants.OUTPUT_CONNECTIONS_TABLE, sessionId=session_id)),
        figure=active_sessions_figure(env),
        active_sessions=len(active),
    )


def ended_cleanly(env: LocalEnvironment, session_id: str) -> bool:
    """The exact counts after an end: inactive, no listener counted, no item left, figure right."""
    now = counts(env, session_id)
    return (
        not now.is_active
        and now.listener_count == 0
        and now.connection_items == 0
        and now.figure == now.active_sessions
    )


async def messages_for(ws: ClientConnection, seconds: float) -> list[dict[str, Any]]:
    """Every message the socket receives within ``seconds`` (stops early if it closes)."""
    received: list[dict[str, Any]] = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            raw = await asyncio.wait_for(ws.recv(), left)
        except TimeoutError:
            break
        except Exception:  # closed
            break
        received.append(json.loads(raw))
    return received


def ends(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in messages if m.get("type") == "sessionEnded"]


async def until_ended(ws: ClientConnection, timeout: float) -> list[dict[str, Any]]:
    """The messages up to and including the first ``sessionEnded`` (fails after ``timeout``)."""
    received: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while True:
        raw = await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic()))
        received.append(json.loads(raw))
        if received[-1].get("type") == "sessionEnded":
            return received
