"""The events the gateway gives its integrations, shaped as API Gateway shapes them.

One builder per event (``$connect``, the authorizer's REQUEST event, a message, ``$disconnect``)
and the per-connection record they are built from, so the server only decides when to call
which integration, not what the integration sees.
"""

from __future__ import annotations

import secrets
import string
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from local.gateway.api import CONNECT, DISCONNECT, GatewayConfig

if TYPE_CHECKING:
    from websockets.asyncio.server import ServerConnection
    from websockets.http11 import Request

_ID_ALPHABET = string.ascii_letters + string.digits


def aws_id() -> str:
    """An id shaped like API Gateway's connection and request ids, e.g. ``L0SM9cOFvHcCIhw=``."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(15)) + "="


def now_ms() -> int:
    return int(time.time() * 1000)


def _request_time(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


def iso(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Connection:
    connection_id: str
    source_ip: str
    user_agent: str
    connected_at: int  # epoch ms
    headers: dict[str, str]
    multi_headers: dict[str, list[str]]
    opened_monotonic: float = field(default_factory=time.monotonic)
    last_active_monotonic: float = field(default_factory=time.monotonic)
    last_active_at: int = field(default_factory=now_ms)
    authorizer: dict[str, Any] | None = None
    ws: ServerConnection | None = None
    server_close: tuple[int, str] | None = None  # why the gateway closed it, if it did
    lost: bool = False  # test-only: dropped without $disconnect


def new_connection(ws: ServerConnection, request: Request) -> Connection:
    """The record of a connection being opened, with the headers API Gateway adds."""
    remote = ws.remote_address
    source_ip = str(remote[0]) if remote else "127.0.0.1"
    multi: dict[str, list[str]] = {}
    for name, value in request.headers.raw_items():
        multi.setdefault(name, []).append(value)
    multi.setdefault("X-Forwarded-For", [source_ip])
    multi.setdefault("X-Forwarded-Proto", ["https"])
    multi.setdefault("X-Forwarded-Port", ["443"])
    trace = f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}"
    multi.setdefault("X-Amzn-Trace-Id", [trace])
    headers = {name: values[-1] for name, values in multi.items()}
    return Connection(
        connection_id=aws_id(),
        source_ip=source_ip,
        user_agent=request.headers.get("User-Agent", ""),
        connected_at=now_ms(),
        headers=headers,
        multi_headers=multi,
    )


def request_context(
    config: GatewayConfig, connection: Connection, route_key: str, event_type: str
) -> dict[str, Any]:
    now = now_ms()
    request_id = aws_id()
    context: dict[str, Any] = {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": request_id,
        "requestTime": _request_time(now),
        "messageDirection": "IN",
        "stage": config.stage,
        "connectedAt": connection.connected_at,
        "requestTimeEpoch": now,
        "identity": {"sourceIp": connection.source_ip, "userAgent": connection.user_agent},
        "requestId": request_id,
        "domainName": config.domain_name,
        "connectionId": connection.connection_id,
        "apiId": config.api_id,
    }
    if connection.authorizer is not None:
        context["authorizer"] = dict(connection.authorizer)
    return context


def connect_event(config: GatewayConfig, connection: Connection, query: str) -> dict[str, Any]:
    multi_query: dict[str, list[str]] = {}
    for name, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
        multi_query.setdefault(name, []).append(value)
    return {
        "headers": dict(connection.headers),
        "multiValueHeaders": {k: list(v) for k, v in connection.multi_headers.items()},
        "queryStringParameters": (
            {k: v[-1] for k, v in multi_query.items()} if multi_query else None
        ),
        "multiValueQueryStringParameters": multi_query or None,
        "requestContext": request_context(config, connection, CONNECT, "CONNECT"),
        "isBase64Encoded": False,
    }


def authorizer_event(config: GatewayConfig, connect: dict[str, Any]) -> dict[str, Any]:
    """The REQUEST authorizer's event, derived from the ``$connect`` event it precedes."""
    return {
        "type": "REQUEST",
        "methodArn": config.method_arn,
        **{k: connect[k] for k in ("headers", "multiValueHeaders")},
        "queryStringParameters": connect["queryStringParameters"] or {},
        "multiValueQueryStringParameters": connect["multiValueQueryStringParameters"] or {},
        "stageVariables": {},
        "requestContext": dict(connect["requestContext"]),
    }


def message_context(config: GatewayConfig, connection: Connection, key: str) -> dict[str, Any]:
    context = request_context(config, connection, key, "MESSAGE")
    context["messageId"] = aws_id()
    return context


def message_event(context: dict[str, Any], body: str) -> dict[str, Any]:
    return {"requestContext": context, "body": body, "isBase64Encoded": False}


def disconnect_event(
    config: GatewayConfig, connection: Connection, code: int, reason: str
) -> dict[str, Any]:
    context = request_context(config, connection, DISCONNECT, "DISCONNECT")
    context["disconnectStatusCode"] = code
    context["disconnectReason"] = reason
    return {
        "headers": {"Host": config.domain_name, "X-Forwarded-For": connection.source_ip},
        "multiValueHeaders": {
            "Host": [config.domain_name],
            "X-Forwarded-For": [connection.source_ip],
        },
        "requestContext": context,
        "isBase64Encoded": False,
    }
