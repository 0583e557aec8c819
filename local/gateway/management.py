"""The ``@connections`` management API over HTTP, on its own port.

The HTTP side only: paths, status codes and error headers as the ``apigatewaymanagementapi``
client expects them. What a post, a get or a delete does to a connection is the server's
(:class:`Connections`), which owns the sockets and their event loop.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from local.gateway.events import aws_id

# One logger for the whole gateway: bench/counting.py counts the request lines logged here.
logger = logging.getLogger("local.gateway")


class Connections(Protocol):
    """The operations the management API performs, as the gateway's server implements them."""

    @property
    def stage(self) -> str: ...

    def post_to_connection(self, connection_id: str, data: bytes) -> int: ...

    def get_connection(self, connection_id: str) -> dict[str, Any] | None: ...

    def delete_connection(self, connection_id: str) -> int: ...


class _Server(ThreadingHTTPServer):
    """socketserver's listen backlog is 5: a burst of new connections (every function's workers
    posting to the sockets they serve) overflows it, and the kernel drops the SYNs it cannot queue;
    the client's retransmission then waits 1 s, 3 s, 7 s. 128 is the backlog werkzeug (moto) and
    asyncio (the WebSocket side) listen with."""

    request_queue_size = 128


class ManagementApi:
    """The HTTP server of the management API, serving in a background thread."""

    def __init__(self, connections: Connections, host: str, port: int) -> None:
        handler = type("ManagementHandler", (_ManagementHandler,), {"connections": connections})
        self._http: ThreadingHTTPServer | None = _Server((host, port), handler)
        self._http.daemon_threads = True
        self.port: int = self._http.server_address[1]
        self._thread: threading.Thread | None = threading.Thread(
            target=self._http.serve_forever, name="local-management-api", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


class _ManagementHandler(BaseHTTPRequestHandler):
    """``/{stage}/@connections/{id}`` as the ``apigatewaymanagementapi`` client calls it.

    Requests are not checked for a SigV4 signature (the local credentials are dummies)."""

    connections: Connections
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("management API: " + format, *args)

    def _connection_id(self) -> str | None:
        path = urllib.parse.urlsplit(self.path).path
        prefix = f"/{self.connections.stage}/@connections/"
        if not path.startswith(prefix):
            return None
        return urllib.parse.unquote(path[len(prefix) :]) or None

    def _answer(self, status: int, body: dict[str, Any] | None = None, error: str = "") -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        if error:
            self.send_header("x-amzn-ErrorType", error)
        self.send_header("x-amzn-RequestId", aws_id())
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
        status = self.connections.post_to_connection(connection_id, data)
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
        info = self.connections.get_connection(connection_id)
        if info is None:
            self._gone()
        else:
            self._answer(200, info)

    def do_DELETE(self) -> None:
        connection_id = self._connection_id()
        if connection_id is None:
            self._not_found()
            return
        if self.connections.delete_connection(connection_id) == 410:
            self._gone()
        else:
            self._answer(204)
