"""Posting messages to connections through the API Gateway Management API.

A connection that has gone away answers 410 (``GoneException``); that is an outcome
(:meth:`Notifier.post` returns False), never a crash.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from session_service.messages import encode
from session_service.observability import hash_id, logger

if TYPE_CHECKING:
    from collections.abc import Iterable

    from session_service.messages import Message

_FAN_OUT_WORKERS = 16


def is_gone(exc: ClientError) -> bool:
    error = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return error.get("Code") == "GoneException" or status == 410


class Notifier:
    def __init__(self, client: Any) -> None:
        self._client = client

    def post(self, connection_id: str, message: Message) -> bool:
        """Send one message; False when the connection is gone (410)."""
        try:
            self._client.post_to_connection(ConnectionId=connection_id, Data=encode(message))
        except ClientError as exc:
            if is_gone(exc):
                logger.info("connection gone", extra={"connection": hash_id(connection_id)})
                return False
            raise
        return True

    def post_all(self, connection_ids: Iterable[str], message: Message) -> dict[str, bool]:
        """Send one message to many connections in parallel; connection id -> delivered.

        A connection that fails for another reason than 410 counts as not delivered and is
        logged; one bad connection does not stop the others.
        """
        ids = list(connection_ids)

        def send(connection_id: str) -> bool:
            try:
                return self.post(connection_id, message)
            except Exception:
                logger.exception(
                    "post to connection failed", extra={"connection": hash_id(connection_id)}
                )
                return False

        if len(ids) <= 1:
            return {cid: send(cid) for cid in ids}
        with ThreadPoolExecutor(max_workers=min(_FAN_OUT_WORKERS, len(ids))) as pool:
            return dict(zip(ids, pool.map(send, ids), strict=True))
