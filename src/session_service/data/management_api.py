"""Posting to connections through the API Gateway Management API (``@connections``).

A connection that has gone away answers 410 (``GoneException``): an outcome (False), never an
error. Any other SDK failure becomes :class:`~session_service.data.errors.DeliveryFailed`, so
the logic never handles a botocore error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from session_service.data.errors import DeliveryFailed

GONE = "GoneException"
_GONE_STATUS = 410


def is_gone(exc: ClientError) -> bool:
    error = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return error.get("Code") == GONE or status == _GONE_STATUS


class ManagementApi:
    """The ``@connections`` endpoint of one API stage, over an injected boto3 client."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def post(self, connection_id: str, data: bytes) -> bool:
        """Send ``data`` to one connection; False when the connection is gone (410)."""
        return self._call(
            "PostToConnection",
            lambda: self._client.post_to_connection(ConnectionId=connection_id, Data=data),
        )

    def close(self, connection_id: str) -> bool:
        """Close one connection (DELETE @connections); False when it is already gone (410)."""
        return self._call(
            "DeleteConnection",
            lambda: self._client.delete_connection(ConnectionId=connection_id),
        )

    @staticmethod
    def _call(operation: str, call: Callable[[], object]) -> bool:
        """One @connections call: True when done, False when the connection is gone (410); any
        other failure is the project's DeliveryFailed, not the SDK's error."""
        try:
            call()
        except ClientError as exc:
            if is_gone(exc):
                return False
            raise DeliveryFailed(f"{operation} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise DeliveryFailed(f"{operation} failed: {exc}") from exc
        return True
