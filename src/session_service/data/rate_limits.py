"""Fixed-window rate limits and the active-sessions counter, in the RateLimits table.

Each check is one conditional ``UpdateItem``: the item of the current window is created by its
first ``ADD`` and refused once it reaches the limit. The window start is part of the key
(``{operation}:{kind}:{subject}:{windowStart}``), so a new window is a new item and no request
ever has to reset a counter (no read-then-write, no reset race); ``expiresAt`` lets DynamoDB
delete old windows. A refusal is an outcome; any other SDK failure is
:class:`~session_service.data.errors.StoreError`.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from session_service import constants as c
from session_service.data.dynamo import is_condition_failure, n, plain, s, sdk_errors
from session_service.models import RateDecision

# The one item counting sessions that are active; never expires.
ACTIVE_SESSIONS_COUNTER = "activeSessions:service:all"
# Windows are kept a little past their end so a late request still finds its window.
_EXPIRY_MARGIN_SECONDS = 60


def rate_limit_identifier(operation: str, kind: str, subject: str, window_start: int) -> str:
    return f"{operation}:{kind}:{subject}:{window_start}"


def counter_update(table: str, delta: int, limit: int | None = None) -> dict[str, Any]:
    """The active-sessions counter update, also used inside the disconnect transaction."""
    if delta > 0:
        condition = "attribute_not_exists(#count) OR #count < :limit"
        values = {":delta": n(delta), ":limit": n(limit or 0)}
    else:
        condition = "#count > :zero"
        values = {":delta": n(delta), ":zero": n(0)}
    return {
        "TableName": table,
        "Key": {c.RATE_LIMITS_KEY: s(ACTIVE_SESSIONS_COUNTER)},
        "UpdateExpression": "ADD #count :delta",
        "ConditionExpression": condition,
        "ExpressionAttributeNames": {"#count": "count"},
        "ExpressionAttributeValues": values,
    }


class RateLimitStore:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def consume(
        self, operation: str, kind: str, subject: str, limit: int, window_s: int, now_s: int
    ) -> RateDecision:
        """Count one event of ``subject``; refused when the window already holds ``limit``."""
        window_start = now_s - now_s % window_s
        window_end = window_start + window_s
        identifier = rate_limit_identifier(operation, kind, subject, window_start)
        with sdk_errors("UpdateItem"):
            return self._consume(identifier, limit, window_start, window_end, now_s)

    def _consume(
        self, identifier: str, limit: int, window_start: int, window_end: int, now_s: int
    ) -> RateDecision:
        try:
            self._client.update_item(
                TableName=self._table,
                Key={c.RATE_LIMITS_KEY: s(identifier)},
                UpdateExpression="ADD #count :one SET windowStart = :ws, #exp = :exp",
                ConditionExpression="attribute_not_exists(#count) OR #count < :limit",
                ExpressionAttributeNames={"#count": "count", "#exp": c.RATE_LIMITS_TTL_ATTRIBUTE},
                ExpressionAttributeValues={
                    ":one": n(1),
                    ":ws": n(window_start),
                    ":exp": n(window_end + _EXPIRY_MARGIN_SECONDS),
                    ":limit": n(limit),
                },
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return RateDecision(allowed=False, retry_after=max(1, window_end - now_s))
            raise
        return RateDecision(allowed=True)

    def acquire_session_slot(self, max_active: int) -> int | None:
        """Count one more active session; the new total, or ``None`` when at ``max_active``."""
        with sdk_errors("UpdateItem"):
            try:
                response = self._client.update_item(
                    **counter_update(self._table, +1, max_active), ReturnValues="UPDATED_NEW"
                )
            except ClientError as exc:
                if is_condition_failure(exc):
                    return None
                raise
        return int(plain(response.get("Attributes")).get("count", 0))

    def release_session_slot(self) -> None:
        """Undo :meth:`acquire_session_slot` (never below zero)."""
        with sdk_errors("UpdateItem"):
            try:
                self._client.update_item(**counter_update(self._table, -1))
            except ClientError as exc:
                if not is_condition_failure(exc):
                    raise
