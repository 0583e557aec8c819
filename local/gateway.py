"""A local API Gateway for WebSocket APIs: the client side and the ``@connections`` API.

What it does as API Gateway does (local/README.md lists what it does not):

- serves ``ws://HOST:PORT/{stage}``; a ``$connect`` runs the REQUEST authorizer, when the route
  has one, and enforces its policy (authorizer error "Unauthorized" → 401, Deny → 403, any other
  failure → 500), then the ``$connect`` integration, whose ``statusCode`` decides the handshake;
- selects the route of each message by ``$request.body.action``, falls back to ``$default``,
  and answers ``{"message": "Forbidden", …}`` when neither exists; a function error is answered
  with ``{"message": "Internal server error", …}``; binary frames close the socket with 1003;
- 32 KB frames and 128 KB messages, a larger one closes the socket with 1009;
- closes a socket idle for 10 minutes or open for 2 hours (1001), both configurable for tests;
- calls ``$disconnect`` after every close;
- serves the management API on a second port: POST, GET and DELETE on
  ``/{stage}/@connections/{connectionId}``; a connection that is gone (or still in its
  ``$connect``) answers 410 ``GoneException``.

Integrations are blocking callables (``event -> InvokeResult``) run in a thread pool, so the
event loop keeps serving while handlers run and call back into the management API.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import fnmatch
import json
import logging
import secrets
import string
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode
from websockets.http11 import Request, Response
from websockets.protocol import State

from local.runtime import InvokeResult

logger = logging.getLogger(__name__)

Integration = Callable[[dict[str, Any]], InvokeResult]

KB = 1024
FRAME_LIMIT = 32 * KB
MESSAGE_LIMIT = 128 * KB
AUTHORIZER_RESULT_LIMIT = 8 * KB
URL_LIMIT = 4096
IDLE_TIMEOUT = 10 * 60.0
MAX_DURATION = 2 * 60 * 60.0
CONNECT = "$connect"
DISCONNECT = "$disconnect"
DEFAULT = "$default"
# API Gateway's integration timeout bounds how long a handshake may wait for $connect.
_HANDSHAKE_TIMEOUT = 30.0
# How long a management-API post waits for the socket before answering for a live connection:
# well inside the handlers' SDK read timeout, so a slow socket never makes them retry a post.
_POST_WAIT = 2.0
_ID_ALPHABET = string.ascii_letters + string.digits


def _aws_id() -> str:
    """An id shaped like API Gateway's connection and request ids, e.g. ``L0SM9cOFvHcCIhw=``."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(15)) + "="


def _now_ms() -> int:
    return int(time.time() * 1000)


def _request_time(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


def _iso(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Route:
    """One route: its integration and, on ``$connect`` only, its authorizer."""

    key: str
    integration: Integration
    authorizer: Integration | None = None
    # A route response on the route (two-way): the integration's body is sent to the client.
    two_way: bool = False


@dataclass
class GatewayConfig:
    api_id: str
    stage: str
    region: str = "us-east-1"
    account_id: str = "123456789012"
    route_selection_expression: str = "$request.body.action"
    host: str = "127.0.0.1"
    port: int = 0
    management_port: int = 0
    idle_timeout: float = IDLE_TIMEOUT
    max_duration: float = MAX_DURATION
    frame_limit: int = FRAME_LIMIT
    message_limit: int = MESSAGE_LIMIT

    @property
    def domain_name(self) -> str:
        """The API's execute-api domain, as API Gateway puts it in ``requestContext``."""
        return f"{self.api_id}.execute-api.{self.region}.amazonaws.com"


@dataclass
class _Connection:
    connection_id: str
    source_ip: str
    user_agent: str
    connected_at: int  # epoch ms
    headers: dict[str, str]
    multi_headers: dict[str, list[str]]
    opened_monotonic: float = field(default_factory=time.monotonic)
    last_active_monotonic: float = field(default_factory=time.monotonic)
    last_active_at: int = field(default_factory=_now_ms)
    authorizer: dict[str, Any] | None = None
    ws: ServerConnection | None = None
    server_close: tuple[int, str] | None = None  # why the gateway closed it, if it did
    lost: bool = False  # test-only: dropped without $disconnect


class HandshakeRefused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason


class Gateway:
    """The local gateway. ``start()`` serves in a background thread; ``stop()`` ends it."""

    def __init__(self, config: GatewayConfig, routes: dict[str, Route], ready: bool = True) -> None:
        self.config = config
        self.routes = routes
        # Until ready, every handshake is refused with 503 (routes not in place yet).
        self.ready = ready
        self._connections: dict[str, _Connection] = {}
        self._pending: dict[Any, _Connection] = {}  # ServerConnection.id -> during $connect
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=64, thread_name_prefix="integration"
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: Server | None = None
        self._http: ThreadingHTTPServer | None = None
        self._http_thread: threading.Thread | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopping: asyncio.Event | None = None
        self.port: int | None = None
        self.management_port: int | None = None

    # --- addresses --------------------------------------------------------------------------
    @property
    def endpoint(self) -> str:
        """The WebSocket URL clients connect to."""
        return f"ws://{self.config.host}:{self.port}/{self.config.stage}"

    @property
    def callback_url(self) -> str:
        """The management API's URL, what ``CALLBACK_URL`` resolves to locally."""
        return f"http://{self.config.host}:{self.management_port}/{self.config.stage}"

    # --- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        """Bind both ports and serve in a background thread; returns when serving."""
        self._start_management_api()
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._serve(ready))
            except BaseException as exc:
                failure.append(exc)
                ready.set()
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name="local-gateway", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._stop_management_api()
            raise failure[0]
        logger.info("gateway serving %s (management API %s)", self.endpoint, self.callback_url)

    async def _serve(self, ready: threading.Event) -> None:
        self._stopping = asyncio.Event()
        async with serve(
            self._handle,
            self.config.host,
            self.config.port,
            process_request=self._process_request,
            max_size=(self.config.message_limit, self.config.frame_limit),
            ping_interval=None,  # API Gateway sends no pings; it answers the client's
            compression=None,  # nor does it negotiate permessage-deflate
            server_header="local-api-gateway",
            # The handshake waits for the authorizer and $connect, which API Gateway allows
            # up to its 29 s integration timeout; websockets' default (10 s) is shorter.
            open_timeout=_HANDSHAKE_TIMEOUT,
        ) as server:
            self._server = server
            self.port = server.sockets[0].getsockname()[1]
            sweeper = asyncio.create_task(self._sweep())
            ready.set()
            await self._stopping.wait()
            sweeper.cancel()
            server.close(close_connections=True)
            await server.wait_closed()
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)

    def stop(self) -> None:
        """Close every connection (each gets its ``$disconnect``), then both servers."""
        if self._loop is not None and self._stopping is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
            self._thread.join(timeout=30)
        self._stop_management_api()
        self._executor.shutdown(wait=True, cancel_futures=True)
        logger.info("gateway stopped")

    # --- handshake: authorizer and $connect -------------------------------------------------
    async def _process_request(self, ws: ServerConnection, request: Request) -> Response | None:
        path, _, query = request.path.partition("?")
        if len(request.path) > URL_LIMIT:
            return ws.respond(HTTPStatus.REQUEST_URI_TOO_LONG, "URI too long\n")
        if path.rstrip("/") != f"/{self.config.stage}":
            return ws.respond(HTTPStatus.FORBIDDEN, '{"message":"Forbidden"}\n')
        if not self.ready:
            return ws.respond(HTTPStatus.SERVICE_UNAVAILABLE, "Starting\n")
        connection = self._new_connection(ws, request)
        event = self._connect_event(connection, request, query)
        try:
            await self._authorize(connection, event)
            await self._run_connect(connection, event)
        except HandshakeRefused as refused:
            logger.info(
                "$connect %s refused: %s %s",
                connection.connection_id,
                refused.status,
                refused.reason,
            )
            return ws.respond(refused.status, f"{refused.reason}\n")
        self._pending[ws.id] = connection
        return None

    def _new_connection(self, ws: ServerConnection, request: Request) -> _Connection:
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
        return _Connection(
            connection_id=_aws_id(),
            source_ip=source_ip,
            user_agent=request.headers.get("User-Agent", ""),
            connected_at=_now_ms(),
            headers=headers,
            multi_headers=multi,
        )

    def _request_context(
        self, connection: _Connection, route_key: str, event_type: str
    ) -> dict[str, Any]:
        now = _now_ms()
        request_id = _aws_id()
        context: dict[str, Any] = {
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": request_id,
            "requestTime": _request_time(now),
            "messageDirection": "IN",
            "stage": self.config.stage,
            "connectedAt": connection.connected_at,
            "requestTimeEpoch": now,
            "identity": {"sourceIp": connection.source_ip, "userAgent": connection.user_agent},
            "requestId": request_id,
            "domainName": self.config.domain_name,
            "connectionId": connection.connection_id,
            "apiId": self.config.api_id,
        }
        if connection.authorizer is not None:
            context["authorizer"] = dict(connection.authorizer)
        return context

    def _connect_event(
        self, connection: _Connection, request: Request, query: str
    ) -> dict[str, Any]:
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
            "requestContext": self._request_context(connection, CONNECT, "CONNECT"),
            "isBase64Encoded": False,
        }

    def _method_arn(self) -> str:
        c = self.config
        return f"arn:aws:execute-api:{c.region}:{c.account_id}:{c.api_id}/{c.stage}/{CONNECT}"

    async def _invoke(self, integration: Integration, event: dict[str, Any]) -> InvokeResult:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, integration, event)

    async def _authorize(self, connection: _Connection, connect_event: dict[str, Any]) -> None:
        route = self.routes.get(CONNECT)
        if route is None or route.authorizer is None:
            return
        event = {
            "type": "REQUEST",
            "methodArn": self._method_arn(),
            **{k: connect_event[k] for k in ("headers", "multiValueHeaders")},
            "queryStringParameters": connect_event["queryStringParameters"] or {},
            "multiValueQueryStringParameters": (
                connect_event["multiValueQueryStringParameters"] or {}
            ),
            "stageVariables": {},
            "requestContext": dict(connect_event["requestContext"]),
        }
        started = time.monotonic()
        result = await self._invoke(route.authorizer, event)
        latency = int((time.monotonic() - started) * 1000)
        if not result.ok:
            if result.error_message == "Unauthorized":
                raise HandshakeRefused(401, "Unauthorized")
            logger.error("authorizer failed: %s: %s", result.error_type, result.error_message)
            raise HandshakeRefused(500, "Internal Server Error")
        principal, context = evaluate_policy(result.payload, self._method_arn())
        connection.authorizer = {**context, "principalId": principal, "integrationLatency": latency}
        connect_event["requestContext"]["authorizer"] = dict(connection.authorizer)

    async def _run_connect(self, connection: _Connection, event: dict[str, Any]) -> None:
        route = self.routes.get(CONNECT)
        if route is None:
            return
        result = await self._invoke(route.integration, event)
        if not result.ok:
            logger.error("$connect failed: %s: %s", result.error_type, result.error_message)
            raise HandshakeRefused(500, "Internal Server Error")
        status = result.payload.get("statusCode") if isinstance(result.payload, dict) else None
        if not isinstance(status, int) or not 100 <= status <= 599:
            logger.error("$connect returned no valid statusCode: %r", result.payload)
            raise HandshakeRefused(502, "Bad Gateway")
        if not 200 <= status <= 299:
            raise HandshakeRefused(status, HTTPStatus(status).phrase if _is_status(status) else "")

    # --- an open connection -----------------------------------------------------------------
    async def _handle(self, ws: ServerConnection) -> None:
        connection = self._pending.pop(ws.id)
        connection.ws = ws
        connection.opened_monotonic = connection.last_active_monotonic = time.monotonic()
        self._connections[connection.connection_id] = connection
        logger.info("connected %s from %s", connection.connection_id, connection.source_ip)
        try:
            async for message in ws:
                connection.last_active_monotonic = time.monotonic()
                connection.last_active_at = _now_ms()
                if isinstance(message, bytes):
                    # API Gateway does not take binary frames: it closes with 1003.
                    connection.server_close = (1003, "Binary frames are not supported")
                    await ws.close(CloseCode.UNSUPPORTED_DATA, "Binary frames are not supported")
                    break
                self._spawn(self._dispatch(connection, message))
        except ConnectionClosed:
            pass
        finally:
            self._connections.pop(connection.connection_id, None)
            if not connection.lost:
                await self._disconnect(connection)

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def select_route(self, body: str) -> str | None:
        """The route key for a message, by the route selection expression, or ``$default``."""
        key = None
        expression = self.config.route_selection_expression
        if expression.startswith("$request.body."):
            try:
                value: Any = json.loads(body)
                for part in expression.removeprefix("$request.body.").split("."):
                    value = value.get(part) if isinstance(value, dict) else None
            except ValueError:
                value = None
            if isinstance(value, str | int | float) and not isinstance(value, bool):
                key = str(value)
        if key is not None and key in self.routes and key not in (CONNECT, DISCONNECT):
            return key
        return DEFAULT if DEFAULT in self.routes else None

    async def _dispatch(self, connection: _Connection, body: str) -> None:
        key = self.select_route(body)
        context = self._request_context(connection, key or DEFAULT, "MESSAGE")
        context["messageId"] = _aws_id()
        if key is None:
            await self._reply(connection, "Forbidden", context["requestId"])
            return
        route = self.routes[key]
        event = {"requestContext": context, "body": body, "isBase64Encoded": False}
        result = await self._invoke(route.integration, event)
        logger.info(
            "%s %s: %s in %.0f ms",
            key,
            connection.connection_id,
            "ok" if result.ok else f"{result.error_type}: {result.error_message}",
            result.duration_ms,
        )
        if not result.ok:
            await self._reply(connection, "Internal server error", context["requestId"])
        elif route.two_way and isinstance(result.payload, dict) and "body" in result.payload:
            await self._send(connection, str(result.payload["body"]))

    async def _reply(self, connection: _Connection, message: str, request_id: str) -> None:
        payload = {
            "message": message,
            "connectionId": connection.connection_id,
            "requestId": request_id,
        }
        await self._send(connection, json.dumps(payload))

    async def _send(self, connection: _Connection, data: str) -> bool:
        if connection.ws is None:
            return False
        try:
            await connection.ws.send(data)
        except ConnectionClosed:
            return False
        return True

    async def _disconnect(self, connection: _Connection) -> None:
        ws = connection.ws
        code, reason = 1006, ""
        if connection.server_close is not None:
            code, reason = connection.server_close
        elif ws is not None and ws.protocol.close_rcvd is not None:
            code, reason = ws.protocol.close_rcvd.code, ws.protocol.close_rcvd.reason
        elif ws is not None and ws.protocol.close_sent is not None:
            code, reason = ws.protocol.close_sent.code, ws.protocol.close_sent.reason
        logger.info("disconnected %s (%s %s)", connection.connection_id, code, reason)
        route = self.routes.get(DISCONNECT)
        if route is None:
            return
        context = self._request_context(connection, DISCONNECT, "DISCONNECT")
        context["disconnectStatusCode"] = code
        context["disconnectReason"] = reason
        event = {
            "headers": {"Host": self.config.domain_name, "X-Forwarded-For": connection.source_ip},
            "multiValueHeaders": {
                "Host": [self.config.domain_name],
                "X-Forwarded-For": [connection.source_ip],
            },
            "requestContext": context,
            "isBase64Encoded": False,
        }
        result = await self._invoke(route.integration, event)
        if not result.ok:
            logger.error("$disconnect failed: %s: %s", result.error_type, result.error_message)

    async def _sweep(self) -> None:
        """Close connections past the idle timeout or the maximum duration (1001, as AWS)."""
        interval = max(0.05, min(1.0, self.config.idle_timeout / 4, self.config.max_duration / 4))
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            for connection in list(self._connections.values()):
                if connection.ws is None or connection.server_close is not None:
                    continue
                if now - connection.opened_monotonic >= self.config.max_duration:
                    reason = "Connection duration exceeded"
                elif now - connection.last_active_monotonic >= self.config.idle_timeout:
                    reason = "Going away"
                else:
                    continue
                connection.server_close = (1001, reason)
                self._spawn(connection.ws.close(CloseCode.GOING_AWAY, reason))

    # --- the management API (@connections), called from its HTTP threads ----------------------
    def post_to_connection(self, connection_id: str, data: bytes) -> int:
        """Send ``data`` to a connection; 200, 410 when gone, 413 when too large."""
        if len(data) > self.config.message_limit:
            return 413
        connection = self._connections.get(connection_id)
        if connection is None or connection.ws is None or self._loop is None:
            return 410
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        payload: str | bytes = text if text is not None else data
        future = asyncio.run_coroutine_threadsafe(self._send_raw(connection, payload), self._loop)
        try:
            return 200 if future.result(timeout=_POST_WAIT) else 410
        except concurrent.futures.TimeoutError:
            # A slow socket is not a gone one: API Gateway accepts the message into the
            # connection's buffer and answers 200. The send stays queued; 410 only when the
            # connection has closed meanwhile (a 410 makes the handlers delete its items).
            return 200 if self._is_open(connection_id) else 410

    def _is_open(self, connection_id: str) -> bool:
        connection = self._connections.get(connection_id)
        return bool(connection and connection.ws and connection.ws.state is State.OPEN)

    async def _send_raw(self, connection: _Connection, payload: str | bytes) -> bool:
        assert connection.ws is not None
        try:
            await connection.ws.send(payload)
        except ConnectionClosed:
            return False
        return True

    def get_connection(self, connection_id: str) -> dict[str, Any] | None:
        connection = self._connections.get(connection_id)
        if connection is None:
            return None
        return {
            "connectedAt": _iso(connection.connected_at),
            "identity": {"sourceIp": connection.source_ip, "userAgent": connection.user_agent},
            "lastActiveAt": _iso(connection.last_active_at),
        }

    def lose_connection(self, connection_id: str) -> bool:
        """Test-only: drop a connection without calling ``$disconnect``.

        API Gateway calls ``$disconnect`` on a best-effort basis; this is the case where the call
        never comes, and the connection's items stay behind (a stale connection: 410 Gone).
        """
        connection = self._connections.pop(connection_id, None)
        if connection is None or connection.ws is None or self._loop is None:
            return False
        connection.lost = True
        ws = connection.ws
        self._loop.call_soon_threadsafe(ws.transport.abort)
        return True

    def delete_connection(self, connection_id: str) -> int:
        connection = self._connections.get(connection_id)
        if connection is None or connection.ws is None or self._loop is None:
            return 410
        connection.server_close = (1000, "Connection deleted")
        ws = connection.ws
        asyncio.run_coroutine_threadsafe(ws.close(CloseCode.NORMAL_CLOSURE, ""), self._loop)
        return 204

    def _start_management_api(self) -> None:
        gateway = self
        handler = type("ManagementHandler", (_ManagementHandler,), {"gateway": gateway})
        self._http = ThreadingHTTPServer((self.config.host, self.config.management_port), handler)
        self._http.daemon_threads = True
        self.management_port = self._http.server_address[1]
        self._http_thread = threading.Thread(
            target=self._http.serve_forever, name="local-management-api", daemon=True
        )
        self._http_thread.start()

    def _stop_management_api(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None
        if self._http_thread is not None:
            self._http_thread.join(timeout=5)
            self._http_thread = None


def _is_status(code: int) -> bool:
    try:
        HTTPStatus(code)
    except ValueError:
        return False
    return True


class _ManagementHandler(BaseHTTPRequestHandler):
    """``/{stage}/@connections/{id}`` as the ``apigatewaymanagementapi`` client calls it.

    Requests are not checked for a SigV4 signature (the local credentials are dummies)."""

    gateway: Gateway
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("management API: " + format, *args)

    def _connection_id(self) -> str | None:
        path = urllib.parse.urlsplit(self.path).path
        prefix = f"/{self.gateway.config.stage}/@connections/"
        if not path.startswith(prefix):
            return None
        return urllib.parse.unquote(path[len(prefix) :]) or None

    def _answer(self, status: int, body: dict[str, Any] | None = None, error: str = "") -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        if error:
            self.send_header("x-amzn-ErrorType", error)
        self.send_header("x-amzn-RequestId", _aws_id())
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _not_found(self) -> None:
        self._answer(403, {"message": "Forbidden"}, "ForbiddenException")

    def _gone(self) -> None:
        self._answer(410, {"message": None}, "GoneException")

    def do_POST(self) -> None:
        connection_id = self._connection_id()
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else b""
        if connection_id is None:
            self._not_found()
            return
        status = self.gateway.post_to_connection(connection_id, data)
        if status == 410:
            self._gone()
        elif status == 413:
            self._answer(413, {"message": "Message too long"}, "PayloadTooLargeException")
        else:
            self._answer(200)

    def do_GET(self) -> None:
        connection_id = self._connection_id()
        if connection_id is None:
            self._not_found()
            return
        info = self.gateway.get_connection(connection_id)
        if info is None:
            self._gone()
        else:
            self._answer(200, info)

    def do_DELETE(self) -> None:
        connection_id = self._connection_id()
        if connection_id is None:
            self._not_found()
            return
        if self.gateway.delete_connection(connection_id) == 410:
            self._gone()
        else:
            self._answer(204)


# --- the authorizer's policy ------------------------------------------------------------------
def _statements(policy: Any) -> list[dict[str, Any]]:
    if not isinstance(policy, dict):
        raise ValueError("policyDocument is not an object")
    statements = policy.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise ValueError("policyDocument has no Statement")
    return statements


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise ValueError(f"not a string or a list of strings: {value!r}")


def _matches(patterns: list[str], value: str) -> bool:
    def glob(p: str) -> str:
        return p.replace("[", "[[]")

    return any(fnmatch.fnmatchcase(value, glob(p)) for p in patterns)


def evaluate_policy(output: Any, method_arn: str) -> tuple[str, dict[str, Any]]:
    """Enforce a REQUEST authorizer's output as API Gateway does.

    Returns ``(principalId, context)`` when the policy allows ``execute-api:Invoke`` on
    ``method_arn``; raises :class:`HandshakeRefused` 403 on an explicit or implicit deny and 500
    on a malformed output (no principal, bad policy, context values that are not scalars, or an
    output larger than 8 KB). Context values reach the integration as strings, as API Gateway
    passes them.
    """
    try:
        if len(json.dumps(output)) > AUTHORIZER_RESULT_LIMIT:
            raise ValueError("authorizer result larger than 8 KB")
        if not isinstance(output, dict) or not isinstance(output.get("principalId"), str):
            raise ValueError("no principalId")
        allowed = denied = False
        for statement in _statements(output.get("policyDocument")):
            actions = _as_list(statement.get("Action", []))
            resources = _as_list(statement.get("Resource", []))
            if not (_matches(actions, "execute-api:Invoke") and _matches(resources, method_arn)):
                continue
            effect = statement.get("Effect")
            if effect == "Deny":
                denied = True
            elif effect == "Allow":
                allowed = True
            else:
                raise ValueError(f"bad Effect {effect!r}")
        context = output.get("context") or {}
        if not isinstance(context, dict):
            raise ValueError("context is not an object")
        flat: dict[str, Any] = {}
        for key, value in context.items():
            if value is None:
                continue
            if isinstance(value, bool):
                flat[key] = "true" if value else "false"
            elif isinstance(value, str | int | float):
                flat[key] = str(value)
            else:
                raise ValueError(f"context value of {key!r} is not a string, number or boolean")
    except (ValueError, TypeError) as exc:
        logger.error("authorizer output rejected: %s", exc)
        raise HandshakeRefused(500, "Internal Server Error") from exc
    if denied or not allowed:
        raise HandshakeRefused(403, "Forbidden")
    return output["principalId"], flat


__all__ = [
    "Gateway",
    "GatewayConfig",
    "HandshakeRefused",
    "Integration",
    "Route",
    "evaluate_policy",
]
