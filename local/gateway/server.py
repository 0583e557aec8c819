"""The gateway's server: WebSocket handshakes, routing, sockets' lifetimes, ``@connections`` ops.

The event shapes are :mod:`local.gateway.events`', the authorizer's policy is enforced by
:mod:`local.gateway.policy`, and the management API's HTTP side is :mod:`local.gateway.management`;
this module decides when each integration runs and what the client gets back.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import json
import logging
import threading
import time
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode
from websockets.http11 import Request, Response
from websockets.protocol import State

from local.gateway import events
from local.gateway.api import (
    CONNECT,
    DEFAULT,
    DISCONNECT,
    URL_LIMIT,
    GatewayConfig,
    HandshakeRefused,
    Integration,
    Route,
)
from local.gateway.events import Connection
from local.gateway.faults import FanOutKill, GatewayFaults
from local.gateway.management import ManagementApi
from local.gateway.policy import evaluate_policy
from local.runtime import InvokeResult

# One logger for the whole gateway (bench/counting.py listens on it).
logger = logging.getLogger("local.gateway")

# API Gateway's integration timeout bounds how long a handshake may wait for $connect.
_HANDSHAKE_TIMEOUT = 30.0
# How long a management-API post waits for the socket before answering for a live connection:
# well inside the handlers' SDK read timeout, so a slow socket never makes them retry a post.
_POST_WAIT = 2.0


class Gateway:
    """The local gateway. ``start()`` serves in a background thread; ``stop()`` ends it."""

    def __init__(self, config: GatewayConfig, routes: dict[str, Route], ready: bool = True) -> None:
        self.config = config
        self.routes = routes
        # Until ready, every handshake is refused with 503 (routes not in place yet).
        self.ready = ready
        self._connections: dict[str, Connection] = {}
        self._pending: dict[Any, Connection] = {}  # ServerConnection.id -> during $connect
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=64, thread_name_prefix="integration"
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: Server | None = None
        self._management: ManagementApi | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopping: asyncio.Event | None = None
        self.port: int | None = None
        self.management_port: int | None = None
        # Test-only faults (local.gateway.faults), all off unless a test arms one.
        self.faults = GatewayFaults()
        self._dying: FanOutKill | None = None  # the $disconnect a kill fault is armed on

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
        connection = events.new_connection(ws, request)
        event = events.connect_event(self.config, connection, query)
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
            return self._refusal(ws, refused)
        self._pending[ws.id] = connection
        ws.connection_lost_waiter.add_done_callback(lambda _: self._abandoned(ws))
        return None

    def _abandoned(self, ws: ServerConnection) -> None:
        """The client went away before its handshake completed, after ``$connect`` succeeded.

        API Gateway calls ``$disconnect`` after a connection that was established closes; one
        whose handshake the client abandoned never was, and gets none (local/README.md, "An
        abandoned handshake"): its items stay until the janitor finds them silent.
        """
        connection = self._pending.pop(ws.id, None)
        if connection is not None:
            logger.info(
                "handshake of %s abandoned by the client after $connect: no $disconnect",
                connection.connection_id,
            )

    async def _invoke(self, integration: Integration, event: dict[str, Any]) -> InvokeResult:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, integration, event)

    async def _authorize(self, connection: Connection, connect_event: dict[str, Any]) -> None:
        route = self.routes.get(CONNECT)
        if route is None or route.authorizer is None:
            return
        event = events.authorizer_event(self.config, connect_event)
        started = time.monotonic()
        result = await self._invoke(route.authorizer, event)
        latency = int((time.monotonic() - started) * 1000)
        if not result.ok:
            if result.error_message == "Unauthorized":
                raise HandshakeRefused(401, "Unauthorized")
            logger.error("authorizer failed: %s: %s", result.error_type, result.error_message)
            raise HandshakeRefused(500, "Internal Server Error")
        principal, context = evaluate_policy(result.payload, self.config.method_arn)
        connection.authorizer = {**context, "principalId": principal, "integrationLatency": latency}
        connect_event["requestContext"]["authorizer"] = dict(connection.authorizer)

    async def _run_connect(self, connection: Connection, event: dict[str, Any]) -> None:
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
            body = result.payload.get("body")
            raise HandshakeRefused(
                status,
                HTTPStatus(status).phrase if _is_status(status) else "",
                body if isinstance(body, str) else None,
            )

    def _refusal(self, ws: ServerConnection, refused: HandshakeRefused) -> Response:
        """The answer to a refused handshake: the status and its phrase, as API Gateway gives.

        With ``explain_refusals`` (``make local``), the integration's body instead, and a
        Retry-After header from its ``details.retryAfter`` when there is one.
        """
        if not (self.config.explain_refusals and refused.body):
            return ws.respond(refused.status, f"{refused.reason}\n")
        response = ws.respond(refused.status, f"{refused.body}\n")
        del response.headers["Content-Type"]
        response.headers["Content-Type"] = "application/json"
        retry_after = _retry_after(refused.body)
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response

    # --- an open connection -----------------------------------------------------------------
    async def _handle(self, ws: ServerConnection) -> None:
        connection = self._pending.pop(ws.id, None)
        if connection is None:  # abandoned before the handler ran (see _abandoned)
            return
        connection.ws = ws
        connection.opened_monotonic = connection.last_active_monotonic = time.monotonic()
        self._connections[connection.connection_id] = connection
        logger.info("connected %s from %s", connection.connection_id, connection.source_ip)
        try:
            async for message in ws:
                connection.last_active_monotonic = time.monotonic()
                connection.last_active_at = events.now_ms()
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
            if connection.lost:
                pass
            elif self.faults.loses(connection.connection_id):
                logger.warning("fault: $disconnect of %s lost", connection.connection_id)
            else:
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

    async def _dispatch(self, connection: Connection, body: str) -> None:
        key = self.select_route(body)
        context = events.message_context(self.config, connection, key or DEFAULT)
        if key is None:
            await self._reply(connection, "Forbidden", context["requestId"])
            return
        route = self.routes[key]
        result = await self._invoke(route.integration, events.message_event(context, body))
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

    async def _reply(self, connection: Connection, message: str, request_id: str) -> None:
        payload = {
            "message": message,
            "connectionId": connection.connection_id,
            "requestId": request_id,
        }
        await self._send(connection, json.dumps(payload))

    async def _send(self, connection: Connection, data: str) -> bool:
        if connection.ws is None:
            return False
        try:
            await connection.ws.send(data)
        except ConnectionClosed:
            return False
        return True

    async def _disconnect(self, connection: Connection) -> None:
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
        event = events.disconnect_event(self.config, connection, code, reason)
        kill = self.faults.kill_for(connection.connection_id)
        if kill is None:
            result = await self._invoke(route.integration, event)
        else:
            result = await self._invoke_dying(route.integration, event, kill)
        if not result.ok:
            logger.error("$disconnect failed: %s: %s", result.error_type, result.error_message)

    async def _invoke_dying(
        self, integration: Integration, event: dict[str, Any], kill: FanOutKill
    ) -> InvokeResult:
        """The integration, run under an armed kill fault (``FunctionRuntime.invoke``'s hook
        tells the fault how to kill the worker it runs in)."""
        self._dying = kill
        try:
            invoke: Any = integration
            return await self._invoke(functools.partial(invoke, on_worker=kill.attach), event)
        finally:
            self._dying = None

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
        dying = self._dying
        if dying is not None:
            return dying.post(lambda: self._post(connection_id, connection, payload))
        return self._post(connection_id, connection, payload)

    def _post(self, connection_id: str, connection: Connection, payload: str | bytes) -> int:
        assert self._loop is not None
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

    async def _send_raw(self, connection: Connection, payload: str | bytes) -> bool:
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
            "connectedAt": events.iso(connection.connected_at),
            "identity": {"sourceIp": connection.source_ip, "userAgent": connection.user_agent},
            "lastActiveAt": events.iso(connection.last_active_at),
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

    @property
    def stage(self) -> str:
        """The stage the management API serves (``/{stage}/@connections/…``)."""
        return self.config.stage

    def _start_management_api(self) -> None:
        self._management = ManagementApi(self, self.config.host, self.config.management_port)
        self.management_port = self._management.port

    def _stop_management_api(self) -> None:
        if self._management is not None:
            self._management.stop()
            self._management = None


def _retry_after(body: str) -> int | None:
    """Whole seconds from an error body's ``details.retryAfter``, if it has one."""
    try:
        details = json.loads(body).get("details")
        value = details.get("retryAfter") if isinstance(details, dict) else None
    except (ValueError, AttributeError):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return int(value)
    return None


def _is_status(code: int) -> bool:
    try:
        HTTPStatus(code)
    except ValueError:
        return False
    return True
