"""Sending messages to connections: one, or many in parallel.

A connection that has gone away is an outcome (:meth:`Notifier.post` returns False), never a
crash: its `$disconnect` does the cleanup. The transport is a :class:`Poster` (the data layer's
``ManagementApi`` in Lambda, a recording fake in the logic tests).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Protocol

from session_service.messages import encode
from session_service.observability import hash_id, logger

if TYPE_CHECKING:
    from collections.abc import Iterable

    from session_service.messages import Message

_FAN_OUT_WORKERS = 16


class Poster(Protocol):
    """Sends bytes to one connection, or closes it; False when it is gone."""

    def post(self, connection_id: str, data: bytes) -> bool: ...

    def close(self, connection_id: str) -> bool: ...


class Notifier:
    def __init__(self, poster: Poster) -> None:
        self._poster = poster

    def post(self, connection_id: str, message: Message) -> bool:
        """Send one message; False when the connection is gone (410)."""
        if self._poster.post(connection_id, encode(message)):
            return True
        logger.info("connection gone", extra={"connection": hash_id(connection_id)})
        return False

    def close(self, connection_id: str) -> bool:
        """Close one connection; False when it was already gone (410)."""
        return self._poster.close(connection_id)

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
