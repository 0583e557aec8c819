"""Real local HTTP servers the tests talk to (127.0.0.1, a free port, stopped by the test).

- :class:`ManagementApiServer` stands in for API Gateway's Management API: it records every
  ``POST /{stage}/@connections/{id}`` and answers 410 GoneException for connection ids marked
  gone, exactly as API Gateway does for a closed socket.
- :class:`JwksServer` serves a user pool's JWKS document and counts the fetches.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Server:
    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.owner = self  # type: ignore[attr-defined]
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)


class _ManagementHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        owner: ManagementApiServer = self.server.owner  # type: ignore[attr-defined]
        length = int(self.headers.get("content-length", 0))
        data = self.rfile.read(length)
        connection_id = self._connection_id(owner)
        if connection_id is None:
            return
        if connection_id in owner.gone:
            owner.record_gone(connection_id)
            self._answer(410, {"message": "Gone"}, error_type="GoneException")
            return
        owner.record(connection_id, json.loads(data))
        self._answer(200, None)

    def _connection_id(self, owner: ManagementApiServer) -> str | None:
        """The connection id of an @connections path of this stage; else 404 answered, None."""
        prefix = f"/{owner.stage}/@connections/"
        if not self.path.startswith(prefix):
            self._answer(404, {"message": "Not Found"})
            return None
        return urllib.parse.unquote(self.path[len(prefix) :])

    def do_DELETE(self) -> None:
        """Close a connection (DeleteConnection): recorded; 410 when it is gone."""
        owner: ManagementApiServer = self.server.owner  # type: ignore[attr-defined]
        connection_id = self._connection_id(owner)
        if connection_id is None:
            return
        if connection_id in owner.gone:
            self._answer(410, {"message": "Gone"}, error_type="GoneException")
            return
        owner.record_close(connection_id)
        self._answer(204, None)

    def _answer(self, status: int, body: Any, error_type: str | None = None) -> None:
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        if error_type:
            self.send_header("x-amzn-ErrorType", error_type)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


class ManagementApiServer(_Server):
    def __init__(self, stage: str = "prod") -> None:
        self.stage = stage
        self.gone: set[str] = set()
        self.posts: list[tuple[str, dict[str, Any]]] = []
        self.gone_attempts: list[str] = []
        self.closed: list[str] = []
        self._lock = threading.Lock()
        super().__init__(_ManagementHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{self.stage}"

    def record(self, connection_id: str, message: dict[str, Any]) -> None:
        with self._lock:
            self.posts.append((connection_id, message))

    def record_close(self, connection_id: str) -> None:
        with self._lock:
            self.closed.append(connection_id)

    def record_gone(self, connection_id: str) -> None:
        with self._lock:
            self.gone_attempts.append(connection_id)

    def messages(self, connection_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [m for cid, m in self.posts if cid == connection_id]

    def types(self, connection_id: str) -> list[str]:
        return [m["type"] for m in self.messages(connection_id)]

    def clear(self) -> None:
        with self._lock:
            self.posts.clear()
            self.gone_attempts.clear()
            self.closed.clear()


class _JwksHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        owner: JwksServer = self.server.owner  # type: ignore[attr-defined]
        owner.fetches += 1
        payload = json.dumps(owner.document).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


class JwksServer(_Server):
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.fetches = 0
        super().__init__(_JwksHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/pool/.well-known/jwks.json"
